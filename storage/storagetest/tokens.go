package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"eddy/storage"
)

// tokenTests check the token store of streaming processors: segments,
// claims, fencing, and splitting and merging by mask.
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
	{"SplitAndMerge", testSplitAndMerge},
	{"SplitEpochs", testSplitEpochs},
	{"MergeEpochs", testMergeEpochs},
	{"RestartedOwnerFenced", testRestartedOwnerFenced},
	{"MergeRefused", testMergeRefused},
	{"MatchesPartitionHashes", testMatchesPartition},
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

func testSplitAndMerge(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	ctx := t.Context()
	noErr(t, "initialize", tokens.InitializeSegments(ctx, "proc", 1, []byte("t0")))
	s0 := claimSegment(t, st, "proc", 0, "worker-a")

	s1, err := tokens.SplitSegment(ctx, s0.Claim())
	noErr(t, "split proc/0 mask 0", err)
	if s1.Processor != "proc" || s1.ID != 1 || s1.Mask != 1 || s1.Owner != "" || !bytes.Equal(s1.Token, []byte("t0")) {
		t.Fatalf("split of proc/0 mask 0 returned %s, want segment 1 mask 1 token \"t0\", unclaimed", describe(s1))
	}
	segs := checkLayout(t, st, "proc", [2]int{0, 1}, [2]int{1, 1})
	if segs[0].Owner != "worker-a" || segs[0].Epoch != s0.Epoch || !bytes.Equal(segs[0].Token, []byte("t0")) {
		t.Fatalf("split kept %s, want worker-a's claim at epoch %d and token \"t0\"", describe(segs[0]), s0.Epoch)
	}
	if segs[1].Owner != "" || !bytes.Equal(segs[1].Token, []byte("t0")) {
		t.Fatalf("split made %s, want unclaimed with token \"t0\"", describe(segs[1]))
	}
	// The kept segment's claim is still current.
	noErr(t, "store token on the kept segment", tokens.StoreToken(ctx, s0.Claim(), []byte("t1")))

	s2, err := tokens.SplitSegment(ctx, s0.Claim())
	noErr(t, "split proc/0 mask 1", err)
	if s2.ID != 2 || s2.Mask != 3 || !bytes.Equal(s2.Token, []byte("t1")) || s2.Owner != "" {
		t.Fatalf("split of proc/0 mask 1 returned %s, want segment 2 mask 3 token \"t1\", unclaimed", describe(s2))
	}
	checkLayout(t, st, "proc", [2]int{0, 3}, [2]int{1, 1}, [2]int{2, 3})

	// Merge back: 0/3 and 2/3 are siblings; the merged segment keeps a's
	// claim and the given token.
	c2 := claimSegment(t, st, "proc", 2, "worker-b")
	merged, err := tokens.MergeSegments(ctx, s0.Claim(), c2.Claim(), []byte("merged"))
	noErr(t, "merge proc/0 and proc/2", err)
	if merged.ID != 0 || merged.Mask != 1 || merged.Owner != "worker-a" || !bytes.Equal(merged.Token, []byte("merged")) {
		t.Fatalf("merge of proc/0 and proc/2 returned %s, want segment 0 mask 1 owned by worker-a with token \"merged\"", describe(merged))
	}
	segs = checkLayout(t, st, "proc", [2]int{0, 1}, [2]int{1, 1})
	if segs[0].Owner != "worker-a" || segs[0].Epoch != merged.Epoch || !bytes.Equal(segs[0].Token, []byte("merged")) {
		t.Fatalf("after merge, proc/0 is %s, want what merge returned: %s", describe(segs[0]), describe(merged))
	}
	noErr(t, "store token with the merged segment's claim", tokens.StoreToken(ctx, merged.Claim(), []byte("after merge")))
	wantErr(t, "store token on the removed segment", tokens.StoreToken(ctx, c2.Claim(), []byte("gone")), storage.ErrNotFound, storage.ErrFenced)

	// Merge with the higher id first: the result is still the lower id,
	// held by a's owner.
	c1 := claimSegment(t, st, "proc", 1, "worker-c")
	merged, err = tokens.MergeSegments(ctx, c1.Claim(), merged.Claim(), []byte("whole"))
	noErr(t, "merge proc/1 and proc/0", err)
	if merged.ID != 0 || merged.Mask != 0 || merged.Owner != "worker-c" || !bytes.Equal(merged.Token, []byte("whole")) {
		t.Fatalf("merge of proc/1 into proc/0 returned %s, want segment 0 mask 0 owned by worker-c with token \"whole\"", describe(merged))
	}
	checkLayout(t, st, "proc", [2]int{0, 0})
	noErr(t, "store token with the merged claim", tokens.StoreToken(ctx, merged.Claim(), []byte("after second merge")))
	checkToken(t, st, "proc", 0, []byte("after second merge"))
}

