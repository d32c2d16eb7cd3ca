package processor_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/internal/fakeclock"
	"eddy/storage"
)

// Claim settings of the fake-clock tests: a claim round every second.
const (
	testClaimInterval = time.Second
	testThreshold     = 2 * time.Second
	testClaimTimeout  = 5 * time.Second
)

func fakeClaims(clock *fakeclock.Clock, node string) []processor.Opt {
	return []processor.Opt{
		processor.WithClock(clock), processor.WithNodeID(node),
		processor.WithClaimInterval(testClaimInterval), processor.WithClaimExtensionThreshold(testThreshold),
		processor.WithClaimTimeout(testClaimTimeout),
	}
}

// advance moves the fake clock and waits until the supervisors running on
// it have each finished the loop that woke (each waits on the clock again).
func advance(t testing.TB, clock *fakeclock.Clock, d time.Duration, supervisors int) {
	t.Helper()
	clock.Advance(d)
	waitFor(t, "the supervisors to finish their round", func() bool { return clock.Waiting() >= supervisors })
}

func owner(t testing.TB, st *storage.Store, name string, id int) string {
	t.Helper()
	for _, s := range segments(t, st, name) {
		if s.ID == id {
			return s.Owner
		}
	}
	t.Fatalf("processor %s has no segment %d", name, id)
	return ""
}

// An idle processor extends its claims: nobody can steal them, however long
// it runs.
func TestClaimsExtendedWhileIdle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now))
		p := newProcessor(t, "proc", st, processor.NewMemorySource(1, clock.Now), newRecorder(),
			append(fakeClaims(clock, "a"), processor.WithInitialSegments(2))...)
		start(t, p)
		waitFor(t, "both segments claimed", func() bool { return owner(t, st, "proc", 0) == "a" && owner(t, st, "proc", 1) == "a" })
		for range 3 * testClaimTimeout / testClaimInterval {
			advance(t, clock, testClaimInterval, 1)
			for id := range 2 {
				_, err := st.Tokens().ClaimSegment(t.Context(), "proc", id, "thief", testClaimTimeout)
				if !errors.Is(err, storage.ErrClaimed) {
					t.Fatalf("at %v a thief claims segment %d of an idle, running processor: %v, want ErrClaimed", clock.Now().Sub(epoch), id, err)
				}
			}
		}
	})
}

// A segment whose position moved past the events of other segments, and
// that then went quiet, has the moved position in the store once its claim
// is next extended: the position other nodes read (and a status's lag) is
// not stuck where its last handled event left it.
func TestQuietSegmentStoresItsMovedPosition(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now))
		src := processor.NewMemorySource(1, clock.Now)
		rec := newRecorder()
		p := newProcessor(t, "proc", st, src, rec, append(fakeClaims(clock, "a"), processor.WithInitialSegments(2))...)
		start(t, p)
		// One key: one segment handles every event, the other only reads
		// past them.
		const n = 20
		for range n {
			src.Append(0, processor.Event{Key: "one"})
		}
		waitFor(t, "the events handled", func() bool { return rec.distinct() == n })
		for range 3 * testThreshold / testClaimInterval {
			advance(t, clock, testClaimInterval, 1)
		}
		waitFor(t, "both segments' stored positions to cover the log", func() bool {
			infos, err := processor.Inspect(t.Context(), st, "proc")
			if err != nil || len(infos) != 2 {
				return false
			}
			for _, in := range infos {
				if in.Position.Offset("", 0) != n {
					return false
				}
			}
			return true
		})
	})
}

// holdingProcessor starts processor "proc" (one segment, node a) on an
// event of each key, in order, whose handler calls before first and, unless
// it says to go on, holds the event until release is called (or the work
// package ends). It returns once the handler holds an event.
func holdingProcessor(t *testing.T, st *storage.Store, clock *fakeclock.Clock, before func(processor.Delivery) (goOn bool), keys ...string) (release func()) {
	t.Helper()
	src := processor.NewMemorySource(1, clock.Now)
	entered, held := make(chan struct{}), make(chan struct{})
	h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		if before(d) {
			return nil
		}
		close(entered)
		select {
		case <-held:
		case <-ctx.Done():
		}
		return nil
	})
	p := newProcessor(t, "proc", st, src, h, append(fakeClaims(clock, "a"), processor.WithInitialSegments(1))...)
	start(t, p)
	for _, k := range keys {
		src.Append(0, processor.Event{Key: k})
	}
	<-entered
	var once sync.Once
	return func() { once.Do(func() { close(held) }) }
}

