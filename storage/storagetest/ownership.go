package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"eddy/storage"
)

// ownershipTests check partition claims and the fencing of writers.
var ownershipTests = []test{
	{"ClaimUnclaimed", testClaimUnclaimed},
	{"FreshClaimRefused", testFreshClaimRefused},
	{"StealAfterTimeout", testStealAfterTimeout},
	{"EpochZero", testEpochZero},
	{"Renew", testRenewPartition},
	{"Release", testReleasePartition},
	{"SameOwnerReclaims", testSameOwnerReclaims},
	{"PartitionClaims", testPartitionClaims},
	{"ConcurrentClaims", testConcurrentPartitionClaims},
}

const claimTimeout = 30 * time.Second

// ownedStore opens a fresh store on a fake clock.
func (s *suite) ownedStore(t testing.TB, opts ...storage.Opt) (*store, *Clock) {
	t.Helper()
	clock := NewClock(clockStart)
	return s.fresh(t, append([]storage.Opt{storage.WithClock(clock.Now)}, opts...)...), clock
}

func claimPartition(t testing.TB, st *store, p int, owner string) storage.PartitionClaim {
	t.Helper()
	c, err := st.Ownership().ClaimPartition(t.Context(), p, owner, claimTimeout)
	if err != nil {
		t.Fatalf("%s claims partition %d: %v", owner, p, err)
	}
	if c.Partition != p || c.Owner != owner {
		t.Fatalf("%s claims partition %d: got claim on partition %d by %q", owner, p, c.Partition, c.Owner)
	}
	return c
}

