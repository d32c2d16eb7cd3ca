package storagetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"eddy/storage"
)

// segmentTests check splitting and merging segments by mask: layouts,
// tokens, and epochs that never go back for a segment id.
var segmentTests = []test{
	{"SplitAndMerge", testSplitAndMerge},
	{"SplitEpochs", testSplitEpochs},
	{"MergeEpochs", testMergeEpochs},
	{"RestartedOwnerFenced", testRestartedOwnerFenced},
	{"MergeRefused", testMergeRefused},
	{"MatchesPartitionHashes", testMatchesPartition},
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
