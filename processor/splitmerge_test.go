package processor_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/internal/fakeclock"
	"eddy/storage"
)

// Splitting and merging segments while events stream in loses and
// duplicates nothing, and keeps each key's events in order.
func TestSplitAndMergeUnderLoad(t *testing.T) {
	modes := []struct {
		name string
		opts []processor.Opt
	}{
		{"pooled", nil},
		{"tracking", []processor.Opt{processor.WithMode(processor.Tracking), processor.WithThreads(8)}},
	}
	ops := []struct {
		merge  bool
		id     int
		layout string // segment/mask list after the operation
	}{
		{false, 0, "0/1 1/1"},
		{false, 0, "0/3 1/1 2/3"},
		{false, 1, "0/3 1/3 2/3 3/3"},
		{true, 2, "0/1 1/3 3/3"},
		{true, 3, "0/1 1/1"},
		{true, 0, "0/0"},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, m := range modes {
			t.Run(m.name, func(t *testing.T) {
				st := b.fresh(t)
				w := newLogWriter(st)
				rec := newRecorder()
				src := logSource(st)
				opts := append([]processor.Opt{
					processor.WithInitialSegments(1), processor.WithBatchSize(8), processor.WithNodeID("a"),
					processor.WithClaimInterval(10 * time.Millisecond),
				}, m.opts...)
				p := newProcessor(t, "splits", st, src, rec, opts...)
				start(t, p)
				stopWriting := w.writeWhile(t, keys(16))
				for _, op := range ops {
					before := rec.distinct()
					waitFor(t, "more events handled", func() bool { return rec.distinct() > before })
					run := p.SplitSegment
					if op.merge {
						run = p.MergeSegment
					}
					// A merge may have to wait for the previous one to
					// meet.
					waitFor(t, fmt.Sprintf("merge=%v of segment %d", op.merge, op.id), func() bool {
						err := run(t.Context(), op.id)
						if err != nil && !errors.Is(err, processor.ErrMerging) {
							t.Fatalf("merge=%v of segment %d: %v", op.merge, op.id, err)
						}
						return err == nil
					})
					waitFor(t, "layout "+op.layout+" all claimed", func() bool {
						got := ""
						for _, s := range segments(t, st, "splits") {
							if s.Owner != "a" {
								return false
							}
							got += fmt.Sprintf(" %d/%d", s.ID, s.Mask)
						}
						return got == " "+op.layout
					})
				}
				stopWriting()
				total := w.total()
				waitFor(t, fmt.Sprintf("all %d events", total), func() bool { return rec.distinct() >= total })
				stop(t, p)
				rec.checkExactlyOnce(t, total)
				rec.checkKeyOrder(t)
			})
		}
	})
}

// keyForSegment finds a key that the default policy puts on segment id of
// mask (the sequence hash of a key is FNV-1a, 32 bits).
func keyForSegment(t testing.TB, prefix string, id, mask uint32) string {
	for i := range 1000 {
		k := fmt.Sprintf("%s%d", prefix, i)
		h := fnv.New32a()
		h.Write([]byte(k))
		if h.Sum32()&mask == id {
			return k
		}
	}
	t.Fatalf("no key for segment %d of mask %d", id, mask)
	return ""
}

// Merging two segments that stand at different positions advances both
// halves until they meet: each event is handled once, by the half that had
// not seen it, and status shows the merge until then.
func TestMergeAdvancesBothHalves(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	src := processor.NewMemorySource(1, clock.Now)
	a, b := keyForSegment(t, "a", 0, 1), keyForSegment(t, "b", 1, 1)
	rec := newRecorder()
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	var armed atomic.Bool
	h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		if armed.Load() && d.Key == b {
			armed.Store(false)
			entered <- struct{}{}
			<-gate
		}
		return rec.Handle(ctx, d)
	})
	p := newProcessor(t, "merge", st, src, h, append(fakeClaims(clock, "n"),
		processor.WithMode(processor.Tracking), processor.WithThreads(2), processor.WithInitialSegments(2))...)
	start(t, p)
	src.Append(0, processor.Event{Key: a, Data: []byte("a/1")}, processor.Event{Key: b, Data: []byte("b/1")})
	waitFor(t, "the first two events", func() bool { return rec.distinct() == 2 })
	if err := p.ReleaseSegment(t.Context(), 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	src.Append(0, processor.Event{Key: a, Data: []byte("a/2")}, processor.Event{Key: b, Data: []byte("b/2")},
		processor.Event{Key: a, Data: []byte("a/3")}, processor.Event{Key: b, Data: []byte("b/3")})
	waitFor(t, "segment 0 to handle a/2 and a/3 while segment 1 is released", func() bool { return rec.distinct() == 4 })

	armed.Store(true)
	if err := p.MergeSegment(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	<-entered
	sts, err := p.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].Segment != 0 || sts[0].Mask != 0 || !sts[0].Merging {
		t.Fatalf("status while the lagging half catches up: %+v, want segment 0 mask 0 merging", sts)
	}
	close(gate)
	waitFor(t, "b/2 and b/3", func() bool { return rec.distinct() == 6 })
	waitFor(t, "the merge to end", func() bool {
		sts, _ := p.Status(t.Context())
		return len(sts) == 1 && !sts[0].Merging && sts[0].CaughtUp
	})
	rec.checkExactlyOnce(t, 6)
	rec.checkKeyOrder(t)
}