// A handler that says it is at work (KeepAlive) for longer than the claim
// timeout keeps its claim: it is waiting, not stuck. Past the time it
// gave, it is stuck again, and its claim lapses.
func TestKeepAliveHoldsTheClaimOfAWaitingHandler(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now))
		const wait = 4 * testClaimTimeout
		release := holdingProcessor(t, st, clock, func(d processor.Delivery) bool {
			d.KeepAlive(clock.Now().Add(wait))
			return false
		}, "slow")
		thief := func() error {
			_, err := st.Tokens().ClaimSegment(t.Context(), "proc", 0, "thief", testClaimTimeout)
			return err
		}
		for clock.Now().Sub(epoch) < wait-testClaimTimeout {
			advance(t, clock, testClaimInterval, 1)
			if err := thief(); !errors.Is(err, storage.ErrClaimed) {
				t.Fatalf("at %v a thief claims the segment of a handler alive until %v: %v, want ErrClaimed", clock.Now().Sub(epoch), wait, err)
			}
		}
		var err error
		for range 4 * wait / testClaimInterval {
			advance(t, clock, testClaimInterval, 1)
			if err = thief(); err == nil {
				break
			}
		}
		release()
		if err != nil {
			t.Fatalf("at %v, past the time the handler gave, the claim still holds: %v", clock.Now().Sub(epoch), err)
		}
	})
}

// An earlier event's KeepAlive does not cover a later event: a handler
// stuck on the next one lets the claim lapse as any stuck handler does.
func TestKeepAliveHoldsForItsEventOnly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now))
		release := holdingProcessor(t, st, clock, func(d processor.Delivery) bool {
			if d.Key == "quick" {
				d.KeepAlive(clock.Now().Add(time.Hour))
				return true
			}
			return false
		}, "quick", "stuck")
		defer release()
		var err error
		for range 4 * testClaimTimeout / testClaimInterval {
			advance(t, clock, testClaimInterval, 1)
			if _, err = st.Tokens().ClaimSegment(t.Context(), "proc", 0, "thief", testClaimTimeout); err == nil {
				return
			}
		}
		t.Fatalf("at %v the claim of a handler stuck on the event after a KeepAlive still holds: %v", clock.Now().Sub(epoch), err)
	})
}

// A node stuck in a handler lets its claim lapse; once another has stolen
// it, the stuck node's batch, writes included, cannot commit.
func TestStolenClaimCannotCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now))
		src := processor.NewMemorySource(1, clock.Now)
		entered, release := make(chan struct{}), make(chan struct{})
		h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
			d.Tx.Put([]byte("seen/"+d.Key), []byte("a"))
			if d.Key == "stuck" {
				close(entered)
				<-release
			}
			return nil
		})
		p := newProcessor(t, "proc", st, src, h, append(fakeClaims(clock, "a"), processor.WithInitialSegments(1))...)
		start(t, p)
		src.Append(0, processor.Event{Key: "first"}, processor.Event{Key: "stuck"})
		<-entered

		var stolen storage.Segment
		for attempt := 0; ; attempt++ {
			advance(t, clock, testClaimTimeout, 1)
			seg, err := st.Tokens().ClaimSegment(t.Context(), "proc", 0, "b", testClaimTimeout)
			if err == nil {
				stolen = seg
				break
			}
			if !errors.Is(err, storage.ErrClaimed) || attempt == 3 {
				t.Fatalf("stealing the claim of a stuck node, attempt %d: %v", attempt, err)
			}
		}
		close(release)
		waitFor(t, "node a to report its lost claim", func() bool {
			sts, _ := p.Status(t.Context())
			return len(sts) == 1 && errors.Is(sts[0].Err, processor.ErrClaimLost) && errors.Is(sts[0].Err, storage.ErrFenced) && !sts[0].Claimed
		})
		for _, key := range []string{"seen/first", "seen/stuck"} {
			if v, err := st.Get(t.Context(), 0, []byte(key)); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s = %q, %v: the fenced node's write landed", key, v, err)
			}
		}
		if seg := segments(t, st, "proc")[0]; seg.Owner != "b" || seg.Epoch != stolen.Epoch || string(seg.Token) != string(stolen.Token) {
			t.Errorf("segment 0 after the fenced commit: owner %q epoch %d, want b's claim at epoch %d and its token untouched", seg.Owner, seg.Epoch, stolen.Epoch)
		}
	})
}

