// Package gctarget holds the garbage collector target Eddy runs with, so
// that the binary and the benchmarks that stand for it use the same one.
package gctarget

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The target follows the live heap. A node whose live heap is small (tens
// of MB) while it allocates hundreds of MB a second under load would, at
// Go's default of 100, collect dozens of times a second and scan every
// waiting request's stack each time; MaxPercent spends a few more MB to
// collect a quarter as often. But a node whose live heap is large (the
// broker's duplicate window holds a minute of events, hundreds of MB) gains
// nothing from that headroom: it collects seldom anyway, and every MB of
// headroom is memory first touched, a page fault per 4 KB, which cost the
// ingress 6% of its CPU at 400 against 100. So the headroom is Floor, or
// the live heap itself when that is larger, within MinPercent..MaxPercent.
const (
	MaxPercent = 400
	MinPercent = 100
	Floor      = 160 << 20
)

// percentFor is the target for a live heap of live bytes.
func percentFor(live, floor uint64) int {
	if live == 0 {
		return MaxPercent
	}
	return int(min(max(floor*100/live, MinPercent), MaxPercent))
}

// Apply sets the target, and keeps it following the live heap after each
// collection, unless GOGC chooses. It returns a function that stops that and
// restores the previous target.
func Apply() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	return follow(Floor)
}

// tuner resets the target after each collection. Go has no hook for the end
// of a cycle, so it leaves an object unreachable and is called back by its
// finalizer, which the collector queues once the cycle has found it so.
type tuner struct {
	floor   uint64
	sample  []metrics.Sample
	mu      sync.Mutex
	percent int // the target set last
	stopped bool
	old     int
}

// sentinel holds a pointer so that it is not a tiny allocation: tiny objects
// share a block, and a finalizer on one may never run.
type sentinel struct {
	_ *tuner
	_ [8]byte
}

func follow(floor uint64) (restore func()) {
	t := &tuner{floor: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.percent = percentFor(t.live(), floor)
	t.old = debug.SetGCPercent(t.percent)
	t.arm()
	return t.stop
}

func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, t.collected)
}

func (t *tuner) live() uint64 {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return t.sample[0].Value.Uint64()
}

func (t *tuner) collected(*sentinel) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	if p := percentFor(t.live(), t.floor); p != t.percent {
		debug.SetGCPercent(p)
		t.percent = p
	}
	t.arm()
}

func (t *tuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	debug.SetGCPercent(t.old)
}
