package deadletter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// recorder is a handler that records what it handled and fails as told.
type recorder struct {
	handled []uint64
	fail    func(Letter) error
}

func (r *recorder) handle(_ context.Context, l Letter) error {
	r.handled = append(r.handled, l.Event.Position)
	if r.fail != nil {
		return r.fail(l)
	}
	return nil
}

func TestProcessAnyOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		clock := newFakeClock()
		q := openQueue(t, b.open(t), "orders", WithClock(clock.now))
		// a, b, c dead-lettered in that order, each with a parked follower;
		// then a's head is retried and fails: a is now the freshest.
		for i, seq := range []string{"a", "b", "c"} {
			mustEnqueue(t, q, letter(seq, uint64(10*i+1)))
			clock.advance(time.Second)
		}
		for i, seq := range []string{"a", "b", "c"} {
			mustEnqueue(t, q, letter(seq, uint64(10*i+2)))
		}
		clock.advance(time.Second)
		if err := q.Requeue(ctx, mustLetters(t, q, "a")[0].ID, Cause{Message: "still failing"}); err != nil {
			t.Fatal(err)
		}
		infos, err := q.Sequences(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, info := range infos {
			listed = append(listed, info.ID)
		}
		if !slices.Equal(listed, []string{"b", "c", "a"}) {
			t.Errorf("Sequences order %v, want [b c a]", listed)
		}

		r := &recorder{}
		for range 3 {
			processed, err := q.Process(ctx, r.handle, nil)
			if err != nil || !processed {
				t.Fatalf("Process: processed %v, err %v; want a whole sequence", processed, err)
			}
		}
		if want := []uint64{11, 12, 21, 22, 1, 2}; !slices.Equal(r.handled, want) {
			t.Errorf("handled %v, want %v", r.handled, want)
		}
		processed, err := q.Process(ctx, r.handle, nil)
		if processed || err != nil || mustSize(t, q) != 0 {
			t.Errorf("Process on an empty queue: %v, %v", processed, err)
		}
	})
}

func TestProcessDecisions(t *testing.T) {
	errFailed := errors.New("still failing")
	tests := []struct {
		name   string
		policy Policy
		rounds int // Process calls, each failing on position 2
		// want: what the last call returned, what is left and its head.
		wantProcessed bool
		wantHandled   []uint64
		wantLeft      []uint64
		wantRetries   int
		wantDiag      map[string]string
		wantCause     string
	}{
		{name: "default requeues", policy: nil, rounds: 1,
			wantHandled: []uint64{1, 2}, wantLeft: []uint64{2, 3}, wantRetries: 1, wantCause: errFailed.Error()},
		{name: "requeue with diagnostics", rounds: 1,
			policy:      func(Letter, error) Decision { return Requeue(map[string]string{"hint": "check stock"}) },
			wantHandled: []uint64{1, 2}, wantLeft: []uint64{2, 3}, wantRetries: 1, wantCause: errFailed.Error(),
			wantDiag: map[string]string{"hint": "check stock"}},
		{name: "enqueue means requeue", rounds: 1,
			policy: func(Letter, error) Decision {
				return Enqueue(nil).WithCause(Cause{Type: "stock", Message: "out of stock"})
			},
			wantHandled: []uint64{1, 2}, wantLeft: []uint64{2, 3}, wantRetries: 1, wantCause: "out of stock"},
		{name: "evict goes on", rounds: 1,
			policy:        func(Letter, error) Decision { return Evict() },
			wantProcessed: true, wantHandled: []uint64{1, 2, 3}},
		{name: "ignore goes on", rounds: 1,
			policy:        func(Letter, error) Decision { return Ignore() },
			wantProcessed: true, wantHandled: []uint64{1, 2, 3}},
		{name: "evict after two retries", rounds: 2, policy: EvictAfter(2, nil),
			wantProcessed: true, wantHandled: []uint64{1, 2, 2, 3}},
		{name: "evict after three retries, two done", rounds: 2, policy: EvictAfter(3, nil),
			wantHandled: []uint64{1, 2, 2}, wantLeft: []uint64{2, 3}, wantRetries: 2, wantCause: errFailed.Error()},
	}
	eachBackend(t, func(t *testing.T, b testBackend) {
		store := b.open(t)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				q := openQueue(t, store, fmt.Sprint("decisions-", i))
				for pos := uint64(1); pos <= 3; pos++ {
					mustEnqueue(t, q, letter("s", pos))
				}
				r := &recorder{fail: func(l Letter) error {
					if l.Event.Position == 2 {
						return fmt.Errorf("handling %d: %w", l.Event.Position, errFailed)
					}
					return nil
				}}
				var processed bool
				for range tt.rounds {
					var err error
					if processed, err = q.ProcessSequence(ctx, "s", r.handle, tt.policy); err != nil {
						t.Fatal(err)
					}
				}
				if processed != tt.wantProcessed || !slices.Equal(r.handled, tt.wantHandled) {
					t.Errorf("processed %v, handled %v; want %v, %v", processed, r.handled, tt.wantProcessed, tt.wantHandled)
				}
				left := mustLetters(t, q, "s")
				if ps := positions(left); !slices.Equal(ps, tt.wantLeft) {
					t.Fatalf("left %v, want %v", ps, tt.wantLeft)
				}
				if contains(t, q, "s") != (len(left) > 0) {
					t.Errorf("Contains disagrees with the %d letters left", len(left))
				}
				if len(left) == 0 {
					return
				}
				head := left[0]
				if head.Retries != tt.wantRetries || !strings.Contains(head.Cause.Message, tt.wantCause) {
					t.Errorf("head: retries %d cause %v; want %d and %q", head.Retries, head.Cause, tt.wantRetries, tt.wantCause)
				}
				for k, v := range tt.wantDiag {
					if head.Diagnostics[k] != v {
						t.Errorf("head diagnostics %v, want %s=%s", head.Diagnostics, k, v)
					}
				}
				if left[1].Retries != 0 {
					t.Errorf("the parked letter behind the head counted %d retries", left[1].Retries)
				}
			})
		}
	})
}

