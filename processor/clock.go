package processor

import "time"

// Clock is the processor's time source: claim times, back-off waits, the
// claim loop's rhythm and Since tokens. Tests inject a fake one and move it
// by hand, so that no test sleeps through a back-off.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
