package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"eddy/storage"
)

// tailTests check following a partition's log: a tail waits for appends
// without polling, and the test waits on channels, never on sleeps.
var tailTests = []test{
	{"WakesOnAppend", testTailWakes},
	{"IgnoresOtherPartitions", testTailOtherPartition},
	{"FromPosition", testTailFrom},
	{"FollowsConcurrentWriter", testTailFollows},
	{"CallbackError", testTailCallbackError},
	{"Cancel", testTailCancel},
}

// tailResult is what one Tail.Next call returned.
type tailResult struct {
	entries []entry
	n       int
	err     error
}

// next runs tail.Next and copies what it handed over.
func next(ctx context.Context, tail *storage.Tail, limit int) tailResult {
	var r tailResult
	r.n, r.err = tail.Next(ctx, limit, func(e storage.Entry) error {
		r.entries = append(r.entries, entry{e.Position, e.Timestamp, bytes.Clone(e.Data)})
		return nil
	})
	return r
}

// receive waits for a result or fails when the guard deadline passes.
func receive[T any](t testing.TB, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("%s: nothing arrived before the guard deadline: %v", what, ctx.Err())
		panic("unreachable")
	}
}

// startNext runs tail.Next in a goroutine; the result arrives on the channel.
func startNext(ctx context.Context, tail *storage.Tail, limit int) <-chan tailResult {
	ch := make(chan tailResult, 1)
	go func() { ch <- next(ctx, tail, limit) }()
	return ch
}

