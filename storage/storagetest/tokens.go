package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"eddy/storage"
)

// tokenTests check the token store of streaming processors: segments,
// claims and fencing (segmentTests: splitting and merging).
var tokenTests = []test{
	{"InitializeSegments", testInitializeSegments},
	{"InitializeInvalid", testInitializeInvalid},
	{"UnknownProcessor", testUnknownProcessor},
	{"ClaimAndSteal", testClaimAndSteal},
	{"StaleClaimFenced", testStaleClaimFenced},
	{"StoreAndExtend", testStoreAndExtend},
	{"Release", testReleaseSegment},
	{"SameOwnerReclaims", testSegmentReclaim},
	{"MissingSegment", testMissingSegment},
	{"SaveTokenInBatch", testSaveTokenInBatch},
	{"SaveTokenFenced", testSaveTokenFenced},
	{"DeleteSegments", testDeleteSegments},
	{"ConcurrentClaims", testConcurrentSegmentClaims},
}

// segments lists processor's segments.
func segments(t testing.TB, st *store, processor string) []storage.Segment {
	t.Helper()
	segs, err := st.Tokens().Segments(t.Context(), processor)
	noErr(t, "segments of "+processor, err)
	return segs
}

// segment returns processor's segment id.
func segment(t testing.TB, st *store, processor string, id int) storage.Segment {
	t.Helper()
	for _, s := range segments(t, st, processor) {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("segment %s/%d does not exist: segments are %s", processor, id, layout(segments(t, st, processor)))
	panic("unreachable")
}

// checkToken checks the token of processor's segment id.
func checkToken(t testing.TB, st *store, processor string, id int, want []byte) {
	t.Helper()
	if got := segment(t, st, processor, id).Token; !bytes.Equal(got, want) {
		t.Fatalf("token of segment %s/%d is %s, want %s", processor, id, show(got), show(want))
	}
}

func claimSegment(t testing.TB, st *store, processor string, id int, owner string) storage.Segment {
	t.Helper()
	seg, err := st.Tokens().ClaimSegment(t.Context(), processor, id, owner, claimTimeout)
	if err != nil {
		t.Fatalf("%s claims segment %s/%d: %v", owner, processor, id, err)
	}
	if seg.Processor != processor || seg.ID != id || seg.Owner != owner {
		t.Fatalf("%s claims segment %s/%d: got %s", owner, processor, id, describe(seg))
	}
	return seg
}

func describe(s storage.Segment) string {
	return fmt.Sprintf("segment %s/%d mask %d token %s owner %q epoch %d", s.Processor, s.ID, s.Mask, show(s.Token), s.Owner, s.Epoch)
}

// layout prints segments as id/mask pairs.
func layout(segs []storage.Segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = fmt.Sprintf("%d/%d", s.ID, s.Mask)
		if s.Owner != "" {
			parts[i] += "(" + s.Owner + ")"
		}
	}
	return "[" + joinShort(parts) + "]"
}

// checkLayout checks processor's segments, ordered by id, as id/mask pairs.
func checkLayout(t testing.TB, st *store, processor string, want ...[2]int) []storage.Segment {
	t.Helper()
	segs := segments(t, st, processor)
	ok := len(segs) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = segs[i].ID == want[i][0] && segs[i].Mask == want[i][1] && segs[i].Processor == processor
	}
	if !ok {
		wantParts := make([]storage.Segment, len(want))
		for i, w := range want {
			wantParts[i] = storage.Segment{ID: w[0], Mask: w[1]}
		}
		t.Fatalf("segments of %s are %s, want %s", processor, layout(segs), layout(wantParts))
	}
	return segs
}

func testInitializeSegments(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	for _, n := range []int{1, 2, 4} {
		proc := fmt.Sprintf("processor-%d", n)
		token := fmt.Appendf(nil, "initial token of %s", proc)
		noErr(t, "initialize "+proc, tokens.InitializeSegments(t.Context(), proc, n, token))
		segs := segments(t, st, proc)
		if len(segs) != n {
			t.Fatalf("%s initialized with %d segments has %s", proc, n, layout(segs))
		}
		for i, seg := range segs {
			if seg.Processor != proc || seg.ID != i || seg.Mask != n-1 || seg.Owner != "" || !bytes.Equal(seg.Token, token) {
				t.Fatalf("%s initialized with %d segments: segment %d is %s, want id %d mask %d token %s, unclaimed",
					proc, n, i, describe(seg), i, n-1, show(token))
			}
		}
		err := tokens.InitializeSegments(t.Context(), proc, n, []byte("again"))
		wantErr(t, "initialize "+proc+" again", err, storage.ErrExists)
		err = tokens.InitializeSegments(t.Context(), proc, 2*n, []byte("again"))
		wantErr(t, "initialize "+proc+" again with another count", err, storage.ErrExists)
		checkToken(t, st, proc, 0, token)
	}
	noErr(t, "initialize with a nil token", tokens.InitializeSegments(t.Context(), "nil-token", 2, nil))
	for _, seg := range segments(t, st, "nil-token") {
		if len(seg.Token) != 0 {
			t.Fatalf("segment initialized with a nil token: %s", describe(seg))
		}
	}
}