// checkWrite appends one entry to p at epoch and checks the outcome: nil
// for success, or the error it must match.
func checkWrite(t testing.TB, st *store, p int, epoch uint64, want error, why string) {
	t.Helper()
	first, err := st.Append(t.Context(), p, epoch, []byte(why))
	switch {
	case want == nil && err != nil:
		t.Fatalf("append to partition %d at epoch %d (%s): %v", p, epoch, why, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("append to partition %d at epoch %d (%s): got first %d error %v, want %v", p, epoch, why, first, err, want)
	}
}

func currentClaim(t testing.TB, st *store, p int) storage.PartitionClaim {
	t.Helper()
	claims, err := st.Ownership().PartitionClaims(t.Context())
	noErr(t, "partition claims", err)
	if p >= len(claims) {
		t.Fatalf("partition claims: %d listed, want %d", len(claims), st.Partitions())
	}
	return claims[p]
}

func testClaimUnclaimed(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	c := claimPartition(t, st, 1, "node-a")
	if c.Epoch < 1 {
		t.Fatalf("first claim of partition 1: epoch %d, want >= 1", c.Epoch)
	}
	if !c.ClaimedAt.Equal(clock.Now()) {
		t.Errorf("claim of partition 1: claimed at %v, want the clock's %v", c.ClaimedAt, clock.Now())
	}
	if got := currentClaim(t, st, 1); got.Owner != "node-a" || got.Epoch != c.Epoch {
		t.Fatalf("partition claims after node-a claimed partition 1: %+v, want owner node-a at epoch %d", got, c.Epoch)
	}
	checkWrite(t, st, 1, c.Epoch, nil, "write at the claim's epoch")
}

func testFreshClaimRefused(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	a := claimPartition(t, st, 0, "node-a")
	for _, d := range []time.Duration{0, claimTimeout / 2, claimTimeout/2 - time.Millisecond} {
		clock.Advance(d)
		_, err := st.Ownership().ClaimPartition(t.Context(), 0, "node-b", claimTimeout)
		wantErr(t, "node-b claims partition 0 held by node-a since "+clock.Now().Sub(a.ClaimedAt).String(), err, storage.ErrClaimed)
	}
	if got := currentClaim(t, st, 0); got.Owner != "node-a" || got.Epoch != a.Epoch {
		t.Fatalf("partition 0 after refused claims: %+v, want owner node-a at epoch %d", got, a.Epoch)
	}
	checkWrite(t, st, 0, a.Epoch, nil, "node-a still writes")
}

func testStealAfterTimeout(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	a := claimPartition(t, st, 0, "node-a")
	checkWrite(t, st, 0, a.Epoch, nil, "node-a writes")
	clock.Advance(claimTimeout) // exactly the timeout: claimable (storage.Claimable)
	b := claimPartition(t, st, 0, "node-b")
	if b.Epoch <= a.Epoch {
		t.Fatalf("node-b stole partition 0: epoch %d, want more than node-a's %d", b.Epoch, a.Epoch)
	}
	checkWrite(t, st, 0, a.Epoch, storage.ErrFenced, "node-a after the steal")
	checkWrite(t, st, 0, b.Epoch, nil, "node-b after the steal")
	wantErr(t, "node-a renews its stolen claim", st.Ownership().RenewPartition(t.Context(), a), storage.ErrFenced)
	wantErr(t, "node-a releases its stolen claim", st.Ownership().ReleasePartition(t.Context(), a), storage.ErrFenced)
	_, err := st.Ownership().ClaimPartition(t.Context(), 0, "node-a", claimTimeout)
	wantErr(t, "node-a claims back at once", err, storage.ErrClaimed)
	checkBounds(t, t.Context(), st, 0, storage.Bounds{First: 1, Last: 2})
}

func testEpochZero(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	checkWrite(t, st, 0, 0, nil, "epoch 0 on a never-claimed partition")
	checkWrite(t, st, 0, 1, storage.ErrFenced, "epoch 1 on a never-claimed partition")
	a := claimPartition(t, st, 0, "node-a")
	checkWrite(t, st, 0, 0, storage.ErrFenced, "epoch 0 on a claimed partition")
	checkWrite(t, st, 1, 0, nil, "epoch 0 on another, never-claimed partition")
	checkWrite(t, st, 0, a.Epoch+1, storage.ErrFenced, "an epoch from the future")
	b := storage.NewBatch(0, 0)
	b.Put([]byte("k"), []byte("v"))
	_, err := st.Commit(t.Context(), b)
	wantErr(t, "state-only batch at epoch 0 on a claimed partition", err, storage.ErrFenced)
	checkMissing(t, t.Context(), st, 0, []byte("k"))
	checkBounds(t, t.Context(), st, 0, storage.Bounds{First: 1, Last: 1})
}

func testRenewPartition(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	own := st.Ownership()
	a := claimPartition(t, st, 2, "node-a")
	clock.Advance(claimTimeout - time.Second)
	noErr(t, "node-a renews", own.RenewPartition(t.Context(), a))
	if got := currentClaim(t, st, 2); !got.ClaimedAt.Equal(clock.Now()) || got.Epoch != a.Epoch {
		t.Errorf("partition 2 after renewal: %+v, want claimed at %v at epoch %d", got, clock.Now(), a.Epoch)
	}
	clock.Advance(2 * time.Second) // past the first claim's timeout, not the renewal's
	_, err := own.ClaimPartition(t.Context(), 2, "node-b", claimTimeout)
	wantErr(t, "node-b claims a renewed partition", err, storage.ErrClaimed)
	checkWrite(t, st, 2, a.Epoch, nil, "node-a after renewal")

	stale := a
	stale.Epoch--
	wantErr(t, "renew with an older epoch", own.RenewPartition(t.Context(), stale), storage.ErrFenced)
	stale = a
	stale.Owner = "node-b"
	wantErr(t, "renew by another owner", own.RenewPartition(t.Context(), stale), storage.ErrFenced)
	stale = a
	stale.Partition = 1
	wantErr(t, "renew of a claim on an unclaimed partition", own.RenewPartition(t.Context(), stale), storage.ErrFenced)
}

func testReleasePartition(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	own := st.Ownership()
	a := claimPartition(t, st, 0, "node-a")
	checkWrite(t, st, 0, a.Epoch, nil, "node-a writes")
	noErr(t, "node-a releases", own.ReleasePartition(t.Context(), a))
	got := currentClaim(t, st, 0)
	if got.Owner != "" || got.Epoch <= a.Epoch {
		t.Fatalf("partition 0 after release: %+v, want no owner and an epoch above %d", got, a.Epoch)
	}
	checkWrite(t, st, 0, a.Epoch, storage.ErrFenced, "the released epoch")
	checkWrite(t, st, 0, 0, storage.ErrFenced, "epoch 0 after a release")
	wantErr(t, "release twice", own.ReleasePartition(t.Context(), a), storage.ErrFenced)
	wantErr(t, "renew a released claim", own.RenewPartition(t.Context(), a), storage.ErrFenced)

	// Released: another owner claims at once, with a newer epoch.
	b := claimPartition(t, st, 0, "node-b")
	if b.Epoch <= got.Epoch {
		t.Fatalf("node-b claims released partition 0: epoch %d, want above %d", b.Epoch, got.Epoch)
	}
	checkWrite(t, st, 0, b.Epoch, nil, "node-b after the release")
	checkBounds(t, t.Context(), st, 0, storage.Bounds{First: 1, Last: 2})
}

func testSameOwnerReclaims(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	first := claimPartition(t, st, 0, "node-a")
	second := claimPartition(t, st, 0, "node-a")
	if second.Epoch <= first.Epoch {
		t.Fatalf("node-a claims partition 0 again: epoch %d, want above %d (a restarted node fences its old self)", second.Epoch, first.Epoch)
	}
	checkWrite(t, st, 0, first.Epoch, storage.ErrFenced, "node-a's earlier claim")
	wantErr(t, "renew node-a's earlier claim", st.Ownership().RenewPartition(t.Context(), first), storage.ErrFenced)
	checkWrite(t, st, 0, second.Epoch, nil, "node-a's new claim")
}

func testPartitionClaims(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t, storage.WithPartitions(5))
	a := claimPartition(t, st, 3, "node-a")
	clock.Advance(time.Second)
	b := claimPartition(t, st, 1, "node-b")
	claims, err := st.Ownership().PartitionClaims(t.Context())
	noErr(t, "partition claims", err)
	if len(claims) != 5 {
		t.Fatalf("partition claims: %d listed, want 5: %+v", len(claims), claims)
	}
	for p, c := range claims {
		if c.Partition != p {
			t.Fatalf("partition claims: entry %d is partition %d, want ordered by partition: %+v", p, c.Partition, claims)
		}
		var want storage.PartitionClaim
		switch p {
		case 3:
			want = a
		case 1:
			want = b
		}
		if c.Owner != want.Owner || (want.Owner != "" && (c.Epoch != want.Epoch || !c.ClaimedAt.Equal(want.ClaimedAt))) {
			t.Errorf("partition claims: partition %d is %+v, want owner %q epoch %d claimed at %v", p, c, want.Owner, want.Epoch, want.ClaimedAt)
		}
	}
}