// claimTimes claims processor's segment id n times for owner (each claim a
// new epoch) and returns the last claim.
func claimTimes(t testing.TB, st *store, processor string, id int, owner string, n int) storage.Segment {
	t.Helper()
	var seg storage.Segment
	for range n {
		seg = claimSegment(t, st, processor, id, owner)
	}
	return seg
}

// testSplitEpochs: a split keeps the claimed segment's claim and epoch and
// gives the new sibling the parent's epoch, unclaimed, so that the sibling's
// next claim is above every epoch the parent had.
func testSplitEpochs(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	ctx := t.Context()
	for _, tc := range []struct {
		name   string
		claims int // how many times the parent is claimed before the split
	}{
		{"parent claimed once", 1},
		{"parent claimed three times", 3},
	} {
		proc := fmt.Sprintf("split-%d", tc.claims)
		noErr(t, tc.name+": initialize", tokens.InitializeSegments(ctx, proc, 1, []byte("t0")))
		parent := claimTimes(t, st, proc, 0, "worker-a", tc.claims)
		sibling, err := tokens.SplitSegment(ctx, parent.Claim())
		noErr(t, tc.name+": split", err)
		if sibling.ID != 1 || sibling.Owner != "" || sibling.Epoch != parent.Epoch {
			t.Fatalf("%s: split of %s returned %s, want segment 1 unclaimed at the parent's epoch %d",
				tc.name, describe(parent), describe(sibling), parent.Epoch)
		}
		segs := checkLayout(t, st, proc, [2]int{0, 1}, [2]int{1, 1})
		if segs[0].Owner != parent.Owner || segs[0].Epoch != parent.Epoch {
			t.Fatalf("%s: after the split, the claimed segment is %s, want owner %q at epoch %d as before",
				tc.name, describe(segs[0]), parent.Owner, parent.Epoch)
		}
		if segs[1].Owner != "" || segs[1].Epoch != parent.Epoch {
			t.Fatalf("%s: after the split, the sibling is %s, want unclaimed at the parent's epoch %d",
				tc.name, describe(segs[1]), parent.Epoch)
		}
		noErr(t, tc.name+": store token with the parent's claim after the split", tokens.StoreToken(ctx, parent.Claim(), []byte("t1")))
		if got := claimSegment(t, st, proc, 1, "worker-b"); got.Epoch <= parent.Epoch {
			t.Fatalf("%s: first claim of the sibling: %s, want an epoch above the parent's %d", tc.name, describe(got), parent.Epoch)
		}
	}
}

// testMergeEpochs: the merged segment (the lower id) is a new claim by a's
// owner, whichever id a has: its epoch is above both old ones, its claim
// time is now, and both old claims are fenced.
func testMergeEpochs(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	tokens := st.Tokens()
	ctx := t.Context()
	for i, tc := range []struct {
		name             string
		a, b             int // segment ids of the claims passed as a and b
		claimsA, claimsB int // how many times each is claimed before the merge
	}{
		{"a lower id, b higher epoch", 0, 1, 1, 3},
		{"a lower id, a higher epoch", 0, 1, 3, 1},
		{"a higher id, b higher epoch", 1, 0, 1, 3},
		{"a higher id, a higher epoch", 1, 0, 3, 1},
	} {
		proc := fmt.Sprintf("merge-%d", i)
		noErr(t, tc.name+": initialize", tokens.InitializeSegments(ctx, proc, 2, []byte("t0")))
		a := claimTimes(t, st, proc, tc.a, "owner-a", tc.claimsA)
		b := claimTimes(t, st, proc, tc.b, "owner-b", tc.claimsB)
		clock.Advance(time.Second) // the merge renews the claim: not the old claims' time
		merged, err := tokens.MergeSegments(ctx, a.Claim(), b.Claim(), []byte("merged"))
		noErr(t, tc.name+": merge", err)
		if merged.Processor != proc || merged.ID != 0 || merged.Mask != 0 || merged.Owner != "owner-a" || !bytes.Equal(merged.Token, []byte("merged")) {
			t.Fatalf("%s: merge returned %s, want segment 0 mask 0 owned by owner-a with token \"merged\"", tc.name, describe(merged))
		}
		if merged.Epoch <= a.Epoch || merged.Epoch <= b.Epoch {
			t.Fatalf("%s: merge of %s and %s returned epoch %d, want above both", tc.name, describe(a), describe(b), merged.Epoch)
		}
		if !merged.ClaimedAt.Equal(clock.Now()) {
			t.Errorf("%s: merged segment claimed at %v, want the clock's %v", tc.name, merged.ClaimedAt, clock.Now())
		}
		segs := checkLayout(t, st, proc, [2]int{0, 0})
		if got := segs[0]; got.Owner != merged.Owner || got.Epoch != merged.Epoch || !got.ClaimedAt.Equal(merged.ClaimedAt) {
			t.Fatalf("%s: after the merge, %s claimed at %v, want what merge returned: %s claimed at %v",
				tc.name, describe(got), got.ClaimedAt, describe(merged), merged.ClaimedAt)
		}
		// The old claim on the kept id is fenced; the other id is gone.
		kept, removed := a, b
		if kept.ID != 0 {
			kept, removed = b, a
		}
		wantErr(t, tc.name+": store token with the old claim on the merged id", tokens.StoreToken(ctx, kept.Claim(), []byte("stale")), storage.ErrFenced)
		wantErr(t, tc.name+": store token with the old claim on the removed id", tokens.StoreToken(ctx, removed.Claim(), []byte("stale")), storage.ErrFenced, storage.ErrNotFound)
		noErr(t, tc.name+": extend the merged claim", tokens.ExtendClaim(ctx, merged.Claim()))
		noErr(t, tc.name+": store token with the merged claim", tokens.StoreToken(ctx, merged.Claim(), []byte("after")))
		checkToken(t, st, proc, 0, []byte("after"))
	}
}

