package pebble

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"eddy/storage"
)

func TestRecentChunks(t *testing.T) {
	value := func(n int) []byte { return make([]byte, n) }
	type add struct {
		first, count uint64
		size         int
	}
	cases := []struct {
		name   string
		adds   []add
		pos    uint64
		max    int
		want   []uint64 // firsts of the chunks returned
		wantOK bool
	}{
		{"empty", nil, 1, 8, nil, false},
		{"the chunk holding a position", []add{{1, 3, 10}, {4, 2, 10}, {6, 5, 10}}, 5, 8, []uint64{4, 6}, true},
		{"a chunk's first position", []add{{1, 3, 10}, {4, 2, 10}}, 4, 8, []uint64{4}, true},
		{"at most max chunks", []add{{1, 1, 10}, {2, 1, 10}, {3, 1, 10}}, 1, 2, []uint64{1, 2}, true},
		{"before what is kept", []add{{5, 3, 10}}, 4, 8, nil, false},
		{"after what is kept", []add{{5, 3, 10}}, 8, 8, nil, false},
		{"a gap starts the range anew", []add{{1, 3, 10}, {9, 2, 10}}, 2, 8, nil, false},
		{"after a gap, the new range", []add{{1, 3, 10}, {9, 2, 10}}, 10, 8, []uint64{9}, true},
		{"the oldest dropped past the byte bound", []add{{1, 1, recentMaxBytes / 2}, {2, 1, recentMaxBytes / 2}, {3, 1, 1}}, 1, 8, nil, false},
		{"the newer kept past the byte bound", []add{{1, 1, recentMaxBytes / 2}, {2, 1, recentMaxBytes / 2}, {3, 1, 1}}, 2, 8, []uint64{2, 3}, true},
		{"one chunk bigger than the bound is kept", []add{{1, 1, 2 * recentMaxBytes}}, 1, 8, []uint64{1}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r recentChunks
			for _, a := range tc.adds {
				r.add(a.first, value(a.size), a.count)
			}
			got, ok := r.from(nil, tc.pos, tc.max)
			if ok != tc.wantOK {
				t.Fatalf("from(%d) ok = %v, want %v", tc.pos, ok, tc.wantOK)
			}
			var firsts []uint64
			for _, c := range got {
				firsts = append(firsts, c.first)
			}
			if fmt.Sprint(firsts) != fmt.Sprint(tc.want) {
				t.Fatalf("from(%d) gave chunks at %v, want %v", tc.pos, firsts, tc.want)
			}
		})
	}
}

// TestRecentChunksSlide: many more chunks than are kept leave the newest
// ones, in order, and a bounded slice.
func TestRecentChunksSlide(t *testing.T) {
	var r recentChunks
	for i := uint64(1); i <= 3*recentMaxChunks; i++ {
		r.add(i, []byte{byte(i)}, 1)
	}
	if n := len(r.chunks) - r.start; n != recentMaxChunks {
		t.Fatalf("%d chunks kept, want %d", n, recentMaxChunks)
	}
	if cap(r.chunks) > 4*recentMaxChunks {
		t.Fatalf("the slice grew to %d", cap(r.chunks))
	}
	first := uint64(2*recentMaxChunks + 1)
	got, ok := r.from(nil, first, 3)
	if !ok || len(got) != 3 || got[0].first != first || got[2].first != first+2 || got[2].value[0] != byte(first+2) {
		t.Fatalf("from(%d): %v %v", first, got, ok)
	}
	if _, ok := r.from(nil, first-1, 3); ok {
		t.Fatalf("position %d was dropped but is still served", first-1)
	}
}

// TestReadAcrossRecentAndStored: a log much larger than what a partition
// keeps in memory reads the same from any position, with any limit, and
// after a reopen (nothing kept).
func TestReadAcrossRecentAndStored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := storage.Open(ctx, "pebble", dir, storage.WithPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	entry := func(pos uint64) []byte {
		return append(bytes.Repeat([]byte{byte(pos)}, 2000), fmt.Sprint(pos)...)
	}
	var pos uint64
	for pos < 3*recentMaxBytes/2000 {
		var data [][]byte
		for range 1 + pos%300 {
			pos++
			data = append(data, entry(pos))
		}
		if _, err := s.Append(ctx, 0, 0, data...); err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage string) {
		for _, from := range []uint64{1, pos / 3, pos - pos/5, pos - 1, pos} {
			for _, limit := range []int{1, 7, 300, 1 << 20} {
				want := from
				err := s.Read(ctx, 0, from, limit, func(e storage.Entry) error {
					if e.Position != want || !bytes.Equal(e.Data, entry(want)) {
						return fmt.Errorf("entry at %d (%d bytes), want position %d", e.Position, len(e.Data), want)
					}
					want++
					return nil
				})
				if err != nil {
					t.Fatalf("%s: read from %d, limit %d: %v", stage, from, limit, err)
				}
				if n := want - from; n != min(uint64(limit), pos-from+1) {
					t.Fatalf("%s: read from %d, limit %d: %d entries", stage, from, limit, n)
				}
			}
		}
	}
	check("written")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = storage.Open(ctx, "pebble", dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("reopened")
}
