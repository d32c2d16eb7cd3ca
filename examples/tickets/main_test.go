package main

import (
	"strings"
	"testing"
)

// TestCheckFlags: a --partitions out of 1 to 4096 is refused, naming the
// flag and the range (before, 0 made a store of the default 2 partitions
// and a negative count failed in the store, naming no flag).
func TestCheckFlags(t *testing.T) {
	for n, want := range map[int]string{0: "invalid --partitions 0: use 1 to 4096", -1: "invalid --partitions -1: use 1 to 4096", 4097: "invalid --partitions 4097", 1: "", 2: "", 4096: ""} {
		err := checkFlags(config{Partitions: n})
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("--partitions %d: %v, want %q", n, err, want)
		}
	}
}
