package storagetest

import (
	"sync"
	"time"
)

// Clock is a settable fake clock for storage.WithClock, safe for concurrent
// use. It moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time; pass c.Now to storage.WithClock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d; a negative d moves it backwards.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// clockStart is where the suite's fake clocks start: a whole second, so
// that millisecond timestamps compare exactly.
var clockStart = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
