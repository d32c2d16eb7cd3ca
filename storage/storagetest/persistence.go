package storagetest

import (
	"testing"
	"time"

	"eddy/storage"
)

// persistenceTests check that a closed store opens again with everything it
// held, and that its shape is fixed when it is created.
var persistenceTests = []test{
	{"Reopen", testReopen},
	{"PartitionCountFixed", testPartitionCountFixed},
}

func testReopen(t *testing.T, s *suite) {
	clock := NewClock(clockStart)
	location := s.newLocation(t)
	st := s.open(t, location, storage.WithClock(clock.Now), storage.WithPartitions(3))
	ctx := s.ctx(t)

	own := claimPartition(t, st, 1, "node-a")
	appendAt(t, ctx, st, 0, 1, records(0, 1, 5)...)
	b := storage.NewBatch(1, own.Epoch)
	b.Append(records(1, 1, 2)...)
	b.Put([]byte("k1"), []byte("v1"))
	b.Put([]byte{0xff, 0x00}, []byte("binary"))
	commit(t, ctx, st, b)
	put(t, st, 2, kv{[]byte("k2"), []byte("v2")})
	noErr(t, "initialize segments", st.Tokens().InitializeSegments(ctx, "proc", 2, []byte("t0")))
	seg := claimSegment(t, st, "proc", 1, "worker")
	noErr(t, "store token", st.Tokens().StoreToken(ctx, seg.Claim(), []byte("t1")))
	wantTimestamps := timestamps(t, ctx, st, 0)
	st.mustClose(t)

	clock.Advance(time.Second)
	st = s.open(t, location, storage.WithClock(clock.Now))
	if st.Partitions() != 3 {
		t.Fatalf("reopened store has %d partitions, want 3", st.Partitions())
	}
	checkEntries(t, "partition 0 after reopen", 0, read(t, ctx, st, 0, 1, 0), 1, records(0, 1, 5))
	checkEntries(t, "partition 1 after reopen", 1, read(t, ctx, st, 1, 1, 0), 1, records(1, 1, 2))
	checkBounds(t, ctx, st, 2, storage.Bounds{})
	if got := timestamps(t, ctx, st, 0); len(got) != len(wantTimestamps) || got[0] != wantTimestamps[0] {
		t.Fatalf("timestamps of partition 0 after reopen: %v, want %v", got, wantTimestamps)
	}
	checkValue(t, ctx, st, 1, []byte("k1"), []byte("v1"))
	checkValue(t, ctx, st, 1, []byte{0xff, 0x00}, []byte("binary"))
	checkValue(t, ctx, st, 2, []byte("k2"), []byte("v2"))
	checkMissing(t, ctx, st, 0, []byte("k1"))

	got := currentClaim(t, st, 1)
	if got.Owner != "node-a" || got.Epoch != own.Epoch {
		t.Fatalf("claim of partition 1 after reopen: %+v, want node-a at epoch %d", got, own.Epoch)
	}
	_, err := st.Ownership().ClaimPartition(ctx, 1, "node-b", claimTimeout)
	wantErr(t, "node-b claims partition 1 after reopen", err, storage.ErrClaimed)
	checkWrite(t, st, 1, 0, storage.ErrFenced, "epoch 0 on a partition claimed before reopen")

	segs := checkLayout(t, st, "proc", [2]int{0, 1}, [2]int{1, 1})
	if segs[1].Owner != "worker" || segs[1].Epoch != seg.Epoch || string(segs[1].Token) != "t1" || string(segs[0].Token) != "t0" {
		t.Fatalf("segments after reopen: %s and %s, want proc/1 held by worker at epoch %d with token \"t1\"", describe(segs[0]), describe(segs[1]), seg.Epoch)
	}
	noErr(t, "store token after reopen", st.Tokens().StoreToken(ctx, seg.Claim(), []byte("t2")))
	wantErr(t, "initialize segments after reopen", st.Tokens().InitializeSegments(ctx, "proc", 2, nil), storage.ErrExists)

	// Appends continue gaplessly, and timestamps keep not decreasing even
	// if the clock went back while the store was closed.
	clock.Advance(-time.Hour)
	appendAt(t, ctx, st, 0, 6, record(0, 6))
	b = storage.NewBatch(1, own.Epoch)
	b.Append(record(1, 3))
	if first := commit(t, ctx, st, b); first != 3 {
		t.Fatalf("append to partition 1 after reopen: first position %d, want 3", first)
	}
	checkEntries(t, "partition 0 after reopen and append", 0, read(t, ctx, st, 0, 1, 0), 1, records(0, 1, 6))
	ts := timestamps(t, ctx, st, 0)
	if ts[5] < ts[4] {
		t.Fatalf("partition 0: timestamp %d at position 6 (after reopen, clock went back) is before %d at position 5", ts[5], ts[4])
	}
}

func testPartitionCountFixed(t *testing.T, s *suite) {
	location := s.newLocation(t)
	st := s.open(t, location, storage.WithPartitions(4))
	ctx := s.ctx(t)
	appendAt(t, ctx, st, 3, 1, record(3, 1))
	st.mustClose(t)

	for _, n := range []int{2, 5, 1} {
		other, err := s.tryOpen(t, location, storage.WithPartitions(n))
		if err == nil {
			got := other.Partitions()
			other.mustClose(t)
			t.Fatalf("reopen a store of 4 partitions WithPartitions(%d): no error, store has %d partitions", n, got)
		}
	}
	st = s.open(t, location, storage.WithPartitions(4))
	if st.Partitions() != 4 {
		t.Fatalf("reopen WithPartitions(4): %d partitions", st.Partitions())
	}
	st.mustClose(t)
	st = s.open(t, location)
	if st.Partitions() != 4 {
		t.Fatalf("reopen without WithPartitions: %d partitions, want the 4 it was created with", st.Partitions())
	}
	checkEntries(t, "partition 3 after reopens", 3, read(t, ctx, st, 3, 1, 0), 1, [][]byte{record(3, 1)})
}