// A released segment is not claimed again here before the no-reclaim
// period ends, and is afterwards.
func TestReleaseSegment(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	p := newProcessor(t, "proc", st, processor.NewMemorySource(1, clock.Now), newRecorder(),
		append(fakeClaims(clock, "a"), processor.WithInitialSegments(2))...)
	start(t, p)
	waitFor(t, "both segments claimed", func() bool { return owner(t, st, "proc", 1) == "a" })
	if err := p.ReleaseSegment(t.Context(), 1, 5*testClaimInterval); err != nil {
		t.Fatal(err)
	}
	if o := owner(t, st, "proc", 1); o != "" {
		t.Fatalf("released segment 1 is owned by %q", o)
	}
	for i := range 4 {
		advance(t, clock, testClaimInterval, 1)
		if o := owner(t, st, "proc", 1); o != "" {
			t.Fatalf("%d claim rounds after the release, segment 1 is owned by %q before the no-reclaim period ended", i+1, o)
		}
	}
	advance(t, clock, testClaimInterval, 1)
	waitFor(t, "segment 1 claimed again after the no-reclaim period", func() bool { return owner(t, st, "proc", 1) == "a" })
	if err := p.ReleaseSegment(t.Context(), 7, 0); !errors.Is(err, processor.ErrNotClaimed) {
		t.Fatalf("releasing segment 7, which does not exist: %v, want ErrNotClaimed", err)
	}
}

// In a Pooled processor, a handler stuck for good (it ignores
// cancellation) holds up its segment only: once another node has taken
// that segment, this node gives it up and its stream serves the others
// again.
func TestStuckSegmentDoesNotStallOthers(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	src := processor.NewMemorySource(1, clock.Now)
	stuck, flowing := keyForSegment(t, "x", 1, 1), keyForSegment(t, "y", 0, 1)
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	rec := newRecorder()
	h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		if d.Key == stuck {
			close(entered)
			<-release // ignores ctx
		}
		return rec.Handle(ctx, d)
	})
	p := newProcessor(t, "stuck", st, src, h, append(fakeClaims(clock, "a"),
		processor.WithInitialSegments(2), processor.WithReadAhead(1), processor.WithBatchSize(1))...)
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.Append(0, processor.Event{Key: stuck, Data: []byte(stuck + "/1")})
	<-entered
	for i := range 20 { // one chunk each: the stuck segment's queue fills and the stream waits
		src.Append(0, processor.Event{Key: flowing, Data: record(flowing, i+1)})
	}
	for attempt := 0; ; attempt++ {
		advance(t, clock, testClaimTimeout, 1)
		if _, err := st.Tokens().ClaimSegment(t.Context(), "stuck", 1, "b", testClaimTimeout); err == nil {
			break
		} else if attempt == 3 {
			t.Fatalf("stealing the stuck segment: %v", err)
		}
	}
	advance(t, clock, testClaimInterval, 1)
	waitFor(t, "the other segment's 20 events", func() bool { return rec.distinct() == 20 })
	waitFor(t, "the stuck segment reported lost", func() bool {
		err, claimed := segmentErr(t, p, 1)
		return errors.Is(err, processor.ErrClaimLost) && !claimed
	})
}

// A work package busy in a long chunk (a replay's backlog, fewer events
// per segment than a batch) commits what it handled when its claim is
// extended, at its next event: a crash then loses only what came after,
// and other nodes see its progress. Before, the flush waited in the queue
// behind the chunk, and nothing was stored until the whole backlog was
// handled.
func TestBusySegmentCommitsInALongChunk(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now))
		src := processor.NewMemorySource(1, clock.Now)
		const hold1, hold2, n = 100, 200, 300
		gates := map[uint64]chan struct{}{hold1: make(chan struct{}), hold2: make(chan struct{})}
		at := make(chan uint64, 2)
		h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
			if g, ok := gates[d.Event.Position.Offset]; ok {
				d.KeepAlive(clock.Now().Add(time.Hour)) // waiting, not stuck
				at <- d.Event.Position.Offset
				select {
				case <-g:
				case <-ctx.Done():
				}
			}
			return nil
		})
		p := newProcessor(t, "proc", st, src, h, append(fakeClaims(clock, "a"), processor.WithInitialSegments(1), processor.WithBatchSize(1000))...)
		start(t, p)
		for range n {
			src.Append(0, processor.Event{Key: "k"})
		}
		defer close(gates[hold2])
		<-at
		// The claim's extension asks for a flush while the handler holds
		// event 100, in the middle of the one chunk of 300.
		for range testThreshold/testClaimInterval + 1 {
			advance(t, clock, testClaimInterval, 1)
		}
		close(gates[hold1])
		<-at // at event 200: the commit came at event 101
		waitFor(t, "the position handled so far to be stored while the chunk goes on", func() bool {
			infos, err := processor.Inspect(t.Context(), st, "proc")
			return err == nil && len(infos) == 1 && infos[0].Position.Offset("", 0) >= hold1
		})
	})
}
