package engine

import (
	"math/rand/v2"
	"testing"
)

// TestWindowIndexMatchesAMap drives the index and a Go map with the same
// random puts and removes, hashes crowded into few home slots so that runs
// wrap around the table's end and removals shift entries back, through
// growth and shrinking, with look-ups that hit, and compares them after
// every operation.
func TestWindowIndexMatchesAMap(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(r *rand.Rand) uint64
	}{
		{"spread", func(r *rand.Rand) uint64 { return r.Uint64() }},
		// Homes near the table's end: runs wrap to slot 0.
		{"crowded at the end", func(r *rand.Rand) uint64 { return r.Uint64()<<20 | uint64(minIndexSlots-1-r.IntN(8)) }},
		{"few homes", func(r *rand.Rand) uint64 { return r.Uint64()<<20 | uint64(r.IntN(16)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var x windowIndex
			want := map[uint64]uint64{}
			var keys []uint64
			seq := uint64(0)
			check := func(op string) {
				t.Helper()
				if x.len() != len(want) {
					t.Fatalf("after %s: %d entries, want %d", op, x.len(), len(want))
				}
				for h, s := range want {
					if got, ok := x.get(h); !ok || got != s {
						t.Fatalf("after %s: hash %x gives %d, %v; want %d", op, h, got, ok, s)
					}
				}
			}
			// Fill past several doublings, then empty it again, with
			// removals all along.
			for round, n := range []int{5000, 0, 3000, 0} {
				for len(want) != n {
					if len(keys) > 0 && r.IntN(10) < 3 {
						// A look-up that hits: an entry still in the old
						// table moves to the slot find returns.
						h := keys[r.IntN(len(keys))]
						i, taken := x.find(h)
						if !taken || x.slots[i] != (indexSlot{hash: h, seq: want[h] + 1}) {
							t.Fatalf("round %d: find of %x gives slot %d holding %+v, %v", round, h, i, x.slots[i], taken)
						}
					} else if len(want) < n && r.IntN(4) != 0 || len(want) > n && r.IntN(4) == 0 {
						h := tc.hash(r)
						if _, dup := want[h]; dup {
							continue
						}
						slot, taken := x.find(h)
						if taken {
							t.Fatalf("round %d: hash %x found before it was put", round, h)
						}
						x.putAt(slot, h, seq)
						want[h] = seq
						keys = append(keys, h)
						seq++
					} else if len(keys) > 0 {
						i := r.IntN(len(keys))
						h := keys[i]
						keys[i] = keys[len(keys)-1]
						keys = keys[:len(keys)-1]
						if x.remove(h, want[h]+1) {
							t.Fatalf("round %d: removed %x under another sequence number", round, h)
						}
						if !x.remove(h, want[h]) {
							t.Fatalf("round %d: %x was not removed", round, h)
						}
						delete(want, h)
						if _, taken := x.find(h); taken {
							t.Fatalf("round %d: %x is found after its removal", round, h)
						}
					}
					if x.len() != len(want) {
						t.Fatalf("round %d: %d entries, want %d", round, x.len(), len(want))
					}
					if seq%97 == 0 {
						check("a change")
					}
				}
				check("the round")
			}
			if len(x.slots) != minIndexSlots || x.old != nil {
				t.Fatalf("an empty index kept %d slots and an old table of %d", len(x.slots), len(x.old))
			}
			if _, ok := x.get(12345); ok {
				t.Fatal("an empty index found a hash")
			}
		})
	}
}

// len is how many hashes the index holds.
func (x *windowIndex) len() int { return x.count }

// get returns the sequence number indexed under h. Unlike find it moves
// nothing, so that checks leave entries in the old table for the changes
// after them.
func (x *windowIndex) get(h uint64) (seq uint64, ok bool) {
	if x.count == 0 {
		return 0, false
	}
	if i, ok := probe(x.slots, h); ok {
		return x.slots[i].seq - 1, true
	}
	if x.old == nil {
		return 0, false
	}
	if j, ok := probe(x.old, h); ok {
		return x.old[j].seq - 1, true
	}
	return 0, false
}

// TestWindowIndexGrowsAFewSlotsAtATime: the put that fills the index past
// half starts a table twice the size, and each change after it moves at
// most growSteps slots of the old one, until none is left; every entry
// stays found meanwhile, and a removal finds entries in either table.
func TestWindowIndexGrowsAFewSlotsAtATime(t *testing.T) {
	var x windowIndex
	put := func(h uint64) {
		i, taken := x.find(h)
		if taken {
			t.Fatalf("hash %x found before it was put", h)
		}
		x.putAt(i, h, h)
	}
	h := uint64(1)
	for ; x.old == nil; h++ {
		put(h * 0x9e3779b97f4a7c15)
	}
	if len(x.slots) != 2*minIndexSlots || len(x.old) != minIndexSlots {
		t.Fatalf("growing: %d slots, %d old; want %d and %d", len(x.slots), len(x.old), 2*minIndexSlots, minIndexSlots)
	}
	// An entry still in the old table is found, and moves to the new.
	first := uint64(0x9e3779b97f4a7c15)
	if _, inOld := probe(x.old, first); !inOld {
		t.Fatal("the first entry is not in the old table")
	}
	if i, taken := x.find(first); !taken || x.slots[i].seq-1 != first {
		t.Fatalf("find of an entry in the old table: slot %d, taken %v", i, taken)
	}
	if _, inOld := probe(x.old, first); inOld {
		t.Fatal("the entry found stayed in the old table")
	}
	changes := 0
	for x.old != nil {
		before := x.moved
		if changes%2 == 0 {
			put(h * 0x9e3779b97f4a7c15)
			h++
		} else {
			// The oldest entries are the likeliest still in the old table.
			k := uint64(changes/2 + 1)
			if !x.remove(k*0x9e3779b97f4a7c15, k*0x9e3779b97f4a7c15) {
				t.Fatalf("entry %d was not removed", k)
			}
		}
		changes++
		if x.old != nil && x.moved-before > growSteps {
			t.Fatalf("one change moved %d slots of the old table, want at most %d", x.moved-before, growSteps)
		}
		for k := uint64(changes/2 + 1); k < h; k++ {
			if seq, ok := x.get(k * 0x9e3779b97f4a7c15); !ok || seq != k*0x9e3779b97f4a7c15 {
				t.Fatalf("after %d changes: entry %d gives %d, %v", changes, k, seq, ok)
			}
		}
	}
	if changes < 2 || changes > minIndexSlots/growSteps+1 {
		t.Fatalf("the old table emptied after %d changes, want between 2 and %d", changes, minIndexSlots/growSteps+1)
	}
}
