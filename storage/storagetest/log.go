package storagetest

import (
	"errors"
	"fmt"
	"testing"

	"eddy/storage"
)

// logTests check appending and reading a partition's log.
var logTests = []test{
	{"AppendSingle", testAppendSingle},
	{"AppendBatches", testAppendBatches},
	{"ReadRanges", testReadRanges},
	{"ReadStopsAtCallbackError", testReadCallbackError},
	{"Bounds", testBounds},
	{"PartitionsIndependent", testPartitionsIndependent},
	{"EmptyEntries", testEmptyEntries},
	{"LargeEntry", testLargeEntry},
	{"OversizedEntry", testOversizedEntry},
	{"ManyEntriesInOneBatch", testManyEntries},
	{"BufferReuseAfterCommit", testBufferReuse},
	{"PartitionOutOfRange", testPartitionOutOfRange},
	{"PartitionCount", testPartitionCount},
}

func testAppendSingle(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	appendAt(t, ctx, st, 0, 2, record(0, 2))
	checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 2})
	checkEntries(t, "read after two appends", 0, read(t, ctx, st, 0, 1, 0), 1, records(0, 1, 2))
}

func testAppendBatches(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	next := 1
	for _, n := range []int{1, 3, 5, 1, 100} {
		b := storage.NewBatch(1, 0)
		b.Append(records(1, next, n)...)
		if first := commit(t, ctx, st, b); first != uint64(next) {
			t.Fatalf("batch of %d entries to partition 1: first position %d, want %d", n, first, next)
		}
		next += n
	}
	all := read(t, ctx, st, 1, 1, 0)
	checkEntries(t, "read after batches", 1, all, 1, records(1, 1, next-1))
	checkBounds(t, ctx, st, 1, storage.Bounds{First: 1, Last: uint64(next - 1)})
}

func testReadRanges(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, records(0, 1, 10)...)
	cases := []struct {
		name  string
		from  uint64
		limit int
		first int // first record expected
		n     int // how many
	}{
		{"from 0 means the beginning", 0, 0, 1, 10},
		{"from the beginning", 1, 0, 1, 10},
		{"from the middle", 4, 0, 4, 7},
		{"from the middle with a limit", 4, 3, 4, 3},
		{"limit past the end", 8, 100, 8, 3},
		{"limit 1", 10, 1, 10, 1},
		{"from the last", 10, 0, 10, 1},
		{"from just past the end", 11, 0, 0, 0},
		{"from far past the end", 1000, 5, 0, 0},
	}
	for _, c := range cases {
		got := read(t, ctx, st, 0, c.from, c.limit)
		var want [][]byte
		if c.n > 0 {
			want = records(0, c.first, c.n)
		}
		checkEntries(t, c.name, 0, got, uint64(c.first), want)
	}
}

func testReadCallbackError(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, records(0, 1, 5)...)
	stop := errors.New("stop here")
	calls := 0
	err := st.Read(ctx, 0, 1, 0, func(e storage.Entry) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("read whose callback fails at the second entry: got error %v, want the callback's error", err)
	}
	if calls != 2 {
		t.Fatalf("read whose callback fails at the second entry: callback called %d times, want 2", calls)
	}
}

func testBounds(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	for p := range st.Partitions() {
		checkBounds(t, ctx, st, p, storage.Bounds{})
	}
	appendAt(t, ctx, st, 2, 1, records(2, 1, 7)...)
	checkBounds(t, ctx, st, 2, storage.Bounds{First: 1, Last: 7})
	checkBounds(t, ctx, st, 0, storage.Bounds{})
}

func testPartitionsIndependent(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t, storage.WithPartitions(4))
	counts := []int{5, 0, 3, 8}
	next := make([]int, len(counts))
	// Interleave appends of one and two entries over the partitions.
	for round := 0; ; round++ {
		progress := false
		for p, n := range counts {
			if next[p] >= n {
				continue
			}
			k := 1 + round%2
			k = min(k, n-next[p])
			appendAt(t, ctx, st, p, uint64(next[p]+1), records(p, next[p]+1, k)...)
			next[p] += k
			progress = true
		}
		if !progress {
			break
		}
	}
	for p, n := range counts {
		var want [][]byte
		bounds := storage.Bounds{}
		if n > 0 {
			want, bounds = records(p, 1, n), storage.Bounds{First: 1, Last: uint64(n)}
		}
		checkEntries(t, "read each partition", p, read(t, ctx, st, p, 1, 0), 1, want)
		checkBounds(t, ctx, st, p, bounds)
	}
}

func testEmptyEntries(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	b := storage.NewBatch(0, 0)
	b.Append([]byte{}, record(0, 2), nil, []byte{})
	if first := commit(t, ctx, st, b); first != 1 {
		t.Fatalf("batch with empty entries: first position %d, want 1", first)
	}
	got := read(t, ctx, st, 0, 1, 0)
	checkEntries(t, "read empty entries", 0, got, 1, [][]byte{{}, record(0, 2), {}, {}})
	checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 4})
}

