package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"eddy/storage"
)

// concurrencyTests check that concurrent commits, which the store groups
// into shared durable writes, each land whole, in place and only once.
var concurrencyTests = []test{
	{"Appenders", testConcurrentAppenders},
	{"FencedBatchesAmongGood", testConcurrentFenced},
	{"VisibleInOrder", testVisibleInOrder},
}

// race runs f(0) .. f(n-1) at once and returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one of a race's calls succeeded and all
// others failed with lost; it returns the winner.
func oneWinner(t testing.TB, what string, errs []error, lost error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("%s: racers %d and %d both succeeded, want exactly one", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, lost):
			t.Fatalf("%s: racer %d failed with %v, want %v", what, i, err, lost)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no racer succeeded (errors %v), want exactly one", what, errs)
	}
	return winner
}

// readOwnWrite checks that a batch that Commit acknowledged at first is
// readable at once: what Commit returned is visible to Read.
func readOwnWrite(ctx context.Context, st *store, p int, first uint64, data [][]byte) error {
	i := 0
	err := st.Read(ctx, p, first, len(data), func(e storage.Entry) error {
		if e.Position != first+uint64(i) || !bytes.Equal(e.Data, data[i]) {
			return fmt.Errorf("partition %d: reading back the acknowledged batch at %d, entry %d is %s at position %d, want %s at %d",
				p, first, i, show(e.Data), e.Position, show(data[i]), first+uint64(i))
		}
		i++
		return nil
	})
	if err == nil && i != len(data) {
		err = fmt.Errorf("partition %d: reading back the acknowledged batch at %d: %d of its %d entries are visible", p, first, i, len(data))
	}
	return err
}

// positions lists the positions of entries for a failure message.
func positions(es []entry) string {
	ps := make([]string, len(es))
	for i, e := range es {
		ps[i] = fmt.Sprint(e.Position)
	}
	return "[" + joinShort(ps) + "]"
}

// landed is one committed batch as its committer saw it.
type landed struct {
	writer, batch int
	partition     int
	first         uint64
	data          [][]byte
}

