package deadletter

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
)

func TestConcurrentEnqueues(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		q := openQueue(t, b.open(t), "orders")
		const writers, each, seqs = 8, 25, 3
		enqueueConcurrently(t, slices.Repeat([]*Queue{q}, writers), each, seqs)
		checkWriterOrder(t, q, seqs, writers*each)
	})
}

// TestTwoOpensOneStore: two Opens of one queue in one process (the
// processor's and an operator's) share their locks, on the embedded store
// too, where there are no storage locks.
func TestTwoOpensOneStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		store := b.open(t)
		queues := []*Queue{openQueue(t, store, "orders"), openQueue(t, store, "orders")}
		const each, seqs = 40, 2
		enqueueConcurrently(t, queues, each, seqs)
		checkWriterOrder(t, queues[0], seqs, len(queues)*each)
		if !contains(t, queues[1], "s0") {
			t.Error("the second Open does not know the sequences the first created")
		}
	})
}

// enqueueConcurrently runs one writer per queue given, each enqueueing each
// letters over sequences s0..s<seqs-1>. Writer w's events are at positions
// w*1000+i, so that checkWriterOrder can tell that each writer's letters
// kept their order.
func enqueueConcurrently(t *testing.T, writers []*Queue, each, seqs int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(writers))
	for w, q := range writers {
		wg.Go(func() {
			for i := range each {
				l := letter(fmt.Sprint("s", (w+i)%seqs), uint64(w*1000+i))
				if err := q.Enqueue(context.Background(), l); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// checkWriterOrder checks that the queue holds total letters over seqs
// sequences, with no id twice and each writer's positions increasing within
// every sequence.
func checkWriterOrder(t *testing.T, q *Queue, seqs, total int) {
	t.Helper()
	ids := map[string]bool{}
	for s := range seqs {
		last := map[uint64]uint64{}
		for _, l := range mustLetters(t, q, fmt.Sprint("s", s)) {
			if ids[l.ID] {
				t.Errorf("letter id %s twice", l.ID)
			}
			ids[l.ID] = true
			w, pos := l.Event.Position/1000, l.Event.Position
			if prev, ok := last[w]; ok && pos <= prev {
				t.Errorf("sequence s%d: writer %d's position %d after %d", s, w, pos, prev)
			}
			last[w] = pos
		}
	}
	if len(ids) != total || mustSize(t, q) != total {
		t.Errorf("%d letters listed, size %d; want %d", len(ids), mustSize(t, q), total)
	}
}

// TestTwoNodes has two nodes enqueue into the same sequences at once, then
// process the queue at once: every letter is handled exactly once, in its
// sequence's order, and never two letters of a sequence at the same time.
func TestTwoNodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		n1, n2 := b.twoNodes(t, "orders")
		nodes := []*Queue{n1, n2}
		const perNode, seqs = 30, 4
		enqueueConcurrently(t, nodes, perNode, seqs)
		checkWriterOrder(t, n1, seqs, 2*perNode)
		want := map[string][]string{} // sequence -> letter ids in order
		for s := range seqs {
			seq := fmt.Sprint("s", s)
			for _, l := range mustLetters(t, n1, seq) {
				want[seq] = append(want[seq], l.ID)
			}
		}

		var mu sync.Mutex
		handled := map[string][]string{}
		busy := map[string]bool{}
		handle := func(_ context.Context, l Letter) error {
			mu.Lock()
			if busy[l.SequenceID] {
				t.Errorf("sequence %s handled by two calls at once", l.SequenceID)
			}
			busy[l.SequenceID] = true
			handled[l.SequenceID] = append(handled[l.SequenceID], l.ID)
			mu.Unlock()
			runtime.Gosched() // a window for another call to overlap
			mu.Lock()
			busy[l.SequenceID] = false
			mu.Unlock()
			return nil
		}
		// Two goroutines per node keep calling Process until the queue is
		// empty.
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for _, q := range []*Queue{n1, n1, n2, n2} {
			wg.Go(func() {
				for {
					if _, err := q.Process(ctx, handle, nil); err != nil {
						errs <- err
						return
					}
					size, err := q.Size(ctx)
					if err != nil {
						errs <- err
						return
					}
					if size == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for seq, ids := range want {
			if !slices.Equal(handled[seq], ids) {
				t.Errorf("sequence %s handled %v, want %v", seq, handled[seq], ids)
			}
		}
	})
}

func TestRefreshSeesOtherNodes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		n1, n2 := b.twoNodes(t, "orders")
		mustEnqueue(t, n2, letter("s", 1))
		if contains(t, n1, "s") {
			t.Fatal("node 1 knows node 2's sequence without a refresh (the test proves nothing)")
		}
		if err := n1.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !contains(t, n1, "s") {
			t.Fatal("node 1 does not know node 2's sequence after Refresh")
		}
		r := &recorder{}
		if processed, err := n2.Process(ctx, r.handle, nil); !processed || err != nil {
			t.Fatalf("node 2 Process: %v, %v", processed, err)
		}
		// Node 1's view is stale now; parking checks storage and corrects it.
		parked, err := n1.EnqueueIfPresent(ctx, "s", func() Letter { return letter("s", 2) })
		if parked || err != nil {
			t.Fatalf("parking behind an emptied sequence: %v, %v", parked, err)
		}
		if contains(t, n1, "s") {
			t.Error("node 1 still believes the emptied sequence is dead-lettered")
		}
	})
}
