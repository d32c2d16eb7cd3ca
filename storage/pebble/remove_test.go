package pebble

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestShrinkingRemove(t *testing.T) {
	dir := t.TempDir()
	rfs := shrinkingRemoveFS{vfs.Default}
	cases := []struct {
		name string
		size int64
	}{
		{"empty", 0},
		{"under a step", removeStep / 2},
		{"exactly a step", removeStep},
		{"several steps and a bit", 3*removeStep + 17},
	}
	for _, tc := range cases {
		name := filepath.Join(dir, tc.name)
		if err := os.WriteFile(name, make([]byte, tc.size), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := rfs.Remove(name); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: still there after Remove: %v", tc.name, err)
		}
	}
	// What cannot be removed says so, as the plain filesystem does.
	if err := rfs.Remove(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("removing a missing file: %v", err)
	}
	sub := filepath.Join(dir, "dir")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := rfs.Remove(sub); err != nil {
		t.Fatalf("removing an empty directory: %v", err)
	}
}

// A file with another name keeps its content there: it is unlinked, not
// truncated.
func TestShrinkingRemoveKeepsLinkedFiles(t *testing.T) {
	dir := t.TempDir()
	name, other := filepath.Join(dir, "wal"), filepath.Join(dir, "checkpoint-wal")
	data := make([]byte, 3*removeStep)
	data[len(data)-1] = 7
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(name, other); err != nil {
		t.Fatal(err)
	}
	if err := (shrinkingRemoveFS{vfs.Default}).Remove(name); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(other)
	if err != nil || len(got) != len(data) || got[len(got)-1] != 7 {
		t.Fatalf("the other link holds %d bytes (%v), want the %d written", len(got), err, len(data))
	}
}
