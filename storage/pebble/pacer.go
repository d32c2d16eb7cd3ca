package pebble

import (
	"sync"
	"sync/atomic"
	"time"
)

// syncPacer decides, after each sync of the write-ahead log, whether the next
// one waits a little (Pebble's WALMinSyncInterval). A sync costs this node
// most of 200 µs of CPU whatever it carries, so while requests arrive faster
// than syncs can be spared, holding each sync for syncHold lets several
// times more requests share it, and that CPU goes to the requests instead.
// At a lower rate a held sync would only add its wait to every answer, so
// syncs are held only while the rate of requests waiting on commits
// (storage.Batch.Waiting) stays at holdRate or more.
type syncPacer struct {
	now func() time.Time
	// waiting counts requests of every group handed to the log, ever.
	waiting atomic.Uint64

	mu          sync.Mutex
	windowStart time.Time
	windowCount uint64
	hold        bool
}

const (
	// syncHold is how long a sync waits after the previous one under load.
	syncHold = 500 * time.Microsecond
	// holdRate is the rate of waiting requests, per second, from which
	// syncs are held: at it, about holdRate×syncHold = 5 more requests
	// share each sync.
	holdRate = 10_000
	// pacerWindow is how often the rate is measured again.
	pacerWindow = 10 * time.Millisecond
)

func newSyncPacer(now func() time.Time) *syncPacer {
	return &syncPacer{now: now, windowStart: now()}
}

// committed counts the requests that wait on a group handed to the log.
func (p *syncPacer) committed(waiting int) {
	if waiting > 0 {
		p.waiting.Add(uint64(waiting))
	}
}

// interval is the WALMinSyncInterval: Pebble asks after each sync.
func (p *syncPacer) interval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if elapsed := now.Sub(p.windowStart); elapsed >= pacerWindow {
		n := p.waiting.Load()
		p.hold = float64(n-p.windowCount) >= holdRate*elapsed.Seconds()
		p.windowStart, p.windowCount = now, n
	}
	if p.hold {
		return syncHold
	}
	return 0
}
