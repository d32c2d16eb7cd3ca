package storagetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"eddy/storage"
)

// stateTests check the key-value state beside each partition's log.
var stateTests = []test{
	{"PutGetDelete", testPutGetDelete},
	{"EmptyValue", testEmptyValue},
	{"EmptyKey", testEmptyKey},
	{"LaterWriteInBatchWins", testLaterWriteWins},
	{"ScanPrefix", testScanPrefix},
	{"ScanStopsAtCallbackError", testScanCallbackError},
	{"PartitionsSeparate", testStatePartitionsSeparate},
	{"StateOnlyBatch", testStateOnlyBatch},
	{"EntriesAndStateTogether", testEntriesAndState},
	{"FencedBatchAppliesNothing", testFencedBatchAtomic},
}

func put(t testing.TB, st *store, p int, kvs ...kv) {
	t.Helper()
	b := storage.NewBatch(p, 0)
	for _, e := range kvs {
		b.Put(e.key, e.value)
	}
	commit(t, t.Context(), st, b)
}

func testPutGetDelete(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	k := []byte("instance/42")
	checkMissing(t, ctx, st, 0, k)
	put(t, st, 0, kv{k, []byte("v1")})
	checkValue(t, ctx, st, 0, k, []byte("v1"))
	put(t, st, 0, kv{k, []byte("v2, longer than v1")})
	checkValue(t, ctx, st, 0, k, []byte("v2, longer than v1"))
	put(t, st, 0, kv{k, []byte("3")})
	checkValue(t, ctx, st, 0, k, []byte("3"))

	b := storage.NewBatch(0, 0)
	b.Delete(k)
	if first := commit(t, ctx, st, b); first != 0 {
		t.Fatalf("delete-only batch: first position %d, want 0", first)
	}
	checkMissing(t, ctx, st, 0, k)

	// Deleting a missing key is not an error.
	b = storage.NewBatch(0, 0)
	b.Delete([]byte("never written"))
	commit(t, ctx, st, b)

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	put(t, st, 0, kv{k, big})
	checkValue(t, ctx, st, 0, k, big)
}

func testEmptyValue(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	put(t, st, 0, kv{[]byte("empty"), []byte{}}, kv{[]byte("nil"), nil})
	for _, k := range []string{"empty", "nil"} {
		got, err := st.Get(ctx, 0, []byte(k))
		if err != nil || len(got) != 0 {
			t.Fatalf("get partition 0 key %q put with an empty value: value %s error %v, want an empty value", k, show(got), err)
		}
	}
	checkScan(t, 0, nil, scan(t, ctx, st, 0, nil), []kv{{[]byte("empty"), []byte{}}, {[]byte("nil"), []byte{}}})
}

func testEmptyKey(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	b := storage.NewBatch(0, 0)
	b.Append(record(0, 1))
	b.Put(nil, []byte("v"))
	_, err := st.Commit(ctx, b)
	wantErr(t, "commit of a put with an empty key", err, storage.ErrInvalid)
	b = storage.NewBatch(0, 0)
	b.Delete([]byte{})
	_, err = st.Commit(ctx, b)
	wantErr(t, "commit of a delete with an empty key", err, storage.ErrInvalid)
	_, err = st.Get(ctx, 0, nil)
	wantErr(t, "get with an empty key", err, storage.ErrInvalid)
	checkBounds(t, ctx, st, 0, storage.Bounds{})
}