func testInitializeInvalid(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	for _, n := range []int{0, -1, 3, 6} {
		err := st.Tokens().InitializeSegments(t.Context(), "proc", n, nil)
		wantErr(t, fmt.Sprintf("initialize with %d segments", n), err, storage.ErrInvalid)
	}
	wantErr(t, "initialize an unnamed processor", st.Tokens().InitializeSegments(t.Context(), "", 1, nil), storage.ErrInvalid)
	if segs := segments(t, st, "proc"); len(segs) != 0 {
		t.Fatalf("refused initializations left segments %s", layout(segs))
	}
}

func testUnknownProcessor(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	noErr(t, "initialize other", st.Tokens().InitializeSegments(t.Context(), "other", 2, nil))
	if segs := segments(t, st, "unknown"); len(segs) != 0 {
		t.Fatalf("segments of an unknown processor: %s, want none", layout(segs))
	}
	// A processor name that is a prefix of another one is another processor.
	if segs := segments(t, st, "othe"); len(segs) != 0 {
		t.Fatalf("segments of processor \"othe\" (a prefix of \"other\"): %s, want none", layout(segs))
	}
}

func testClaimAndSteal(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(t.Context(), "proc", 2, []byte("t0")))
	a := claimSegment(t, st, "proc", 1, "worker-a")
	if a.Epoch < 1 || a.Mask != 1 || !bytes.Equal(a.Token, []byte("t0")) {
		t.Fatalf("first claim of proc/1: %s, want epoch >= 1, mask 1, token \"t0\"", describe(a))
	}
	if !a.ClaimedAt.Equal(clock.Now()) {
		t.Errorf("claim of proc/1: claimed at %v, want the clock's %v", a.ClaimedAt, clock.Now())
	}
	if got := segment(t, st, "proc", 1); got.Owner != "worker-a" || got.Epoch != a.Epoch {
		t.Fatalf("segments after worker-a claimed proc/1: %s", describe(got))
	}
	if got := segment(t, st, "proc", 0); got.Owner != "" {
		t.Fatalf("claiming proc/1 touched proc/0: %s", describe(got))
	}
	clock.Advance(claimTimeout - time.Millisecond)
	_, err := tokens.ClaimSegment(t.Context(), "proc", 1, "worker-b", claimTimeout)
	wantErr(t, "worker-b claims proc/1 held fresh by worker-a", err, storage.ErrClaimed)
	clock.Advance(time.Millisecond)
	b := claimSegment(t, st, "proc", 1, "worker-b")
	if b.Epoch <= a.Epoch {
		t.Fatalf("worker-b stole proc/1: epoch %d, want above worker-a's %d", b.Epoch, a.Epoch)
	}
	_, err = tokens.ClaimSegment(t.Context(), "proc", 1, "worker-a", claimTimeout)
	wantErr(t, "worker-a claims back at once", err, storage.ErrClaimed)
}

