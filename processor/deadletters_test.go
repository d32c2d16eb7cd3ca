package processor_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/deadletter"
)

// Once an event of a sequence is dead-lettered, the later events of that
// sequence are parked behind it while other sequences flow; retrying the
// queue hands them to the handler in order, and the sequence then flows
// again.
func TestDeadLetterOrdering(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		st := b.fresh(t)
		q, err := deadletter.Open(t.Context(), st, "orders")
		if err != nil {
			t.Fatal(err)
		}
		rec := newRecorder()
		var broken atomic.Bool
		h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
			if d.Key == "A" && broken.Load() {
				return errBroken
			}
			return rec.Handle(ctx, d)
		})
		w := newLogWriter(st)
		src := logSource(st)
		p := newProcessor(t, "orders", st, src, h, processor.WithInitialSegments(4), processor.WithDeadLetters(q, nil))
		start(t, p)
		w.write(t, []string{"A", "B"}, 1)
		waitFor(t, "A/1 and B/1", func() bool { return rec.distinct() == 2 })

		broken.Store(true)
		w.write(t, []string{"A", "B"}, 3) // A/2 fails; A/3 and A/4 are parked behind it
		waitFor(t, "B/2..B/4 to flow past the dead-lettered A", func() bool { return rec.distinct() == 5 })
		waitFor(t, "A/2..A/4 in the queue", func() bool { return len(letters(t, q, "A")) == 3 })
		ls := letters(t, q, "A")
		for i, l := range ls {
			if want := "A/" + string(rune('2'+i)); string(l.Event.Payload) != want {
				t.Errorf("letter %d of sequence A holds %q, want %q", i, l.Event.Payload, want)
			}
		}
		if !strings.Contains(ls[0].Cause.Message, errBroken.Error()) || !ls[1].Cause.IsZero() {
			t.Errorf("causes %q and %q: the failed letter should carry the handler's error, the parked one none", ls[0].Cause, ls[1].Cause)
		}
		waitFor(t, "every segment caught up without error: the stream went on", func() bool { return caughtUp(t, p) })

		broken.Store(false)
		w.write(t, []string{"A"}, 1) // A/5 is still parked: its sequence is in the queue
		waitFor(t, "A/5 parked", func() bool { return len(letters(t, q, "A")) == 4 })
		processed, handled, err := p.ProcessDeadLetters(t.Context())
		if err != nil || !processed || handled != 4 {
			t.Fatalf("processing the dead letters: %v, %d handled, %v; want the sequence of 4 emptied", processed, handled, err)
		}
		if ls := letters(t, q, "A"); len(ls) != 0 {
			t.Fatalf("%d letters left in sequence A", len(ls))
		}
		w.write(t, []string{"A"}, 1) // A/6 flows again
		waitFor(t, "all 10 events", func() bool { return rec.distinct() == 10 })
		rec.checkExactlyOnce(t, 10)
		rec.checkKeyOrder(t)
	})
}

func letters(t testing.TB, q *deadletter.Queue, seq string) []deadletter.Letter {
	t.Helper()
	ls, err := q.Letters(context.Background(), seq)
	if err != nil {
		t.Fatalf("letters of %s: %v", seq, err)
	}
	return ls
}

// The queue's policy decides what a failure means; when the queue cannot
// take an event, the error handler is asked.
func TestDeadLetterPolicy(t *testing.T) {
	tests := []struct {
		name    string
		policy  deadletter.Policy
		opts    []deadletter.Opt
		queued  int // letters in the queue at the end
		handled int // events of key "ok" and "A" that reached the recorder
		errors  int // failures the error handler saw
	}{
		{"enqueue", nil, nil, 2, 1, 0},
		{"ignore", func(deadletter.Letter, error) deadletter.Decision { return deadletter.Ignore() }, nil, 0, 1, 0},
		{"evict", func(deadletter.Letter, error) deadletter.Decision { return deadletter.Evict() }, nil, 0, 1, 0},
		{"queue full", nil, []deadletter.Opt{deadletter.WithMaxSequences(1)}, 1, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := backends[0].fresh(t)
			q, err := deadletter.Open(t.Context(), st, "policy", tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			rec := newRecorder()
			h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
				if d.Key != "ok" {
					return errBroken
				}
				return rec.Handle(ctx, d)
			})
			var seen atomic.Int32
			eh := func(ctx context.Context, d processor.Delivery, err error) error {
				seen.Add(1)
				return nil
			}
			src := processor.NewMemorySource(1, nil)
			p := newProcessor(t, "policy", st, src, h, processor.WithInitialSegments(1),
				processor.WithDeadLetters(q, tc.policy), processor.WithErrorHandler(eh))
			start(t, p)
			src.Append(0, processor.Event{Key: "A", Data: []byte("A/1")}, processor.Event{Key: "B", Data: []byte("B/1")},
				processor.Event{Key: "ok", Data: []byte("ok/1")})
			waitFor(t, "the processor to catch up", func() bool { return caughtUp(t, p) && rec.distinct() == tc.handled })
			n, err := q.Size(t.Context())
			if err != nil || n != tc.queued || int(seen.Load()) != tc.errors {
				t.Errorf("%d letters queued (%v), error handler asked %d times; want %d and %d", n, err, seen.Load(), tc.queued, tc.errors)
			}
		})
	}
}

// A handler cut short by the processor stopping (Stop cancels it after
// waiting a claim timeout) fails because of the stop, not because of its
// event: the event is not dead-lettered, and it is delivered again once the
// processor starts anew. Before, the cancelled context raced the queue's
// commit, and the event was parked now and then.
func TestStopDoesNotDeadLetterTheEventInHand(t *testing.T) {
	st := backends[0].fresh(t)
	q, err := deadletter.Open(t.Context(), st, "stopping")
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	var blocking atomic.Bool
	blocking.Store(true)
	inHand := make(chan struct{}, 1)
	h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		if blocking.Load() {
			inHand <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		return rec.Handle(ctx, d)
	})
	src := processor.NewMemorySource(1, nil)
	// Stop waits a claim timeout for the handler before it cancels it.
	opts := []processor.Opt{processor.WithInitialSegments(1), processor.WithDeadLetters(q, nil),
		processor.WithClaimTimeout(time.Second), processor.WithClaimExtensionThreshold(300 * time.Millisecond),
		processor.WithClaimInterval(300 * time.Millisecond)}
	// Whether the cancelled commit lost the race was chance: several stops
	// make a regression show.
	for i := range 6 {
		p := newProcessor(t, "stopping", st, src, h, opts...)
		if err := p.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			src.Append(0, processor.Event{Key: "A", Data: []byte("A/1")})
		}
		select {
		case <-inHand:
		case <-time.After(30 * time.Second):
			t.Fatalf("start %d: A/1 was not handed to the handler again: parked at a stop", i+1)
		}
		stop(t, p)
		if n, err := q.Size(t.Context()); err != nil || n != 0 {
			t.Fatalf("stop %d: %d letters queued (%v), want none", i+1, n, err)
		}
	}
	blocking.Store(false)
	p := newProcessor(t, "stopping", st, src, h, opts...)
	start(t, p)
	waitFor(t, "A/1 delivered again after the restart", func() bool { return rec.distinct() == 1 })
}
