package processor_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/internal/fakeclock"
	"eddy/storage"
)

// segmentGuard wraps a handler and records any moment where two nodes
// handle events of one segment at once.
type segmentGuard struct {
	inner processor.Handler
	node  string
	state *guardState
}

type guardState struct {
	mu         sync.Mutex
	busy       map[int]string
	violations []string
}

func (g segmentGuard) Handle(ctx context.Context, d processor.Delivery) error {
	s := g.state
	s.mu.Lock()
	if other, ok := s.busy[d.Segment]; ok {
		s.violations = append(s.violations, fmt.Sprintf("segment %d handled by %s and %s at once", d.Segment, other, g.node))
	}
	s.busy[d.Segment] = g.node
	s.mu.Unlock()
	runtime.Gosched() // widen the window a concurrent handler would show in
	err := g.inner.Handle(ctx, d)
	s.mu.Lock()
	delete(s.busy, d.Segment)
	s.mu.Unlock()
	return err
}

// ownership counts the segments each node owns.
func ownership(t testing.TB, st *storage.Store, name string) map[string]int {
	out := map[string]int{}
	for _, s := range segments(t, st, name) {
		out[s.Owner]++
	}
	return out
}

// Nodes share a processor's segments fairly, rebalance when one joins or
// leaves, never handle one segment at the same time, and together handle
// every event once, in key order. On PostgreSQL each node has its own store,
// as separate machines would; on Pebble they share one store in one process.
func TestNodesShareSegmentsFairly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		location := b.location(t)
		first := b.open(t, location)
		storeFor := func() *storage.Store {
			if b.shared {
				return b.open(t, location)
			}
			return first
		}
		w := newLogWriter(first)
		rec := newRecorder()
		guard := &guardState{busy: map[int]string{}}
		opts := []processor.Opt{
			processor.WithInitialSegments(8), processor.WithBatchSize(10),
			processor.WithClaimInterval(10 * time.Millisecond), processor.WithClaimExtensionThreshold(500 * time.Millisecond),
			processor.WithClaimTimeout(5 * time.Second),
		}
		node := func(id string) *processor.Processor {
			st := storeFor()
			src := logSource(st)
			return newProcessor(t, "shared", st, src, segmentGuard{inner: rec, node: id, state: guard}, append(opts, processor.WithNodeID(id))...)
		}
		balanced := func(want map[string]int) func() bool {
			return func() bool {
				got := ownership(t, first, "shared")
				for n, c := range want {
					if got[n] != c {
						return false
					}
				}
				return got[""] == 0
			}
		}

		stopWriting := w.writeWhile(t, keys(12))

		a := node("a")
		start(t, a)
		waitFor(t, "a to own all 8 segments", balanced(map[string]int{"a": 8}))
		bn := node("b")
		start(t, bn)
		waitFor(t, "a and b to own 4 segments each", balanced(map[string]int{"a": 4, "b": 4}))
		c := node("c")
		start(t, c)
		waitFor(t, "three nodes to share 8 segments, at most 3 each", func() bool {
			got := ownership(t, first, "shared")
			return got[""] == 0 && got["a"] <= 3 && got["b"] <= 3 && got["c"] <= 3
		})
		stop(t, bn)
		waitFor(t, "a and c to own 4 segments each once b left", balanced(map[string]int{"a": 4, "c": 4}))
		stopWriting()
		total := w.total()
		waitFor(t, fmt.Sprintf("all %d events", total), func() bool { return rec.distinct() >= total })
		stop(t, a)
		stop(t, c)

		guard.mu.Lock()
		for _, v := range guard.violations {
			t.Error(v)
		}
		guard.mu.Unlock()
		rec.checkExactlyOnce(t, total)
		rec.checkKeyOrder(t)
	})
}

// A node limited below its fair share leaves the rest to the others: no
// segment stays unclaimed, and nobody gives segments up for a node that
// cannot take them.
func TestFairShareRespectsLimits(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	node := func(id string, opts ...processor.Opt) *processor.Processor {
		return newProcessor(t, "limited", st, processor.NewMemorySource(1, clock.Now), newRecorder(),
			append(append(fakeClaims(clock, id), processor.WithInitialSegments(8)), opts...)...)
	}
	start(t, node("a"))
	waitFor(t, "a to own all 8", func() bool { return ownership(t, st, "limited")["a"] == 8 })
	start(t, node("b", processor.WithMaxClaimedSegments(2)))
	settled := func() bool {
		got := ownership(t, st, "limited")
		return got["a"] == 6 && got["b"] == 2
	}
	for round := 0; !settled(); round++ {
		if round == 10 {
			t.Fatalf("after 10 claim rounds: %v, want a=6 b=2", ownership(t, st, "limited"))
		}
		advance(t, clock, testClaimInterval, 2)
	}
	for range 10 {
		advance(t, clock, testClaimInterval, 2)
		if !settled() {
			t.Fatalf("ownership moved to %v after settling at a=6 b=2", ownership(t, st, "limited"))
		}
	}
}