func testStaleClaimFenced(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(t.Context(), "proc", 1, []byte("t0")))
	a := claimSegment(t, st, "proc", 0, "worker-a")
	noErr(t, "worker-a stores a token", tokens.StoreToken(t.Context(), a.Claim(), []byte("by a")))
	clock.Advance(claimTimeout)
	b := claimSegment(t, st, "proc", 0, "worker-b")
	if !bytes.Equal(b.Token, []byte("by a")) {
		t.Fatalf("worker-b's claim carries token %s, want the stored \"by a\"", show(b.Token))
	}

	stale := []struct {
		name  string
		claim storage.Claim
	}{
		{"worker-a's stolen claim", a.Claim()},
		{"worker-b's claim at an old epoch", storage.Claim{Processor: "proc", Segment: 0, Owner: "worker-b", Epoch: a.Epoch}},
		{"worker-a at worker-b's epoch", storage.Claim{Processor: "proc", Segment: 0, Owner: "worker-a", Epoch: b.Epoch}},
	}
	for _, c := range stale {
		wantErr(t, "store token with "+c.name, tokens.StoreToken(t.Context(), c.claim, []byte("stale")), storage.ErrFenced)
		wantErr(t, "extend "+c.name, tokens.ExtendClaim(t.Context(), c.claim), storage.ErrFenced)
		wantErr(t, "release "+c.name, tokens.ReleaseClaim(t.Context(), c.claim), storage.ErrFenced)
		_, err := tokens.SplitSegment(t.Context(), c.claim)
		wantErr(t, "split with "+c.name, err, storage.ErrFenced)
		checkToken(t, st, "proc", 0, []byte("by a"))
		if got := segment(t, st, "proc", 0); got.Owner != "worker-b" || got.Epoch != b.Epoch {
			t.Fatalf("after %s was refused: %s, want owner worker-b at epoch %d", c.name, describe(got), b.Epoch)
		}
	}
	checkLayout(t, st, "proc", [2]int{0, 0})
}

func testStoreAndExtend(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(t.Context(), "proc", 2, []byte("t0")))
	a := claimSegment(t, st, "proc", 0, "worker-a")
	noErr(t, "store token", tokens.StoreToken(t.Context(), a.Claim(), []byte("t1")))
	checkToken(t, st, "proc", 0, []byte("t1"))
	checkToken(t, st, "proc", 1, []byte("t0"))
	noErr(t, "store a nil token", tokens.StoreToken(t.Context(), a.Claim(), nil))
	checkToken(t, st, "proc", 0, nil)
	noErr(t, "store token", tokens.StoreToken(t.Context(), a.Claim(), []byte("t2")))

	// Storing renews the claim.
	clock.Advance(claimTimeout - time.Second)
	noErr(t, "store token", tokens.StoreToken(t.Context(), a.Claim(), []byte("t3")))
	clock.Advance(2 * time.Second)
	_, err := tokens.ClaimSegment(t.Context(), "proc", 0, "worker-b", claimTimeout)
	wantErr(t, "worker-b claims proc/0 renewed by StoreToken", err, storage.ErrClaimed)

	// So does extending.
	clock.Advance(claimTimeout - time.Second)
	noErr(t, "extend claim", tokens.ExtendClaim(t.Context(), a.Claim()))
	if got := segment(t, st, "proc", 0); !got.ClaimedAt.Equal(clock.Now()) || got.Epoch != a.Epoch || got.Owner != "worker-a" {
		t.Errorf("proc/0 after ExtendClaim: %s claimed at %v, want worker-a at epoch %d claimed at %v", describe(got), got.ClaimedAt, a.Epoch, clock.Now())
	}
	clock.Advance(2 * time.Second)
	_, err = tokens.ClaimSegment(t.Context(), "proc", 0, "worker-b", claimTimeout)
	wantErr(t, "worker-b claims proc/0 renewed by ExtendClaim", err, storage.ErrClaimed)
	checkToken(t, st, "proc", 0, []byte("t3"))
}

func testReleaseSegment(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(t.Context(), "proc", 1, nil))
	a := claimSegment(t, st, "proc", 0, "worker-a")
	noErr(t, "store token", tokens.StoreToken(t.Context(), a.Claim(), []byte("kept")))
	noErr(t, "release", tokens.ReleaseClaim(t.Context(), a.Claim()))
	if got := segment(t, st, "proc", 0); got.Owner != "" || !bytes.Equal(got.Token, []byte("kept")) {
		t.Fatalf("proc/0 after release: %s, want unclaimed with token \"kept\"", describe(got))
	}
	wantErr(t, "store token after release", tokens.StoreToken(t.Context(), a.Claim(), []byte("late")), storage.ErrFenced)
	wantErr(t, "extend after release", tokens.ExtendClaim(t.Context(), a.Claim()), storage.ErrFenced)
	b := claimSegment(t, st, "proc", 0, "worker-b") // at once: released
	if b.Epoch <= a.Epoch || !bytes.Equal(b.Token, []byte("kept")) {
		t.Fatalf("worker-b claims released proc/0: %s, want epoch above %d and token \"kept\"", describe(b), a.Epoch)
	}
	wantErr(t, "store token with the released claim", tokens.StoreToken(t.Context(), a.Claim(), []byte("late")), storage.ErrFenced)
}