func testLaterWriteWins(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	put(t, st, 0, kv{[]byte("deleted then put"), []byte("old")}, kv{[]byte("put then deleted"), []byte("old")})
	b := storage.NewBatch(0, 0)
	b.Put([]byte("put twice"), []byte("first"))
	b.Put([]byte("put twice"), []byte("second"))
	b.Delete([]byte("deleted then put"))
	b.Put([]byte("deleted then put"), []byte("new"))
	b.Put([]byte("put then deleted"), []byte("new"))
	b.Delete([]byte("put then deleted"))
	b.Put([]byte("put, deleted, put"), []byte("1"))
	b.Delete([]byte("put, deleted, put"))
	b.Put([]byte("put, deleted, put"), []byte("3"))
	commit(t, ctx, st, b)
	checkValue(t, ctx, st, 0, []byte("put twice"), []byte("second"))
	checkValue(t, ctx, st, 0, []byte("deleted then put"), []byte("new"))
	checkMissing(t, ctx, st, 0, []byte("put then deleted"))
	checkValue(t, ctx, st, 0, []byte("put, deleted, put"), []byte("3"))
}

// scanKeys are keys around the edges of byte order: 0x00 and 0xff inside,
// at the end and alone.
var scanKeys = [][]byte{
	{0x00}, {0x00, 0x00}, {0x00, 0xff}, {0x01},
	[]byte("a"), []byte("a\x00"), []byte("a\x00\x01"), []byte("a\x01"), []byte("a\x7f"), []byte("a\x80"),
	[]byte("a\xff"), []byte("a\xff\x00"), []byte("a\xff\xff"), []byte("a\xff\xff\xff"),
	[]byte("ab"), []byte("b"), []byte("b\xff"), []byte("ba"),
	{0x7f}, {0x80}, {0xfe, 0xff}, {0xff}, {0xff, 0x00}, {0xff, 0xff}, {0xff, 0xff, 0x00}, {0xff, 0xff, 0xff, 0xff},
}

func testScanPrefix(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	var all []kv
	b := storage.NewBatch(0, 0)
	// Put in an order that is not byte order.
	for i := len(scanKeys) - 1; i >= 0; i -= 2 {
		b.Put(scanKeys[i], append([]byte("value of "), scanKeys[i]...))
	}
	for i := len(scanKeys) - 2; i >= 0; i -= 2 {
		b.Put(scanKeys[i], append([]byte("value of "), scanKeys[i]...))
	}
	commit(t, ctx, st, b)
	for _, k := range scanKeys {
		all = append(all, kv{k, append([]byte("value of "), k...)})
	}
	slices.SortFunc(all, func(a, b kv) int { return bytes.Compare(a.key, b.key) })
	// Other partitions' keys must not show up.
	put(t, st, 1, kv{[]byte("a"), []byte("partition 1")}, kv{[]byte{0xff}, []byte("partition 1")})

	prefixes := [][]byte{
		nil, {}, {0x00}, {0x00, 0x00}, []byte("a"), []byte("a\x00"), []byte("a\xff"), []byte("a\xff\xff"),
		[]byte("b"), {0xff}, {0xff, 0xff}, {0xff, 0xff, 0xff}, {0xfe}, []byte("zz"), []byte("ab"), []byte("abc"),
	}
	for _, prefix := range prefixes {
		var want []kv
		for _, e := range all {
			if bytes.HasPrefix(e.key, prefix) {
				want = append(want, e)
			}
		}
		checkScan(t, 0, prefix, scan(t, ctx, st, 0, prefix), want)
	}
}