// writeConcurrently runs write for writers 0..n-1 at once, released
// together, and returns every batch they landed. A writer reports its own
// failure with t.Errorf and returns what it landed so far; the test then
// stops here.
func writeConcurrently(t *testing.T, n int, write func(w int) []landed) []landed {
	t.Helper()
	results := make([][]landed, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			<-start
			results[w] = write(w)
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var all []landed
	for _, rs := range results {
		all = append(all, rs...)
	}
	return all
}

// concurrentPayload names entry e of batch b of writer w.
func concurrentPayload(w, b, e int) []byte {
	return fmt.Appendf(nil, "writer %02d batch %03d entry %d", w, b, e)
}

// checkLanded checks that the batches that landed on partition p tile its
// log from position 1, gaplessly, and that each position holds exactly what
// the batch given it wrote.
func checkLanded(t testing.TB, st *store, p int, batches []landed) {
	t.Helper()
	ctx := t.Context()
	slices.SortFunc(batches, func(a, b landed) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	next := uint64(1)
	for i, b := range batches {
		if b.first != next {
			prev := "nothing"
			if i > 0 {
				a := batches[i-1]
				prev = fmt.Sprintf("writer %d batch %d (positions %d..%d)", a.writer, a.batch, a.first, a.first+uint64(len(a.data))-1)
			}
			t.Fatalf("partition %d: writer %d batch %d (%d entries) got first position %d, want %d: it follows %s",
				p, b.writer, b.batch, len(b.data), b.first, next, prev)
		}
		next += uint64(len(b.data))
	}
	checkBounds(t, ctx, st, p, storage.Bounds{First: min(1, next-1), Last: next - 1})
	all := read(t, ctx, st, p, 1, 0)
	if uint64(len(all)) != next-1 {
		t.Fatalf("partition %d: read %d entries, want %d", p, len(all), next-1)
	}
	for _, b := range batches {
		for e, want := range b.data {
			got := all[b.first-1+uint64(e)]
			if got.Position != b.first+uint64(e) || !bytes.Equal(got.Data, want) {
				t.Fatalf("partition %d position %d: holds %s (read as position %d), want %s: writer %d batch %d was given first position %d",
					p, b.first+uint64(e), show(got.Data), got.Position, show(want), b.writer, b.batch, b.first)
			}
		}
	}
}

func testConcurrentAppenders(t *testing.T, s *suite) {
	const (
		writers = 16
		batches = 25
	)
	ctx, st := s.ctx(t), s.fresh(t, storage.WithPartitions(3))
	all := writeConcurrently(t, writers, func(w int) (out []landed) {
		p := w % st.Partitions()
		for b := range batches {
			n := 1 + (w+b)%4
			data := make([][]byte, n)
			for e := range data {
				data[e] = concurrentPayload(w, b, e)
			}
			batch := storage.NewBatch(p, 0)
			batch.Append(data...)
			batch.Put(fmt.Appendf(nil, "writer %02d", w), fmt.Appendf(nil, "batch %03d", b))
			first, err := st.Commit(ctx, batch)
			if err != nil {
				t.Errorf("writer %d batch %d to partition %d: %v", w, b, p, err)
				return out
			}
			if err := readOwnWrite(ctx, st, p, first, data); err != nil {
				t.Errorf("writer %d batch %d: %v", w, b, err)
				return out
			}
			out = append(out, landed{w, b, p, first, data})
		}
		return out
	})

	perPartition := make([][]landed, st.Partitions())
	entries := 0
	for _, r := range all {
		perPartition[r.partition] = append(perPartition[r.partition], r)
		entries += len(r.data)
	}
	for p, bs := range perPartition {
		checkLanded(t, st, p, bs)
	}
	for w := range writers {
		checkValue(t, ctx, st, w%st.Partitions(), fmt.Appendf(nil, "writer %02d", w), fmt.Appendf(nil, "batch %03d", batches-1))
	}

	m := st.Metrics()
	groups, nbatches, nentries := m.Groups.Load(), m.Batches.Load(), m.Entries.Load()
	if groups == 0 || groups > nbatches {
		t.Errorf("metrics: %d groups for %d batches, want 1 <= groups <= batches", groups, nbatches)
	}
	if nbatches != writers*batches {
		t.Errorf("metrics: %d batches, want %d", nbatches, writers*batches)
	}
	if nentries != uint64(entries) {
		t.Errorf("metrics: %d entries, want %d", nentries, entries)
	}
	t.Logf("%d batches in %d group commits", nbatches, groups)
}

// testConcurrentFenced: batches refused for a stale epoch or a stale token
// claim, committed in the same groups as good ones, take no position and
// leave no trace, and the good ones land gaplessly.
func testConcurrentFenced(t *testing.T, s *suite) {
	const (
		writers = 16
		batches = 20
		timeout = time.Minute
	)
	clock := NewClock(clockStart)
	ctx, st := s.ctx(t), s.fresh(t, storage.WithClock(clock.Now))
	own, err := st.Ownership().ClaimPartition(ctx, 0, "node", timeout)
	noErr(t, "claim partition 0", err)
	tokens := st.Tokens()
	noErr(t, "initialize segments", tokens.InitializeSegments(ctx, "proc", 1, []byte("initial")))
	stale, err := tokens.ClaimSegment(ctx, "proc", 0, "worker", timeout)
	noErr(t, "claim segment", err)
	_, err = tokens.ClaimSegment(ctx, "proc", 0, "worker", timeout) // fences stale
	noErr(t, "claim segment again", err)

	all := writeConcurrently(t, writers, func(w int) (out []landed) {
		for b := range batches {
			data := [][]byte{concurrentPayload(w, b, 0), concurrentPayload(w, b, 1)}
			batch := storage.NewBatch(0, own.Epoch)
			batch.Append(data...)
			bad := w%2 == 1
			if bad {
				batch.Put(fmt.Appendf(nil, "fenced writer %02d batch %03d", w, b), []byte("must not exist"))
				if b%2 == 0 {
					batch.Epoch = own.Epoch + 1000
				} else {
					batch.SaveToken(stale.Claim(), []byte("must not be stored"))
				}
			}
			first, err := st.Commit(ctx, batch)
			switch {
			case bad && !errors.Is(err, storage.ErrFenced):
				t.Errorf("writer %d batch %d, fenced: got first %d error %v, want ErrFenced", w, b, first, err)
				return out
			case bad:
			case err != nil:
				t.Errorf("writer %d batch %d at the current epoch: %v", w, b, err)
				return out
			default:
				out = append(out, landed{w, b, 0, first, data})
			}
		}
		return out
	})
	entries := 0
	for _, r := range all {
		entries += len(r.data)
	}
	checkLanded(t, st, 0, all)
	if got := st.Metrics().Entries.Load(); got != uint64(entries) {
		t.Errorf("metrics: %d entries, want %d: fenced batches must not count", got, entries)
	}
	if kvs := scan(t, ctx, st, 0, []byte("fenced")); len(kvs) > 0 {
		t.Fatalf("partition 0: state writes of fenced batches were applied: %s", keyList(kvs))
	}
	segs, err := tokens.Segments(ctx, "proc")
	noErr(t, "segments", err)
	if len(segs) != 1 || !bytes.Equal(segs[0].Token, []byte("initial")) {
		t.Fatalf("segments of proc after fenced token writes: %+v, want one segment with token \"initial\"", segs)
	}
}

// testVisibleInOrder: while several writers commit to one partition (their
// groups may be in flight at once), a tail sees positions 1, 2, 3, ... with
// no hole, never a position Bounds does not cover, and Bounds never covers a
// position Read cannot return.
func testVisibleInOrder(t *testing.T, s *suite) {
	const (
		writers = 8
		batches = 40
	)
	ctx, st := s.ctx(t), s.fresh(t)
	tail, err := st.Tail(0, 1)
	noErr(t, "tail", err)
	results := make([][]landed, writers)
	total := 0
	for w := range writers {
		for b := range batches {
			total += 1 + (w+b)%4
		}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			<-start
			for b := range batches {
				data := make([][]byte, 1+(w+b)%4)
				for e := range data {
					data[e] = concurrentPayload(w, b, e)
				}
				first, err := st.Append(ctx, 0, 0, data...)
				if err == nil {
					err = readOwnWrite(ctx, st, 0, first, data)
				}
				if err != nil {
					t.Errorf("writer %d batch %d: %v", w, b, err)
					return
				}
				results[w] = append(results[w], landed{w, b, 0, first, data})
			}
		})
	}
	close(start)

	var seen []entry
	for len(seen) < total && !t.Failed() {
		r := next(ctx, tail, 50)
		if r.err != nil {
			t.Fatalf("tail after %d of %d entries: %v", len(seen), total, r.err)
		}
		for _, e := range r.entries {
			if want := uint64(len(seen) + 1); e.Position != want {
				t.Fatalf("tail: got position %d after %d, want %d: a later position became visible before an earlier one", e.Position, len(seen), want)
			}
			seen = append(seen, e)
		}
		// Bounds covers what the tail saw, and Read returns everything
		// Bounds covers.
		bounds, err := st.Bounds(ctx, 0)
		noErr(t, "bounds", err)
		if bounds.Last < uint64(len(seen)) {
			t.Fatalf("bounds of partition 0 end at %d, but the tail already read position %d", bounds.Last, len(seen))
		}
		from := uint64(len(seen)) + 1
		got := read(t, ctx, st, 0, from, int(bounds.Last-from+1))
		if bounds.Last >= from && (len(got) != int(bounds.Last-from+1) || got[0].Position != from) {
			t.Fatalf("bounds of partition 0 end at %d, but reading %d..%d gives %d entries %s", bounds.Last, from, bounds.Last, len(got), positions(got))
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var all []landed
	for _, rs := range results {
		all = append(all, rs...)
	}
	checkLanded(t, st, 0, all)
	byPosition := read(t, ctx, st, 0, 1, 0)
	for i, e := range seen {
		if !bytes.Equal(e.Data, byPosition[i].Data) {
			t.Fatalf("partition 0 position %d: the tail saw %s, Read gives %s", e.Position, show(e.Data), show(byPosition[i].Data))
		}
	}
}