func testSegmentReclaim(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(t.Context(), "proc", 1, nil))
	first := claimSegment(t, st, "proc", 0, "worker-a")
	second := claimSegment(t, st, "proc", 0, "worker-a")
	if second.Epoch <= first.Epoch {
		t.Fatalf("worker-a claims proc/0 again: epoch %d, want above %d", second.Epoch, first.Epoch)
	}
	wantErr(t, "store token with the earlier claim", tokens.StoreToken(t.Context(), first.Claim(), []byte("old")), storage.ErrFenced)
	noErr(t, "store token with the new claim", tokens.StoreToken(t.Context(), second.Claim(), []byte("new")))
	checkToken(t, st, "proc", 0, []byte("new"))
}

func testMissingSegment(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(t.Context(), "proc", 2, nil))
	_, err := tokens.ClaimSegment(t.Context(), "proc", 2, "worker", claimTimeout)
	wantErr(t, "claim segment proc/2 of two", err, storage.ErrNotFound)
	_, err = tokens.ClaimSegment(t.Context(), "unknown", 0, "worker", claimTimeout)
	wantErr(t, "claim a segment of an unknown processor", err, storage.ErrNotFound)
	missing := storage.Claim{Processor: "proc", Segment: 7, Owner: "worker", Epoch: 1}
	for name, err := range map[string]error{
		"store token": tokens.StoreToken(t.Context(), missing, nil),
		"extend":      tokens.ExtendClaim(t.Context(), missing),
		"release":     tokens.ReleaseClaim(t.Context(), missing),
	} {
		if err == nil {
			t.Errorf("%s with a claim on missing segment proc/7: no error", name)
		}
	}
	checkLayout(t, st, "proc", [2]int{0, 1}, [2]int{1, 1})
}

func testSaveTokenInBatch(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	ctx := s.ctx(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(ctx, "proc", 2, []byte("t0")))
	a := claimSegment(t, st, "proc", 0, "worker-a")
	b := claimSegment(t, st, "proc", 1, "worker-b")
	batch := storage.NewBatch(1, 0)
	batch.Append(records(1, 1, 3)...)
	batch.Put([]byte("projection"), []byte("3"))
	batch.SaveToken(a.Claim(), []byte("a at 3"))
	batch.SaveToken(b.Claim(), []byte("b at 3"))
	if first := commit(t, ctx, st, batch); first != 1 {
		t.Fatalf("batch with token writes: first position %d, want 1", first)
	}
	checkEntries(t, "entries committed with tokens", 1, read(t, ctx, st, 1, 1, 0), 1, records(1, 1, 3))
	checkValue(t, ctx, st, 1, []byte("projection"), []byte("3"))
	checkToken(t, st, "proc", 0, []byte("a at 3"))
	checkToken(t, st, "proc", 1, []byte("b at 3"))

	// A token-only batch commits the token and appends nothing.
	batch = storage.NewBatch(0, 0)
	batch.SaveToken(a.Claim(), []byte("a alone"))
	if first := commit(t, ctx, st, batch); first != 0 {
		t.Fatalf("token-only batch: first position %d, want 0", first)
	}
	checkToken(t, st, "proc", 0, []byte("a alone"))
	checkBounds(t, ctx, st, 0, storage.Bounds{})
	// The claim is still current after saving through a batch.
	noErr(t, "store token after batches", tokens.StoreToken(ctx, a.Claim(), []byte("a later")))
}

func testSaveTokenFenced(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	ctx := s.ctx(t)
	tokens := st.Tokens()
	noErr(t, "initialize", tokens.InitializeSegments(ctx, "proc", 2, []byte("t0")))
	a := claimSegment(t, st, "proc", 0, "worker-a")
	other := claimSegment(t, st, "proc", 1, "worker-a")
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	clock.Advance(claimTimeout)
	claimSegment(t, st, "proc", 0, "worker-b")

	batch := storage.NewBatch(0, 0)
	batch.Append(record(0, 2), record(0, 3))
	batch.Put([]byte("projection"), []byte("3"))
	batch.SaveToken(other.Claim(), []byte("current claim"))
	batch.SaveToken(a.Claim(), []byte("stale claim"))
	first, err := st.Commit(ctx, batch)
	if !errors.Is(err, storage.ErrFenced) {
		t.Fatalf("batch saving a token under a stolen claim: first %d error %v, want ErrFenced", first, err)
	}
	checkBounds(t, ctx, st, 0, storage.Bounds{First: 1, Last: 1})
	checkMissing(t, ctx, st, 0, []byte("projection"))
	checkToken(t, st, "proc", 0, []byte("t0"))
	checkToken(t, st, "proc", 1, []byte("t0"))
	appendAt(t, ctx, st, 0, 2, record(0, 2))
}