func testScanCallbackError(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	put(t, st, 0, kv{[]byte("k1"), []byte("1")}, kv{[]byte("k2"), []byte("2")}, kv{[]byte("k3"), []byte("3")})
	stop := errors.New("stop")
	var seen []string
	err := st.Scan(ctx, 0, []byte("k"), func(k, v []byte) error {
		seen = append(seen, string(k))
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(seen, []string{"k1", "k2"}) {
		t.Fatalf("scan whose callback fails at the second key: saw %q, error %v; want [k1 k2] and the callback's error", seen, err)
	}
}

func testStatePartitionsSeparate(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t, storage.WithPartitions(3))
	k := []byte("same key")
	put(t, st, 0, kv{k, []byte("zero")})
	put(t, st, 1, kv{k, []byte("one")})
	checkValue(t, ctx, st, 0, k, []byte("zero"))
	checkValue(t, ctx, st, 1, k, []byte("one"))
	checkMissing(t, ctx, st, 2, k)
	b := storage.NewBatch(0, 0)
	b.Delete(k)
	commit(t, ctx, st, b)
	checkMissing(t, ctx, st, 0, k)
	checkValue(t, ctx, st, 1, k, []byte("one"))
	checkScan(t, 2, nil, scan(t, ctx, st, 2, nil), nil)
	checkScan(t, 1, nil, scan(t, ctx, st, 1, nil), []kv{{k, []byte("one")}})
}

func testStateOnlyBatch(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	b := storage.NewBatch(0, 0)
	b.Put([]byte("k"), []byte("v"))
	if first := commit(t, ctx, st, b); first != 0 {
		t.Fatalf("state-only batch to partition 0: first position %d, want 0", first)
	}
	checkValue(t, ctx, st, 0, []byte("k"), []byte("v"))
	checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 1})
	appendAt(t, ctx, st, 0, 2, record(0, 2))

	if first := commit(t, ctx, st, storage.NewBatch(0, 0)); first != 0 {
		t.Fatalf("empty batch: first position %d, want 0", first)
	}
	checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 2})
}

func testEntriesAndState(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 1, 1, record(1, 1))
	b := storage.NewBatch(1, 0)
	b.Append(records(1, 2, 3)...)
	b.Put([]byte("position"), []byte("4"))
	if first := commit(t, ctx, st, b); first != 2 {
		t.Fatalf("batch of entries and state on partition 1: first position %d, want 2", first)
	}
	checkEntries(t, "entries committed with state", 1, read(t, ctx, st, 1, 1, 0), 1, records(1, 1, 4))
	checkValue(t, ctx, st, 1, []byte("position"), []byte("4"))
}

// testFencedBatchAtomic: a batch refused for its epoch applies none of its
// entries, state writes or token writes.
func testFencedBatchAtomic(t *testing.T, s *suite) {
	clock := NewClock(clockStart)
	ctx, st := s.ctx(t), s.fresh(t, storage.WithClock(clock.Now))
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	put(t, st, 0, kv{[]byte("existing"), []byte("before")})
	tokens := st.Tokens()
	noErr(t, "initialize segments", tokens.InitializeSegments(ctx, "proc", 1, []byte("initial")))
	seg, err := tokens.ClaimSegment(ctx, "proc", 0, "worker", time.Minute)
	noErr(t, "claim segment", err)
	own, err := st.Ownership().ClaimPartition(ctx, 0, "node", time.Minute)
	noErr(t, "claim partition 0", err)

	for _, epoch := range []uint64{0, own.Epoch + 1, own.Epoch + 1000} {
		b := storage.NewBatch(0, epoch)
		b.Append(record(0, 2), record(0, 3))
		b.Put([]byte("existing"), []byte("after"))
		b.Put([]byte("new"), []byte("after"))
		b.Delete([]byte("existing"))
		b.SaveToken(seg.Claim(), []byte("after"))
		first, err := st.Commit(ctx, b)
		if !errors.Is(err, storage.ErrFenced) {
			t.Fatalf("batch at epoch %d to partition 0 owned at epoch %d: first %d error %v, want ErrFenced", epoch, own.Epoch, first, err)
		}
		checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 1})
		checkValue(t, ctx, st, 0, []byte("existing"), []byte("before"))
		checkMissing(t, ctx, st, 0, []byte("new"))
		checkToken(t, st, "proc", 0, []byte("initial"))
	}

	// The same batch at the current epoch applies everything.
	b := storage.NewBatch(0, own.Epoch)
	b.Append(record(0, 2))
	b.Put([]byte("new"), []byte("after"))
	b.SaveToken(seg.Claim(), []byte("after"))
	if first := commit(t, ctx, st, b); first != 2 {
		t.Fatalf("batch at the current epoch: first position %d, want 2", first)
	}
	checkValue(t, ctx, st, 0, []byte("new"), []byte("after"))
	checkToken(t, st, "proc", 0, []byte("after"))
}
