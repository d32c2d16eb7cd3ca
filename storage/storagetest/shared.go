package storagetest

import (
	"fmt"
	"testing"

	"eddy/storage"
)

// sharedTests check two stores open on one location at once, as several
// nodes share one PostgreSQL. They run only with Features.SharedLocation.
var sharedTests = []test{
	{"PartitionCount", testSharedPartitionCount},
	{"Ownership", testSharedOwnership},
	{"Tokens", testSharedTokens},
	{"AppendVisible", testSharedAppendVisible},
	{"TailWakesAcrossStores", testSharedTail},
	{"ConcurrentAppends", testSharedConcurrentAppends},
	{"ConcurrentPartitionClaims", testSharedPartitionClaims},
	{"ConcurrentSegmentClaims", testSharedSegmentClaims},
}

func testSharedPartitionClaims(t *testing.T, s *suite) {
	a, b, clock := s.pair(t)
	racePartitionClaims(t, []*store{a, b}, clock)
}

func testSharedSegmentClaims(t *testing.T, s *suite) {
	a, b, clock := s.pair(t)
	raceSegmentClaims(t, []*store{a, b}, clock)
}

// pair opens two stores on one fresh location, on one fake clock; it skips
// the test unless the backend supports a shared location.
func (s *suite) pair(t testing.TB, opts ...storage.Opt) (a, b *store, clock *Clock) {
	t.Helper()
	if !s.features.SharedLocation {
		t.Skipf("backend %s does not support two stores on one location (Features.SharedLocation)", s.backend)
	}
	clock = NewClock(clockStart)
	location := s.newLocation(t)
	opts = append([]storage.Opt{storage.WithClock(clock.Now)}, opts...)
	a = s.open(t, location, opts...)
	b = s.open(t, location, opts...)
	return a, b, clock
}

func testSharedPartitionCount(t *testing.T, s *suite) {
	a, _, _ := s.pair(t, storage.WithPartitions(5))
	third := s.open(t, a.location)
	if third.Partitions() != 5 {
		t.Fatalf("third store on a location of 5 partitions, without WithPartitions: %d partitions", third.Partitions())
	}
	if other, err := s.tryOpen(t, a.location, storage.WithPartitions(2)); err == nil {
		t.Fatalf("store WithPartitions(2) on a location of 5 partitions: no error, %d partitions", other.Partitions())
	}
}

func testSharedOwnership(t *testing.T, s *suite) {
	a, b, clock := s.pair(t)
	ca := claimPartition(t, a, 0, "node-a")
	_, err := b.Ownership().ClaimPartition(t.Context(), 0, "node-b", claimTimeout)
	wantErr(t, "node-b, on the other store, claims partition 0 held by node-a", err, storage.ErrClaimed)
	if got := currentClaim(t, b, 0); got.Owner != "node-a" || got.Epoch != ca.Epoch {
		t.Fatalf("the other store sees partition 0 as %+v, want node-a at epoch %d", got, ca.Epoch)
	}
	checkWrite(t, b, 0, 0, storage.ErrFenced, "epoch 0 through the other store on a partition node-a holds")
	checkWrite(t, a, 0, ca.Epoch, nil, "node-a writes")

	clock.Advance(claimTimeout)
	cb := claimPartition(t, b, 0, "node-b")
	if cb.Epoch <= ca.Epoch {
		t.Fatalf("node-b stole partition 0: epoch %d, want above %d", cb.Epoch, ca.Epoch)
	}
	checkWrite(t, a, 0, ca.Epoch, storage.ErrFenced, "node-a after node-b stole partition 0")
	wantErr(t, "node-a renews after the steal", a.Ownership().RenewPartition(t.Context(), ca), storage.ErrFenced)
	checkWrite(t, b, 0, cb.Epoch, nil, "node-b after the steal")
	checkBounds(t, t.Context(), a, 0, storage.Bounds{First: 1, Last: 2})
}

func testSharedTokens(t *testing.T, s *suite) {
	a, b, clock := s.pair(t)
	noErr(t, "initialize", a.Tokens().InitializeSegments(t.Context(), "proc", 2, []byte("t0")))
	wantErr(t, "initialize again on the other store", b.Tokens().InitializeSegments(t.Context(), "proc", 2, nil), storage.ErrExists)
	sa := claimSegment(t, a, "proc", 0, "worker-a")
	_, err := b.Tokens().ClaimSegment(t.Context(), "proc", 0, "worker-b", claimTimeout)
	wantErr(t, "worker-b, on the other store, claims proc/0", err, storage.ErrClaimed)
	noErr(t, "store token", a.Tokens().StoreToken(t.Context(), sa.Claim(), []byte("t1")))
	checkToken(t, b, "proc", 0, []byte("t1"))
	clock.Advance(claimTimeout)
	claimSegment(t, b, "proc", 0, "worker-b")
	wantErr(t, "worker-a stores after the steal", a.Tokens().StoreToken(t.Context(), sa.Claim(), []byte("stale")), storage.ErrFenced)
	checkToken(t, a, "proc", 0, []byte("t1"))
}

func testSharedAppendVisible(t *testing.T, s *suite) {
	a, b, _ := s.pair(t)
	ctx := s.ctx(t)
	appendAt(t, ctx, a, 0, 1, records(0, 1, 3)...)
	appendAt(t, ctx, b, 0, 4, records(0, 4, 2)...)
	put(t, a, 1, kv{[]byte("k"), []byte("from a")})
	for name, st := range map[string]*store{"a": a, "b": b} {
		checkEntries(t, "store "+name+" reads both stores' appends", 0, read(t, ctx, st, 0, 1, 0), 1, records(0, 1, 5))
		checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 5})
		checkValue(t, ctx, st, 1, []byte("k"), []byte("from a"))
	}
}

func testSharedTail(t *testing.T, s *suite) {
	a, b, _ := s.pair(t)
	ctx := s.ctx(t)
	tail, err := b.Tail(0, 1)
	noErr(t, "tail on store b", err)
	for i := 1; i <= 20; i++ {
		done := startNext(ctx, tail, 10)
		appendAt(t, ctx, a, 0, uint64(i), record(0, i))
		r := receive(t, ctx, done, fmt.Sprintf("tail on store b after store a appended position %d", i))
		noErr(t, "Next on store b", r.err)
		checkEntries(t, "tail on store b woken by store a", 0, r.entries, uint64(i), [][]byte{record(0, i)})
	}
}

func testSharedConcurrentAppends(t *testing.T, s *suite) {
	const (
		writers = 16
		batches = 15
	)
	a, b, _ := s.pair(t)
	ctx := s.ctx(t)
	all := writeConcurrently(t, writers, func(w int) (out []landed) {
		st := a
		if w%2 == 1 {
			st = b
		}
		for bn := range batches {
			data := make([][]byte, 1+(w+bn)%3)
			for e := range data {
				data[e] = concurrentPayload(w, bn, e)
			}
			first, err := st.Append(ctx, 0, 0, data...)
			if err != nil {
				t.Errorf("writer %d batch %d: %v", w, bn, err)
				return out
			}
			out = append(out, landed{w, bn, 0, first, data})
		}
		return out
	})
	checkLanded(t, a, 0, all)
	checkLanded(t, b, 0, all)
}