func testLargeEntry(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	appendAt(t, ctx, st, 0, 1, big, record(0, 2))
	got := read(t, ctx, st, 0, 1, 0)
	checkEntries(t, "read 1 MiB entry", 0, got, 1, [][]byte{big, record(0, 2)})
}

func testOversizedEntry(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	b := storage.NewBatch(0, 0)
	b.Append(record(0, 2), make([]byte, storage.MaxEntrySize+1))
	_, err := st.Commit(ctx, b)
	wantErr(t, "commit of an entry one byte over MaxEntrySize", err, storage.ErrInvalid)
	checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 1})
	appendAt(t, ctx, st, 0, 2, record(0, 2))
}

// testManyEntries: one batch may carry tens of thousands of entries and
// state writes (a replay, a bulk import); a backend must not hit a limit of
// its own, such as a cap on statement parameters.
func testManyEntries(t *testing.T, s *suite) {
	const n = 40_000
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	b := storage.NewBatch(0, 0)
	b.Append(records(0, 2, n)...)
	for i := range n / 2 {
		b.Put(fmt.Appendf(nil, "key %06d", i), record(0, i))
	}
	if first := commit(t, ctx, st, b); first != 2 {
		t.Fatalf("batch of %d entries: first position %d, want 2", n, first)
	}
	checkEntries(t, "read a batch of many entries", 0, read(t, ctx, st, 0, 1, 0), 1, records(0, 1, n+1))
	if kvs := scan(t, ctx, st, 0, []byte("key ")); len(kvs) != n/2 {
		t.Fatalf("scan after a batch of %d state writes: %d keys", n/2, len(kvs))
	}
	appendAt(t, ctx, st, 0, n+2, record(0, n+2))
}

// testBufferReuse: the batch does not copy its slices, but once Commit
// returns the caller may reuse them.
func testBufferReuse(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	buf := []byte("first entry")
	key, value := []byte("key"), []byte("value")
	b := storage.NewBatch(0, 0)
	b.Append(buf)
	b.Put(key, value)
	commit(t, ctx, st, b)
	copy(buf, "XXXXXXXXXXX")
	copy(key, "kez")
	copy(value, "VALUE")
	checkEntries(t, "read after the caller reused its buffer", 0, read(t, ctx, st, 0, 1, 0), 1, [][]byte{[]byte("first entry")})
	checkValue(t, ctx, st, 0, []byte("key"), []byte("value"))
	checkMissing(t, ctx, st, 0, []byte("kez"))

}

func testPartitionOutOfRange(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t, storage.WithPartitions(3))
	for _, p := range []int{-1, 3, 1000} {
		b := storage.NewBatch(p, 0)
		b.Append(record(p, 1))
		_, err := st.Commit(ctx, b)
		wantErr(t, "commit to a partition out of range", err, storage.ErrInvalid)

		b = storage.NewBatch(p, 0)
		b.Put([]byte("k"), []byte("v"))
		_, err = st.Commit(ctx, b)
		wantErr(t, "state-only commit to a partition out of range", err, storage.ErrInvalid)

		_, err = st.Append(ctx, p, 0, record(p, 1))
		wantErr(t, "append to a partition out of range", err, storage.ErrInvalid)
		err = st.Read(ctx, p, 1, 0, func(storage.Entry) error { return nil })
		wantErr(t, "read of a partition out of range", err, storage.ErrInvalid)
		_, err = st.Bounds(ctx, p)
		wantErr(t, "bounds of a partition out of range", err, storage.ErrInvalid)
		_, err = st.SeekTime(ctx, p, clockStart)
		wantErr(t, "seek time in a partition out of range", err, storage.ErrInvalid)
		_, err = st.Get(ctx, p, []byte("k"))
		wantErr(t, "get in a partition out of range", err, storage.ErrInvalid)
		err = st.Scan(ctx, p, nil, func(k, v []byte) error { return nil })
		wantErr(t, "scan of a partition out of range", err, storage.ErrInvalid)
		_, err = st.Tail(p, 1)
		wantErr(t, "tail of a partition out of range", err, storage.ErrInvalid)
		_, err = st.Ownership().ClaimPartition(ctx, p, "node", 1)
		wantErr(t, "claim of a partition out of range", err, storage.ErrInvalid)
	}
	for p := range 3 {
		checkBounds(t, ctx, st, p, storage.Bounds{})
	}
}

func testPartitionCount(t *testing.T, s *suite) {
	st := s.fresh(t)
	if got := st.Partitions(); got != storage.DefaultPartitions {
		t.Fatalf("new store without WithPartitions has %d partitions, want DefaultPartitions (%d)", got, storage.DefaultPartitions)
	}
	st = s.fresh(t, storage.WithPartitions(7))
	if got := st.Partitions(); got != 7 {
		t.Fatalf("new store WithPartitions(7) has %d partitions", got)
	}
}