// testRestartedOwnerFenced: an owner holds segment 1 at some epoch, loses
// it, and the segment is merged away and split again. Coming back under the
// same name and claiming segment 1 again, over and over, it must never get
// that epoch back: its claim from before the merge stays fenced.
func testRestartedOwnerFenced(t *testing.T, s *suite) {
	st, clock := s.ownedStore(t)
	tokens := st.Tokens()
	ctx := s.ctx(t)
	noErr(t, "initialize", tokens.InitializeSegments(ctx, "proc", 2, []byte("t0")))
	old := claimTimes(t, st, "proc", 1, "node-n", 3).Claim()

	// node-n goes away; node-m steals segment 1, merges it into 0 and
	// splits again, which leaves segment 1 unclaimed.
	clock.Advance(claimTimeout)
	m0 := claimSegment(t, st, "proc", 0, "node-m")
	m1 := claimSegment(t, st, "proc", 1, "node-m")
	merged, err := tokens.MergeSegments(ctx, m0.Claim(), m1.Claim(), []byte("merged"))
	noErr(t, "node-m merges proc/0 and proc/1", err)
	sibling, err := tokens.SplitSegment(ctx, merged.Claim())
	noErr(t, "node-m splits proc/0 again", err)
	if sibling.ID != 1 || sibling.Owner != "" {
		t.Fatalf("split after the merge returned %s, want segment 1 unclaimed", describe(sibling))
	}

	for round := range 5 {
		cur := claimSegment(t, st, "proc", 1, "node-n")
		if cur.Epoch == old.Epoch {
			t.Fatalf("round %d: node-n claims proc/1 again at epoch %d, the epoch of its claim from before the merge", round, cur.Epoch)
		}
		what := fmt.Sprintf("round %d (node-n holds proc/1 at epoch %d): ", round, cur.Epoch)
		wantErr(t, what+"store token with the claim from before the merge", tokens.StoreToken(ctx, old, []byte("stale")), storage.ErrFenced)
		batch := storage.NewBatch(0, 0)
		batch.Append(record(0, round))
		batch.SaveToken(old, []byte("stale"))
		_, err := st.Commit(ctx, batch)
		wantErr(t, what+"batch saving a token with the claim from before the merge", err, storage.ErrFenced)
		checkBounds(t, ctx, st, 0, storage.Bounds{})
		noErr(t, what+"store token with the current claim", tokens.StoreToken(ctx, cur.Claim(), fmt.Appendf(nil, "round %d", round)))
	}
	checkToken(t, st, "proc", 1, []byte("round 4"))
}