func testTailWakes(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	tail, err := st.Tail(0, 1)
	noErr(t, "tail", err)
	const rounds = 50
	ready := make(chan struct{})
	results := make(chan tailResult)
	go func() {
		for range rounds {
			select {
			case ready <- struct{}{}:
			case <-ctx.Done():
				return
			}
			r := next(ctx, tail, 10)
			select {
			case results <- r:
			case <-ctx.Done():
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	for i := 1; i <= rounds; i++ {
		receive(t, ctx, ready, "tail goroutine ready")
		// The tail is now in (or about to enter) Next on an exhausted log: it
		// must not return before the append.
		select {
		case r := <-results:
			t.Fatalf("round %d: Next returned %d entries, error %v before anything was appended", i, r.n, r.err)
		default:
		}
		appendAt(t, ctx, st, 0, uint64(i), record(0, i))
		r := receive(t, ctx, results, "Next after an append")
		if r.err != nil {
			t.Fatalf("round %d: Next: %v", i, r.err)
		}
		if r.n != len(r.entries) {
			t.Fatalf("round %d: Next reported %d entries, handed over %d", i, r.n, len(r.entries))
		}
		checkEntries(t, "Next woken by an append", 0, r.entries, uint64(i), [][]byte{record(0, i)})
		if got := tail.Position(); got != uint64(i+1) {
			t.Fatalf("round %d: tail position %d after reading position %d, want %d", i, got, i, i+1)
		}
	}
}

func testTailOtherPartition(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	tail, err := st.Tail(1, 0)
	noErr(t, "tail", err)
	done := startNext(ctx, tail, 10)
	for i := 1; i <= 20; i++ {
		appendAt(t, ctx, st, 0, uint64(i), record(0, i))
	}
	appendAt(t, ctx, st, 1, 1, record(1, 1))
	r := receive(t, ctx, done, "Next on partition 1")
	noErr(t, "Next on partition 1", r.err)
	checkEntries(t, "Next on partition 1 while partition 0 grew", 1, r.entries, 1, [][]byte{record(1, 1)})
}

func testTailFrom(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, records(0, 1, 10)...)

	tail, err := st.Tail(0, 4)
	noErr(t, "tail from 4", err)
	r := next(ctx, tail, 100)
	noErr(t, "Next from 4", r.err)
	checkEntries(t, "tail from 4", 0, r.entries, 4, records(0, 4, 7))
	if tail.Position() != 11 {
		t.Fatalf("tail position %d after reading to 10, want 11", tail.Position())
	}

	tail, err = st.Tail(0, 0)
	noErr(t, "tail from 0", err)
	if tail.Position() != 1 {
		t.Fatalf("tail from 0 starts at position %d, want 1", tail.Position())
	}
	r = next(ctx, tail, 3)
	noErr(t, "Next from 1 limit 3", r.err)
	checkEntries(t, "tail from 0, limit 3", 0, r.entries, 1, records(0, 1, 3))
	r = next(ctx, tail, 3)
	noErr(t, "second Next limit 3", r.err)
	checkEntries(t, "tail from 0, second Next with limit 3", 0, r.entries, 4, records(0, 4, 3))

	// A tail that starts past the end waits for its position.
	tail, err = st.Tail(0, 11)
	noErr(t, "tail from 11", err)
	done := startNext(ctx, tail, 100)
	appendAt(t, ctx, st, 0, 11, record(0, 11), record(0, 12))
	r = receive(t, ctx, done, "Next from 11")
	noErr(t, "Next from 11", r.err)
	if len(r.entries) == 0 || r.entries[0].Position != 11 {
		t.Fatalf("tail from 11: first entry at %+v, want position 11", r.entries)
	}
}

func testTailFollows(t *testing.T, s *suite) {
	const total = 1000
	ctx, st := s.ctx(t), s.fresh(t)
	tail, err := st.Tail(2, 1)
	noErr(t, "tail", err)
	writerDone := make(chan error, 1)
	go func() {
		for i := 1; i <= total; {
			n := min(1+i%7, total-i+1)
			if _, err := st.Append(ctx, 2, 0, records(2, i, n)...); err != nil {
				writerDone <- err
				return
			}
			i += n
		}
		writerDone <- nil
	}()
	var got []entry
	for len(got) < total {
		r := next(ctx, tail, 64)
		if r.err != nil {
			t.Fatalf("Next after %d of %d entries (did an append not wake the tail?): %v", len(got), total, r.err)
		}
		if r.n == 0 || r.n > 64 {
			t.Fatalf("Next after %d entries handed over %d, want 1..64", len(got), r.n)
		}
		got = append(got, r.entries...)
	}
	noErr(t, "writer", receive(t, ctx, writerDone, "writer"))
	checkEntries(t, "tail following a writer", 2, got, 1, records(2, 1, total))
}

func testTailCallbackError(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, records(0, 1, 5)...)
	tail, err := st.Tail(0, 1)
	noErr(t, "tail", err)
	stop := errors.New("stop")
	calls := 0
	n, err := tail.Next(ctx, 10, func(e storage.Entry) error {
		calls++
		if e.Position == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 || calls != 3 {
		t.Fatalf("Next whose callback refuses position 3: n %d, calls %d, error %v; want n 2, calls 3, the callback's error", n, calls, err)
	}
	if tail.Position() != 3 {
		t.Fatalf("tail position %d after the callback refused position 3, want 3", tail.Position())
	}
	r := next(ctx, tail, 10)
	noErr(t, "Next after the refusal", r.err)
	checkEntries(t, "Next after the callback refused position 3", 0, r.entries, 3, records(0, 3, 3))
}

func testTailCancel(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	tail, err := st.Tail(0, 2)
	noErr(t, "tail", err)

	cctx, cancel := context.WithCancel(ctx)
	done := startNext(cctx, tail, 10)
	cancel()
	r := receive(t, ctx, done, "Next after cancel")
	if !errors.Is(r.err, context.Canceled) || r.n != 0 {
		t.Fatalf("Next cancelled while waiting: n %d, error %v; want 0 and context.Canceled", r.n, r.err)
	}

	dctx, cancel := context.WithDeadline(ctx, clockStart) // long past
	defer cancel()
	r = next(dctx, tail, 10)
	if !errors.Is(r.err, context.DeadlineExceeded) || r.n != 0 {
		t.Fatalf("Next with an expired deadline: n %d, error %v; want 0 and context.DeadlineExceeded", r.n, r.err)
	}

	// The tail still works after a cancelled Next.
	appendAt(t, ctx, st, 0, 2, record(0, 2))
	r = next(ctx, tail, 10)
	noErr(t, "Next after cancelled ones", r.err)
	checkEntries(t, "Next after cancelled ones", 0, r.entries, 2, [][]byte{record(0, 2)})
}
