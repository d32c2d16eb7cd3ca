package engine

import (
	"math/rand/v2"
	"testing"
)

// TestWindowIndexMatchesAMap drives the index and a Go map with the same
// random puts and removes, hashes crowded into few home slots so that runs
// wrap around the table's end and removals shift entries back, through
// growth and shrinking, and compares them after every operation.
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
					if len(want) < n && r.IntN(4) != 0 || len(want) > n && r.IntN(4) == 0 {
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
					}
					if seq%97 == 0 {
						check("a change")
					}
				}
				check("the round")
			}
			if len(x.slots) != minIndexSlots {
				t.Fatalf("an empty index kept %d slots", len(x.slots))
			}
			if _, ok := x.get(12345); ok {
				t.Fatal("an empty index found a hash")
			}
		})
	}
}

// len is how many hashes the index holds.
func (x *windowIndex) len() int { return x.count }

// get returns the sequence number indexed under h.
func (x *windowIndex) get(h uint64) (seq uint64, ok bool) {
	if x.count == 0 {
		return 0, false
	}
	i, ok := x.find(h)
	if !ok {
		return 0, false
	}
	return x.slots[i].seq - 1, true
}
