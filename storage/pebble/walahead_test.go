package pebble

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestWrittenAheadFile writes a log through the wrapper in pieces of many
// sizes and checks that the file holds exactly what was written, followed
// by zeros, and that no write reached past the written space, which grew a
// step at a time.
func TestWrittenAheadFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   func(t *testing.T) (vfs.FS, string)
	}{
		{"disk", func(t *testing.T) (vfs.FS, string) { return vfs.Default, t.TempDir() }},
		{"memory", func(t *testing.T) (vfs.FS, string) { return vfs.NewMem(), "/" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, dir := tc.fs(t)
			fs := writtenAheadFS{base}
			name := base.PathJoin(dir, "000007.log")
			f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(7, 7))
			var want []byte
			var size int64
			extensions := 0
			for len(want) < 3*writeAheadStep {
				p := make([]byte, 1+rng.IntN(100<<10))
				for i := range p {
					p[i] = byte(1 + rng.IntN(255)) // never zero, so a lost byte shows
				}
				// Kept before writing: a File may change what it was given
				// (Pebble's in-memory one does, in race builds).
				want = append(want, p...)
				if _, err := f.Write(p); err != nil {
					t.Fatal(err)
				}
				info, err := f.Stat()
				if err != nil {
					t.Fatal(err)
				}
				// A write that ended the file would have appended.
				if info.Size() <= int64(len(want)) {
					t.Fatalf("after %d bytes the file is %d bytes: the write was not written ahead of", len(want), info.Size())
				}
				if info.Size() != size {
					size, extensions = info.Size(), extensions+1
				}
			}
			if extensions > 3 {
				t.Fatalf("%d bytes were written ahead %d times: not a step at a time", len(want), extensions)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			got := readFile(t, base, name)
			if !bytes.Equal(got[:len(want)], want) {
				t.Fatal("the log's content differs from what was written")
			}
			if tail := got[len(want):]; len(bytes.Trim(tail, "\x00")) != 0 {
				t.Fatal("the written-ahead space holds something other than zeros")
			}

			// A recycled log is overwritten from the start; its old content
			// is written space, so writing less than it extends nothing.
			reused := base.PathJoin(dir, "000009.log")
			size = int64(len(got))
			f, err = fs.ReuseForWrite(name, reused, vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			short := bytes.Repeat([]byte{0xee}, int(size)-writeAheadStep/2)
			if _, err := f.Write(bytes.Clone(short)); err != nil {
				t.Fatal(err)
			}
			if info, _ := f.Stat(); info.Size() != size {
				t.Fatalf("a recycled log of %d bytes grew to %d for a write inside it", size, info.Size())
			}
			// One more write reaches its end: now it grows a step ahead.
			if _, err := f.Write(bytes.Repeat([]byte{0xdd}, writeAheadStep)); err != nil {
				t.Fatal(err)
			}
			if info, _ := f.Stat(); info.Size() < size+writeAheadStep {
				t.Fatalf("a recycled log written past its end is %d bytes, want at least %d", info.Size(), size+writeAheadStep)
			}
			f.Close()
			got = readFile(t, base, reused)
			if !bytes.Equal(got[:len(short)], short) || got[len(short)+writeAheadStep-1] != 0xdd {
				t.Fatal("the recycled log's content differs from what was written")
			}

			// Other files pass through unchanged.
			other, err := fs.Create(base.PathJoin(dir, "000010.sst"), vfs.WriteCategoryUnspecified)
			if err != nil {
				t.Fatal(err)
			}
			other.Write([]byte("x"))
			if info, _ := other.Stat(); info.Size() != 1 {
				t.Fatalf("an sstable was written ahead: %d bytes", info.Size())
			}
			other.Close()
		})
	}
}

func readFile(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestZeroedLogTailsReplay runs Pebble on disk through the wrapper with a
// small memtable, so that logs rotate and are recycled, and copies the data
// directory while it is open after each synced write: what a kill -9 at that
// moment leaves. Each copy must open, replaying logs with zeroed tails, and
// hold every write synced before it was taken.
func TestZeroedLogTailsReplay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	opts := &pebble.Options{FS: writtenAheadFS{vfs.Default}, MemTableSize: 1 << 20, Logger: pebbleLogger{discardLogger()}}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	value := bytes.Repeat([]byte("v"), 2000)
	key := func(i int) []byte { return fmt.Appendf(nil, "k%06d", i) }
	const writes = 6000 // 12 MB: a dozen memtables
	zeroedTails := 0
	for i := range writes {
		if err := db.Set(key(i), value, pebble.Sync); err != nil {
			t.Fatal(err)
		}
		if i%1000 != 999 {
			continue
		}
		image := filepath.Join(t.TempDir(), "image")
		zeroedTails += copyDir(t, dir, image)
		copied, err := pebble.Open(image, &pebble.Options{FS: writtenAheadFS{vfs.Default}, Logger: pebbleLogger{discardLogger()}})
		if err != nil {
			t.Fatalf("an image taken after write %d does not open: %v", i, err)
		}
		for j := 0; j <= i; j++ {
			v, closer, err := copied.Get(key(j))
			if err != nil {
				t.Fatalf("image after write %d: key %d: %v", i, j, err)
			}
			if !bytes.Equal(v, value) {
				t.Fatalf("image after write %d: key %d holds %d bytes", i, j, len(v))
			}
			closer.Close()
		}
		if err := copied.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if zeroedTails == 0 {
		t.Fatal("no image held a log with a zeroed tail: the wrapper was not used")
	}
}

// copyDir copies a Pebble directory file by file and returns how many of
// its logs end in at least a megabyte of zeros. A copy during which a
// file came or went (a flush that ended, a log removed) mixes two states
// no crash could leave, so it is taken again.
func copyDir(t *testing.T, from, to string) (zeroedTails int) {
	t.Helper()
	for {
		before := listDir(t, from)
		if err := os.RemoveAll(to); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(to, 0o755); err != nil {
			t.Fatal(err)
		}
		zeroedTails = 0
		complete := true
		for _, name := range before {
			b, err := os.ReadFile(filepath.Join(from, name))
			if os.IsNotExist(err) {
				complete = false
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(name, ".log") && len(b) > 1<<20 && len(bytes.Trim(b[len(b)-1<<20:], "\x00")) == 0 {
				zeroedTails++
			}
		}
		if complete && slices.Equal(before, listDir(t, from)) {
			return zeroedTails
		}
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}