func TestProcessSkipsUnmatchedAndMissing(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		q := openQueue(t, b.open(t), "orders")
		mustEnqueue(t, q, letter("old", 1))
		mustEnqueue(t, q, letter("young", 2))
		r := &recorder{}
		processed, err := q.ProcessMatching(ctx, func(s SequenceInfo) bool { return s.ID == "young" }, r.handle, nil)
		if err != nil || !processed || !slices.Equal(r.handled, []uint64{2}) {
			t.Errorf("ProcessMatching(young): %v, %v, handled %v", processed, err, r.handled)
		}
		processed, err = q.ProcessSequence(ctx, "never-dead-lettered", r.handle, nil)
		if err != nil || processed {
			t.Errorf("ProcessSequence of an unknown sequence: %v, %v", processed, err)
		}
		if !contains(t, q, "old") || contains(t, q, "young") {
			t.Error("the wrong sequence was processed")
		}
	})
}

func TestProcessLeaseAndClaimLost(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		clock := newFakeClock()
		a, other := b.twoNodes(t, "orders", WithClock(clock.now), WithClaimDuration(time.Minute), WithNode("node-a"))
		var logs logBuffer
		other.opts.logger = logs.logger()
		mustEnqueue(t, a, letter("s", 1))
		mustEnqueue(t, a, letter("s", 2))

		entered, release := make(chan struct{}), make(chan struct{})
		result := make(chan error, 1)
		go func() {
			_, err := a.ProcessSequence(ctx, "s", func(context.Context, Letter) error {
				close(entered)
				<-release
				return nil
			}, nil)
			result <- err
		}()
		<-entered

		// While node a holds it, node b may park behind it but not process it.
		noop := func(context.Context, Letter) error { return nil }
		if _, err := other.ProcessSequence(ctx, "s", noop, nil); !errors.Is(err, ErrBusy) {
			t.Fatalf("processing a held sequence: %v, want ErrBusy", err)
		}
		if processed, err := other.Process(ctx, noop, nil); processed || err != nil {
			t.Fatalf("Process with only a held sequence: %v, %v; want nothing done", processed, err)
		}
		// Nor may an operator evict from it: a's handler may be handing
		// the letter on, which removing it would not stop.
		for _, l := range mustLetters(t, other, "s") {
			if _, err := other.EvictUnheld(ctx, l.ID); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "held by node-a/") {
				t.Fatalf("evicting letter %d of a held sequence: %v, want ErrBusy naming the holder", l.Event.Position, err)
			}
		}
		if err := other.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if parked, err := other.EnqueueIfPresent(ctx, "s", func() Letter { return letter("s", 3) }); !parked || err != nil {
			t.Fatalf("parking behind a held sequence: %v, %v", parked, err)
		}

		// Past the claim duration, b takes over; its retry fails and
		// requeues, so a, waking up, has lost the sequence.
		clock.advance(2 * time.Minute)
		failing := func(context.Context, Letter) error { return errors.New("b failed") }
		if processed, err := other.ProcessSequence(ctx, "s", failing, nil); processed || err != nil {
			t.Fatalf("taking over an expired claim: %v, %v", processed, err)
		}
		// The takeover is logged, naming the node whose lease lapsed.
		logs.mustHold(t, "took a sequence over", "sequence=s", "holder=node-a/deadletter-")
		close(release)
		if err := <-result; !errors.Is(err, ErrClaimLost) {
			t.Fatalf("node a after losing its claim: %v, want ErrClaimLost", err)
		}
		left := mustLetters(t, a, "s")
		if ps := positions(left); !slices.Equal(ps, []uint64{1, 2, 3}) || left[0].Retries != 1 {
			t.Errorf("left %v with head retries %d; want [1 2 3], 1 retry (only b's failure counted)", ps, left[0].Retries)
		}
	})
}

func TestProcessCanceled(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		var logs logBuffer
		q := openQueue(t, b.open(t), "orders", WithLogger(logs.logger()))
		mustEnqueue(t, q, letter("s", 1))
		ctx, cancel := context.WithCancel(context.Background())
		_, err := q.Process(ctx, func(ctx context.Context, _ Letter) error {
			cancel()
			return ctx.Err()
		}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Process canceled in its handler: %v, want context.Canceled", err)
		}
		infos, err := q.Sequences(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 1 || infos[0].Processing {
			t.Fatalf("after cancel: %+v, want one sequence, not held", infos)
		}
		if l := mustLetters(t, q, "s")[0]; l.Retries != 0 {
			t.Errorf("a canceled retry counted as a failure: %d retries", l.Retries)
		}
		logs.mustHold(t, "gave a sequence up unchanged", "sequence=s")
		r := &recorder{}
		if processed, err := q.Process(context.Background(), r.handle, nil); !processed || err != nil {
			t.Errorf("Process after the cancel: %v, %v", processed, err)
		}
	})
}
