package deadletter

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"eddy/internal/pgtest"
	"eddy/storage"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// testBackend is a place a store can be opened, and opened again.
type testBackend struct {
	name     string
	location string
	// shared is true when two stores may be open on the location at once,
	// as two nodes on one PostgreSQL.
	shared bool
}

// eachBackend runs fn against a fresh pebble directory and a fresh
// PostgreSQL schema.
func eachBackend(t *testing.T, fn func(t *testing.T, b testBackend)) {
	t.Run("pebble", func(t *testing.T) {
		fn(t, testBackend{name: "pebble", location: t.TempDir()})
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, testBackend{name: "postgres", location: pgtest.Schema(t), shared: true})
	})
}

// open opens a store, closed when the test ends (or earlier by the caller).
func (b testBackend) open(t testing.TB) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), b.name, b.location)
	if err != nil {
		t.Fatalf("opening %s store: %v", b.name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openQueue opens processor's queue with opts after the test's defaults.
func openQueue(t testing.TB, s *storage.Store, processor string, opts ...Opt) *Queue {
	t.Helper()
	q, err := Open(context.Background(), s, processor, opts...)
	if err != nil {
		t.Fatalf("opening queue %q: %v", processor, err)
	}
	return q
}

// twoNodes opens the same queue as two nodes: two stores on PostgreSQL; for
// pebble, which one process opens at a time, one store with node locks on
// and a second queue given state of its own, as another process would have.
func (b testBackend) twoNodes(t testing.TB, processor string, opts ...Opt) (*Queue, *Queue) {
	t.Helper()
	opts = append(opts, WithNodeLocks(true))
	s1 := b.open(t)
	if b.shared {
		return openQueue(t, s1, processor, opts...), openQueue(t, b.open(t), processor, opts...)
	}
	q1, q2 := openQueue(t, s1, processor, opts...), openQueue(t, s1, processor, opts...)
	q2.queueState = newQueueState(s1, processor, q2.opts, true)
	if err := q2.refreshEpoch(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q1, q2
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// letter builds a test letter for seq whose event sits at position pos.
func letter(seq string, pos uint64) Letter {
	return Letter{
		SequenceID: seq,
		Event: Event{
			Type:      "order.placed",
			Payload:   []byte(fmt.Sprintf(`{"seq":%q,"pos":%d}`, seq, pos)),
			Source:    "log",
			Partition: 1,
			Position:  pos,
			Metadata:  map[string]string{"trace": fmt.Sprint(pos)},
		},
		Cause: Cause{Type: "*errors.errorString", Message: fmt.Sprintf("failed at %d", pos)},
	}
}

func mustEnqueue(t testing.TB, q *Queue, l Letter) {
	t.Helper()
	if err := q.Enqueue(context.Background(), l); err != nil {
		t.Fatalf("enqueue %s@%d: %v", l.SequenceID, l.Event.Position, err)
	}
}

func mustLetters(t testing.TB, q *Queue, seq string) []Letter {
	t.Helper()
	ls, err := q.Letters(context.Background(), seq)
	if err != nil {
		t.Fatalf("letters of %s: %v", seq, err)
	}
	return ls
}

// positions lists the event positions of letters.
func positions(ls []Letter) []uint64 {
	ps := make([]uint64, len(ls))
	for i, l := range ls {
		ps[i] = l.Event.Position
	}
	return ps
}

func mustSize(t testing.TB, q *Queue) int {
	t.Helper()
	n, err := q.Size(context.Background())
	if err != nil {
		t.Fatalf("size: %v", err)
	}
	return n
}

func contains(t testing.TB, q *Queue, seq string) bool {
	t.Helper()
	ok, err := q.Contains(context.Background(), seq)
	if err != nil {
		t.Fatalf("contains %s: %v", seq, err)
	}
	return ok
}