func testDeleteSegments(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	ctx := t.Context()
	noErr(t, "initialize proc", tokens.InitializeSegments(ctx, "proc", 4, []byte("t0")))
	noErr(t, "initialize keep", tokens.InitializeSegments(ctx, "keep", 2, []byte("k0")))
	claimSegment(t, st, "proc", 1, "worker")
	noErr(t, "delete proc", tokens.DeleteSegments(ctx, "proc"))
	if segs := segments(t, st, "proc"); len(segs) != 0 {
		t.Fatalf("segments after delete: %s, want none", layout(segs))
	}
	_, err := tokens.ClaimSegment(ctx, "proc", 0, "worker", claimTimeout)
	wantErr(t, "claim a deleted segment", err, storage.ErrNotFound)
	checkLayout(t, st, "keep", [2]int{0, 1}, [2]int{1, 1})
	noErr(t, "initialize proc again", tokens.InitializeSegments(ctx, "proc", 2, []byte("t1")))
	checkLayout(t, st, "proc", [2]int{0, 1}, [2]int{1, 1})
	checkToken(t, st, "proc", 1, []byte("t1"))
}

// testConcurrentSegmentClaims: of processors initializing at once, one
// creates the segments; of owners claiming a segment at once, exactly one
// wins, with a new epoch; again after each timeout.
func testConcurrentSegmentClaims(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	raceSegmentClaims(t, []*store{st}, clock)
}

// raceSegmentClaims races initialization and 8 owners, spread over stores,
// for one segment, a few rounds.
func raceSegmentClaims(t testing.TB, stores []*store, clock *Clock) {
	t.Helper()
	const racers = 8
	errs := race(racers, func(i int) error {
		return stores[i%len(stores)].Tokens().InitializeSegments(t.Context(), "proc", 4, fmt.Appendf(nil, "from %d", i))
	})
	w := oneWinner(t, fmt.Sprintf("%d initialize proc at once", racers), errs, storage.ErrExists)
	segs := checkLayout(t, stores[0], "proc", [2]int{0, 3}, [2]int{1, 3}, [2]int{2, 3}, [2]int{3, 3})
	for _, seg := range segs {
		if want := fmt.Appendf(nil, "from %d", w); !bytes.Equal(seg.Token, want) {
			t.Fatalf("after racing initializations won by %d: %s, want token %s", w, describe(seg), show(want))
		}
	}

	var prev storage.Segment
	for round := range 4 {
		won := make([]storage.Segment, racers)
		errs := race(racers, func(i int) error {
			var err error
			won[i], err = stores[i%len(stores)].Tokens().ClaimSegment(t.Context(), "proc", 2, fmt.Sprintf("worker-%d", i), claimTimeout)
			return err
		})
		w := oneWinner(t, fmt.Sprintf("round %d: %d owners claim proc/2 at once", round, racers), errs, storage.ErrClaimed)
		if won[w].Epoch <= prev.Epoch {
			t.Fatalf("round %d: worker-%d won proc/2 at epoch %d, want above the previous round's %d", round, w, won[w].Epoch, prev.Epoch)
		}
		for _, st := range stores {
			if got := segment(t, st, "proc", 2); got.Owner != won[w].Owner || got.Epoch != won[w].Epoch {
				t.Fatalf("round %d: %s, want the winner worker-%d at epoch %d", round, describe(got), w, won[w].Epoch)
			}
		}
		if round > 0 {
			err := stores[0].Tokens().StoreToken(t.Context(), prev.Claim(), []byte("stale"))
			wantErr(t, fmt.Sprintf("round %d: store token with the previous round's claim", round), err, storage.ErrFenced)
		}
		noErr(t, "store token with the winner's claim", stores[len(stores)-1].Tokens().StoreToken(t.Context(), won[w].Claim(), fmt.Appendf(nil, "round %d", round)))
		prev = won[w]
		clock.Advance(claimTimeout)
	}
	checkToken(t, stores[0], "proc", 2, []byte("round 3"))
}
