package pebble_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"eddy/storage"
)

func TestOpenErrorsSayWhatAndWhere(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	inUse := t.TempDir()
	s, err := storage.Open(ctx, "pebble", inUse)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	existing := t.TempDir()
	fill(t, existing, 1)

	cases := []struct {
		name string
		dir  string
		opts []storage.Opt
		want []string
	}{
		{"no directory", "", nil, []string{"no data directory"}},
		{"parent is a file", filepath.Join(file, "data"), nil, []string{file, "not a directory"}},
		{"in use", inUse, nil, []string{inUse, "in use"}},
		{"partition count differs", existing, []storage.Opt{storage.WithPartitions(5)}, []string{existing, "holds 3 partitions, 5 were asked for"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := storage.Open(ctx, "pebble", tc.dir, tc.opts...)
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans several lines: %q", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
}
