package pebble_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"eddy/storage"
)

// fill appends n 200-byte entries to partition 0, one commit each, and
// closes the store.
func fill(t *testing.T, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, "pebble", dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := s.Append(ctx, 0, 0, make([]byte, 200)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// flipByte damages the first file in dir whose name matches pattern, a third
// of the way into its content, and returns its name.
func flipByte(t *testing.T, dir, pattern string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(files) == 0 {
		t.Fatalf("no file %s in %s", pattern, dir)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// A write-ahead log is written ahead with zeros; damage to that tail
	// would be damage past the log's end, so a third of what precedes it.
	data[len(bytes.TrimRight(data, "\x00"))/3] ^= 0xff
	if err := os.WriteFile(files[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(files[0])
}

// TestCorruptionIsReportedWithTheFile damages each kind of file and checks
// that opening or reading fails with a storage.CorruptError naming it,
// never with fewer entries than were acknowledged.
func TestCorruptionIsReportedWithTheFile(t *testing.T) {
	cases := []struct {
		name    string
		pattern string
		// flushed: reopen once before damaging, so the entries sit in an
		// sstable rather than in the write-ahead log.
		flushed bool
	}{
		{name: "write-ahead log", pattern: "*.log"},
		{name: "sstable", pattern: "*.sst", flushed: true},
		{name: "durable mark", pattern: "EDDY-DURABLE-MARK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			fill(t, dir, 200)
			if tc.flushed {
				fill(t, dir, 0)
			}
			file := flipByte(t, dir, tc.pattern)
			s, err := storage.Open(ctx, "pebble", dir)
			if err == nil {
				entries := 0
				err = s.Read(ctx, 0, 1, 0, func(storage.Entry) error { entries++; return nil })
				s.Close()
				if err == nil {
					t.Fatalf("damaged %s went unnoticed: read %d of 200 entries", file, entries)
				}
			}
			var ce *storage.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("want a storage.CorruptError, got %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error does not name the damaged file %s: %v", file, err)
			}
			t.Log(err)
		})
	}
}
