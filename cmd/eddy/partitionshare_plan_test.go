package main

import (
	"slices"
	"testing"
)

// TestSharePartitions: partitions spread evenly over the live nodes, and
// as few move as can: a node that joins takes its quota from the fullest,
// a node that leaves gives only its own, and a share that is even stays.
func TestSharePartitions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nodes   []string
		holders []string
		want    []string
	}{
		{"alone, nothing held", []string{"a"}, []string{"", "", ""}, []string{"a", "a", "a"}},
		{"a second joins", []string{"a", "b"}, []string{"a", "a", "a"}, []string{"a", "a", "b"}},
		{"a third joins", []string{"a", "b", "c"}, []string{"a", "a", "b"}, []string{"a", "c", "b"}},
		{"a fourth joins three partitions: nothing moves", []string{"a", "b", "c", "d"}, []string{"a", "c", "b"}, []string{"a", "c", "b"}},
		{"a node left: only its partition moves", []string{"b", "c", "d"}, []string{"", "c", "b"}, []string{"d", "c", "b"}},
		{"a dead holder's partitions go to the live", []string{"a", "c"}, []string{"a", "b", "b", "c"}, []string{"a", "a", "c", "c"}},
		{"the fullest keeps the extra one", []string{"a", "b"}, []string{"b", "b", "a", "b", "a"}, []string{"b", "b", "a", "b", "a"}},
		{"four partitions, a third joins two", []string{"a", "b", "c"}, []string{"a", "a", "b", "b"}, []string{"a", "a", "b", "c"}},
		{"more nodes than partitions", []string{"a", "b", "c"}, []string{"", ""}, []string{"a", "b"}},
		{"no nodes read yet", nil, []string{"a"}, []string{""}},
	} {
		if got := sharePartitions(len(tc.want), tc.nodes, tc.holders); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestSharePartitionsSettles: nodes that each act on the plan (give what
// is another's, take what is theirs and free) reach a plan that keeps
// every partition where it is, from any start.
func TestSharePartitionsSettles(t *testing.T) {
	nodes := []string{"n1", "n2", "n3"}
	for _, start := range [][]string{
		{"n1", "n1", "n1", "n1", "n1", "n1", "n1"},
		{"", "", "", "", "", "", ""},
		{"n3", "gone", "n1", "gone", "n3", "n3", ""},
	} {
		holders := slices.Clone(start)
		for round := 0; ; round++ {
			if round == 5 {
				t.Fatalf("from %q: not settled after 5 rounds: %q", start, holders)
			}
			plan := sharePartitions(len(holders), nodes, holders)
			if slices.Equal(plan, holders) {
				break
			}
			for p := range holders { // give first, then take what is free
				if holders[p] != plan[p] {
					holders[p] = ""
				}
			}
			for p := range holders {
				if holders[p] == "" {
					holders[p] = plan[p]
				}
			}
		}
		counts := map[string]int{}
		for _, h := range holders {
			counts[h]++
		}
		for _, n := range nodes {
			if counts[n] < 2 || counts[n] > 3 {
				t.Errorf("from %q: settled unevenly: %q", start, holders)
			}
		}
	}
}