// A merge whose sibling is split further says which merge comes first:
// the sibling's with its own sibling. Splitting the segment asked for, as
// an earlier message advised, would pair it with yet another segment.
func TestMergeWithFinerSiblingSaysWhatToMergeFirst(t *testing.T) {
	st := backends[0].fresh(t)
	p := newProcessor(t, "finer", st, logSource(st), newRecorder(), processor.WithInitialSegments(1),
		processor.WithNodeID("a"), processor.WithClaimInterval(10*time.Millisecond))
	start(t, p)
	for _, id := range []int{0, 1} { // 0/0 -> 0/1 1/1 -> 0/1 1/3 3/3
		if err := p.SplitSegment(t.Context(), id); err != nil {
			t.Fatalf("split %d: %v", id, err)
		}
	}
	err := p.MergeSegment(t.Context(), 0)
	if err == nil {
		t.Fatal("merge of segment 0 (mask 1) with segment 1 (mask 3) succeeded")
	}
	for _, want := range []string{"segment 0 (mask 1)", "segment 1 (mask 3)", "merge segment 1 with segment 3 first"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("merge of segment 0: %v; want it to say %q", err, want)
		}
	}
	if err := p.MergeSegment(t.Context(), 1); err != nil {
		t.Fatalf("merge of segment 1 with segment 3, as advised: %v", err)
	}
	if err := p.MergeSegment(t.Context(), 0); err != nil {
		t.Fatalf("merge of segment 0 after its sibling's: %v", err)
	}
}

// A split of a segment with a backlog takes effect at the segment's next
// event, not once it has handled every event read ahead for it: the new
// segment is to take its share of the backlog, and the split, which the
// processor's supervisor waits for, must not hold the node's heartbeat and
// claim extensions for the whole backlog.
func TestSplitDoesNotWaitForTheBacklog(t *testing.T) {
	st := backends[0].fresh(t)
	src := processor.NewMemorySource(1, nil)
	gate := make(chan struct{})
	rec := newRecorder()
	h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return rec.Handle(ctx, d)
	})
	p := newProcessor(t, "backlog", st, src, h, processor.WithInitialSegments(1), processor.WithBatchSize(4),
		processor.WithNodeID("a"), processor.WithClaimInterval(10*time.Millisecond))
	start(t, p)
	const total = 400
	ks := keys(16)
	for i := range total {
		k := ks[i%len(ks)]
		src.Append(0, processor.Event{Key: k, Data: record(k, i/len(ks)+1)})
	}
	for range 5 {
		gate <- struct{}{}
	}
	waitFor(t, "the first events handled", func() bool { return rec.distinct() == 5 })
	split := make(chan error, 1)
	go func() { split <- p.SplitSegment(context.Background(), 0) }()
	released := 0
	for done := false; !done; {
		select {
		case err := <-split:
			if err != nil {
				t.Fatalf("split: %v", err)
			}
			done = true
		case gate <- struct{}{}:
			released++
			time.Sleep(time.Millisecond) // a handler that takes a while
			if released > 100 {
				close(gate)
				t.Fatalf("the split still waits after %d more events of a backlog of %d: it waits for the events read ahead", released, total-5)
			}
		}
	}
	close(gate)
	waitFor(t, "every event handled", func() bool { return rec.distinct() == total })
	rec.checkExactlyOnce(t, total)
	rec.checkKeyOrder(t)
	bySegment := map[int]int{}
	for _, d := range rec.snapshot() {
		bySegment[d.segment]++
	}
	if bySegment[1] == 0 {
		t.Errorf("the new segment 1 handled none of the backlog (by segment: %v)", bySegment)
	}
}