// testConcurrentPartitionClaims: of owners claiming one partition at once,
// exactly one wins, with a new epoch; again after each timeout.
func testConcurrentPartitionClaims(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	racePartitionClaims(t, []*store{st}, clock)
}

// racePartitionClaims races 8 owners, spread over stores, for partition 0,
// a few rounds.
func racePartitionClaims(t testing.TB, stores []*store, clock *Clock) {
	t.Helper()
	const racers = 8
	var prev uint64
	for round := range 4 {
		claims := make([]storage.PartitionClaim, racers)
		errs := race(racers, func(i int) error {
			var err error
			claims[i], err = stores[i%len(stores)].Ownership().ClaimPartition(t.Context(), 0, fmt.Sprintf("node-%d", i), claimTimeout)
			return err
		})
		w := oneWinner(t, fmt.Sprintf("round %d: %d owners claim partition 0 at once", round, racers), errs, storage.ErrClaimed)
		won := claims[w]
		if won.Epoch <= prev {
			t.Fatalf("round %d: node-%d won partition 0 at epoch %d, want above the previous round's %d", round, w, won.Epoch, prev)
		}
		for _, st := range stores {
			if got := currentClaim(t, st, 0); got.Owner != won.Owner || got.Epoch != won.Epoch {
				t.Fatalf("round %d: partition 0 is %+v, want the winner node-%d at epoch %d", round, got, w, won.Epoch)
			}
		}
		if prev > 0 {
			checkWrite(t, stores[0], 0, prev, storage.ErrFenced, "the previous round's epoch")
		}
		checkWrite(t, stores[len(stores)-1], 0, won.Epoch, nil, "the winner's epoch")
		prev = won.Epoch
		clock.Advance(claimTimeout)
	}
}