func testMergeRefused(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	ctx := t.Context()
	noErr(t, "initialize", tokens.InitializeSegments(ctx, "proc", 4, []byte("t0")))
	c := make([]storage.Segment, 4)
	for i := range c {
		c[i] = claimSegment(t, st, "proc", i, "worker")
	}
	// 0/3 and 1/3 are not siblings (0/3's sibling is 2/3).
	_, err := tokens.MergeSegments(ctx, c[0].Claim(), c[1].Claim(), nil)
	if err == nil {
		t.Fatalf("merge of non-siblings proc/0 and proc/1 (mask 3): no error")
	}
	_, err = tokens.MergeSegments(ctx, c[0].Claim(), c[0].Claim(), nil)
	if err == nil {
		t.Fatalf("merge of proc/0 with itself: no error")
	}
	// Split 1/3 into 1/7 and 5/7: 1/7 and 3/3 have different masks.
	if _, err := tokens.SplitSegment(ctx, c[1].Claim()); err != nil {
		t.Fatalf("split proc/1: %v", err)
	}
	_, err = tokens.MergeSegments(ctx, c[1].Claim(), c[3].Claim(), nil)
	if err == nil {
		t.Fatalf("merge of proc/1 mask 7 and proc/3 mask 3: no error")
	}
	// 1/7 and its sibling 5/7, but 5/7 is unclaimed: both claims are needed.
	unclaimed := storage.Claim{Processor: "proc", Segment: 5, Owner: "worker", Epoch: c[1].Epoch}
	_, err = tokens.MergeSegments(ctx, c[1].Claim(), unclaimed, nil)
	wantErr(t, "merge of proc/1 with unclaimed sibling proc/5", err, storage.ErrFenced)
	// A stale claim on one side.
	c2 := claimSegment(t, st, "proc", 2, "worker")
	_, err = tokens.MergeSegments(ctx, c[0].Claim(), c[2].Claim(), nil)
	wantErr(t, "merge of proc/0 with a stale claim on proc/2", err, storage.ErrFenced)
	segs := checkLayout(t, st, "proc", [2]int{0, 3}, [2]int{1, 7}, [2]int{2, 3}, [2]int{3, 3}, [2]int{5, 7})
	for _, seg := range segs {
		if !bytes.Equal(seg.Token, []byte("t0")) {
			t.Fatalf("after refused merges: %s, want token \"t0\"", describe(seg))
		}
	}
	_, err = tokens.MergeSegments(ctx, c[0].Claim(), c2.Claim(), []byte("ok"))
	noErr(t, "merge of proc/0 and proc/2 with current claims", err)
	checkLayout(t, st, "proc", [2]int{0, 1}, [2]int{1, 7}, [2]int{3, 3}, [2]int{5, 7})
}

// testMatchesPartition: in every layout the token store makes, each hash
// belongs to exactly one segment.
func testMatchesPartition(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	tokens := st.Tokens()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 2))
	hashes := []uint32{0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff}
	for range 2000 {
		hashes = append(hashes, rng.Uint32())
	}
	check := func(proc string) {
		t.Helper()
		segs := segments(t, st, proc)
		for _, h := range hashes {
			var matched []int
			for _, seg := range segs {
				if seg.Matches(h) {
					matched = append(matched, seg.ID)
				}
			}
			if len(matched) != 1 {
				t.Fatalf("%s: hash %#08x matches segments %v of layout %s, want exactly one", proc, h, matched, layout(segs))
			}
		}
	}
	for _, n := range []int{1, 2, 4, 8} {
		proc := fmt.Sprintf("initialized-%d", n)
		noErr(t, "initialize "+proc, tokens.InitializeSegments(ctx, proc, n, nil))
		check(proc)
	}
	// Split unevenly, a few levels deep, checking each layout.
	noErr(t, "initialize split", tokens.InitializeSegments(ctx, "split", 1, nil))
	splits := []int{0, 0, 1, 2, 0, 6, 3}
	for _, id := range splits {
		c := claimSegment(t, st, "split", id, "worker")
		if _, err := tokens.SplitSegment(ctx, c.Claim()); err != nil {
			t.Fatalf("split split/%d in layout %s: %v", id, layout(segments(t, st, "split")), err)
		}
		check("split")
	}
	// Merge some back.
	for _, ids := range [][2]int{{6, 14}, {0, 4}, {3, 7}, {1, 3}} {
		a := claimSegment(t, st, "split", ids[0], "worker")
		b := claimSegment(t, st, "split", ids[1], "worker")
		if _, err := tokens.MergeSegments(ctx, a.Claim(), b.Claim(), nil); err != nil {
			t.Fatalf("merge split/%d and split/%d in layout %s: %v", ids[0], ids[1], layout(segments(t, st, "split")), err)
		}
		check("split")
	}
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
