package deadletter

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// holding is a Process call on another goroutine whose handler runs until
// release is closed (then succeeds) or its context ends (noted in
// stoppedAt and cause); its outcome is read after done.
type holding struct {
	done      chan struct{}
	processed bool
	err       error
	stoppedAt time.Time
	cause     error
}

// startHolding starts q processing seq so, and returns once the handler runs.
func startHolding(q *Queue, seq string, release <-chan struct{}) *holding {
	h := &holding{done: make(chan struct{})}
	entered := make(chan struct{})
	go func() {
		defer close(h.done)
		h.processed, h.err = q.ProcessSequence(context.Background(), seq, func(hctx context.Context, _ Letter) error {
			close(entered)
			select {
			case <-release:
				return nil
			case <-hctx.Done():
				h.stoppedAt, h.cause = time.Now(), context.Cause(hctx)
				return hctx.Err()
			case <-time.After(time.Minute):
				return errors.New("the handler was never stopped")
			}
		}, nil)
	}()
	<-entered
	return h
}

// TestLeaseRenewedWhileHandling: a handler that runs for several claim
// durations keeps its sequence; no other node's Process takes it over
// meanwhile (before, one did after the first claim duration, and the
// letter was handled twice at once).
func TestLeaseRenewedWhileHandling(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		const claim = 900 * time.Millisecond
		a, other := b.twoNodes(t, "orders", WithClaimDuration(claim))
		mustEnqueue(t, a, letter("s", 1))

		release := make(chan struct{})
		h := startHolding(a, "s", release)
		handledTwice := func(context.Context, Letter) error { return errors.New("handled on the other node too") }
		for end := time.Now().Add(3 * claim); time.Now().Before(end); time.Sleep(claim / 9) {
			if _, err := other.ProcessSequence(ctx, "s", handledTwice, nil); !errors.Is(err, ErrBusy) {
				t.Fatalf("another node processing the sequence while its handler runs: %v, want ErrBusy", err)
			}
		}
		close(release)
		if <-h.done; !h.processed || h.err != nil {
			t.Fatalf("the holder after a long handler: processed %v, %v; want the sequence done", h.processed, h.err)
		}
		if contains(t, a, "s") {
			t.Error("the letter is still parked after its handler succeeded")
		}
	})
}

// TestHandlerEndsWhenItsLeaseIsLost: a holder that stalled past its lease
// (the clock moved on without a renewal) and lost the sequence to another
// node has its handler's context ended with ErrClaimLost at its next
// renewal, and nothing it does counts against the letter.
func TestHandlerEndsWhenItsLeaseIsLost(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		clock := newFakeClock()
		const claim = 900 * time.Millisecond
		a, other := b.twoNodes(t, "orders", WithClock(clock.now), WithClaimDuration(claim))
		mustEnqueue(t, a, letter("s", 1))

		h := startHolding(a, "s", nil)

		// The other node takes the sequence once the lease lapsed on the
		// clock; a renewal of the holder's may come first, so try again.
		failing := func(context.Context, Letter) error { return errors.New("the other node failed") }
		for tries := 0; ; tries++ {
			clock.advance(time.Minute)
			_, err := other.ProcessSequence(ctx, "s", failing, nil)
			if err == nil {
				break
			}
			if !errors.Is(err, ErrBusy) || tries == 100 {
				t.Fatalf("taking over the lapsed lease: %v", err)
			}
		}
		select {
		case <-h.done:
			if !errors.Is(h.err, ErrClaimLost) {
				t.Fatalf("the stalled holder: %v, want ErrClaimLost", h.err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the stalled holder's handler still runs 30 s after losing its lease")
		}
		if l := mustLetters(t, a, "s"); len(l) != 1 || l[0].Retries != 1 || l[0].Cause.Message != "the other node failed" {
			t.Errorf("left %+v; want the letter with the other node's one failure", l)
		}
	})
}

// TestHandlerStopsBeforeAStalledLeaseLapses: a holder whose renewals hang
// (here its bucket's lock is held, as a lock or a database that does not
// answer would) has its handler stopped, errLeaseLapsing its cause, before
// its lease lapses and another node takes the sequence: the two never run
// at once. Before, the keeper judged the lease only after a renewal
// returned, and the other node took over while the handler still ran.
func TestHandlerStopsBeforeAStalledLeaseLapses(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		const claim = 1200 * time.Millisecond
		a, other := b.twoNodes(t, "orders", WithClaimDuration(claim))
		mustEnqueue(t, a, letter("s", 1))

		h := startHolding(a, "s", nil)
		a.locks.local[bucketOf("s")] <- struct{}{} // the holder's renewals hang from here
		var took time.Time
		for end := time.Now().Add(5 * claim); time.Now().Before(end) && took.IsZero(); time.Sleep(claim / 20) {
			_, err := other.ProcessSequence(ctx, "s", func(context.Context, Letter) error { return errors.New("the other node failed") }, nil)
			switch {
			case err == nil:
				took = time.Now()
			case !errors.Is(err, ErrBusy):
				t.Fatal(err)
			}
		}
		<-a.locks.local[bucketOf("s")]
		<-h.done
		if took.IsZero() {
			t.Fatal("the other node never took the sequence whose holder stalled")
		}
		if h.stoppedAt.IsZero() || !h.stoppedAt.Before(took) || !errors.Is(h.cause, errLeaseLapsing) {
			t.Fatalf("the holder's handler stopped at %v (cause %v), the other node took the sequence at %v: want it stopped first, its lease lapsing",
				h.stoppedAt.Format(time.StampMilli), h.cause, took.Format(time.StampMilli))
		}
		if !errors.Is(h.err, errLeaseLapsing) {
			t.Errorf("the holder's Process returned %v, want errLeaseLapsing", h.err)
		}
	})
}

// TestLeaseCountsFromItsWrite: a Process call that waited for its bucket's
// lock longer than the claim duration still has its whole lease once it
// holds the sequence (before, the lease was counted from before the wait,
// and the handler was stopped as soon as it started).
func TestLeaseCountsFromItsWrite(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		const claim = 600 * time.Millisecond
		q := openQueue(t, b.open(t), "orders", WithClaimDuration(claim))
		mustEnqueue(t, q, letter("s", 1))
		q.locks.local[bucketOf("s")] <- struct{}{}
		time.AfterFunc(2*claim, func() { <-q.locks.local[bucketOf("s")] })
		processed, err := q.ProcessSequence(context.Background(), "s", func(hctx context.Context, _ Letter) error {
			select {
			case <-hctx.Done():
				return fmt.Errorf("stopped as it started: %w", context.Cause(hctx))
			case <-time.After(claim / 3):
				return nil
			}
		}, nil)
		if !processed || err != nil {
			t.Fatalf("after waiting for the lock: processed %v, %v; want the letter handled", processed, err)
		}
	})
}
