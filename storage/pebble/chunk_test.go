package pebble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

func TestChunkSplit(t *testing.T) {
	many := make([][]byte, 300)
	for i := range many {
		many[i] = []byte("e")
	}
	big := make([]byte, maxChunkBytes+1)
	half := make([]byte, maxChunkBytes/2+1)
	cases := []struct {
		name    string
		entries [][]byte
		want    int
	}{
		{"one", [][]byte{[]byte("a")}, 1},
		{"more than the entry limit", many, maxChunkEntries},
		{"an entry bigger than the byte limit alone", [][]byte{big, []byte("a")}, 1},
		{"a big entry after a small one", [][]byte{[]byte("a"), big}, 1},
		{"two halves do not fit", [][]byte{half, half}, 1},
		{"empty entries", [][]byte{{}, {}, {}}, 3},
	}
	for _, tc := range cases {
		if got := chunkSplit(tc.entries); got != tc.want {
			t.Errorf("%s: %d entries in the first chunk, want %d", tc.name, got, tc.want)
		}
	}
}

func TestChunkRoundTrip(t *testing.T) {
	entries := [][]byte{[]byte("first"), {}, bytes.Repeat([]byte("x"), 300), []byte("last")}
	v := appendChunk(nil, 1700000000123, entries)
	if len(v) > chunkBound(entries) {
		t.Fatalf("the chunk takes %d bytes, more than its bound %d", len(v), chunkBound(entries))
	}
	c, err := decodeChunk(v)
	if err != nil {
		t.Fatal(err)
	}
	if c.ts != 1700000000123 || c.count != uint64(len(entries)) {
		t.Fatalf("header: ts %d count %d", c.ts, c.count)
	}
	if last, err := c.lastPosition(10); err != nil || last != 13 {
		t.Fatalf("last position %d, %v; want 13", last, err)
	}
	for i, want := range entries {
		got, err := c.next()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("entry %d: %q, %v; want %q", i, got, err, want)
		}
	}
	if _, err := c.next(); err == nil {
		t.Fatal("read past the last entry")
	}
}

// TestChunkDetectsDamage: any single flipped bit of a chunk is noticed.
func TestChunkDetectsDamage(t *testing.T) {
	v := appendChunk(nil, 1700000000000, [][]byte{[]byte("an entry"), []byte("of the log")})
	for i := 0; i < len(v)*8; i++ {
		d := append([]byte{}, v...)
		d[i/8] ^= 1 << (i % 8)
		if _, err := decodeChunk(d); err == nil {
			t.Fatalf("bit %d flipped went unnoticed", i)
		}
	}
}

// FuzzDecodeChunk fuzzes a chunk's body under a valid checksum, since a
// mutated checksum almost never matches: decoding must not panic, and what
// decodes must encode to chunks that decode to the same entries.
func FuzzDecodeChunk(f *testing.F) {
	f.Add(int64(1700000000000), appendChunk(nil, 0, [][]byte{[]byte("record")})[chunkHeader:])
	f.Add(int64(0), appendChunk(nil, 0, [][]byte{{}, []byte("two")})[chunkHeader:])
	f.Add(int64(-1), []byte{0x81, 0x00, 0x01, 'x'})
	f.Add(int64(5), []byte{3, 1})
	f.Fuzz(func(t *testing.T, ts int64, body []byte) {
		v := binary.BigEndian.AppendUint64(nil, uint64(ts))
		v = append(v, 0, 0, 0, 0)
		v = append(v, body...)
		binary.BigEndian.PutUint32(v[8:12], crc32.Update(crc32.Checksum(v[:8], castagnoli), castagnoli, v[chunkHeader:]))
		c, err := decodeChunk(v)
		if err != nil {
			return
		}
		if c.ts != ts {
			t.Fatalf("timestamp %d decoded as %d", ts, c.ts)
		}
		var entries [][]byte
		for range c.count {
			e, err := c.next()
			if err != nil {
				return
			}
			entries = append(entries, e)
		}
		again, err := decodeChunk(appendChunk(nil, ts, entries))
		if err != nil || again.count != uint64(len(entries)) {
			t.Fatalf("%d entries re-encoded: %v", len(entries), err)
		}
		for i, want := range entries {
			if got, err := again.next(); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("entry %d re-encoded as %q, %v; want %q", i, got, err, want)
			}
		}
	})
}

// formatOneDir makes a store of two partitions whose log is in the former
// layout (a key per entry) and returns its entries.
func formatOneDir(t *testing.T) (string, map[int][]storage.Entry) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := storage.Open(ctx, "pebble", dir, storage.WithPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]storage.Entry{}
	for p := range 2 {
		for i := range 7 {
			var data [][]byte
			for j := range 1 + i*40 {
				data = append(data, fmt.Appendf(nil, "p%d commit %d entry %d", p, i, j))
			}
			if _, err := s.Append(ctx, p, 0, data...); err != nil {
				t.Fatal(err)
			}
		}
		want[p] = readAll(t, s, p)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db := openRaw(t, dir)
	wb := db.NewBatch()
	wb.DeleteRange(partitionKey(kindLog, 0), partitionKey(kindLog, 2), nil)
	for p, entries := range want {
		for _, e := range entries {
			wb.Set(appendLogKey(nil, p, e.Position), appendLogValue(nil, e.Timestamp, e.Data), nil)
		}
	}
	wb.Set(metaFormat, binary.BigEndian.AppendUint64(nil, 1), nil)
	if err := wb.Commit(pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

func openRaw(t *testing.T, dir string) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{discardLogger()}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func readAll(t *testing.T, s *storage.Store, p int) []storage.Entry {
	t.Helper()
	var got []storage.Entry
	if err := s.Read(context.Background(), p, 1, 1<<20, func(e storage.Entry) error {
		e.Data = bytes.Clone(e.Data)
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatalf("reading partition %d: %v", p, err)
	}
	return got
}

// checkMigrated opens dir and checks that every entry, timestamp and
// position of want is kept, and that appends go on after them.
func checkMigrated(t *testing.T, dir string, want map[int][]storage.Entry) {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, "pebble", dir)
	if err != nil {
		t.Fatalf("opening the format-1 directory: %v", err)
	}
	defer s.Close()
	for p, entries := range want {
		got := readAll(t, s, p)
		if len(got) != len(entries) {
			t.Fatalf("partition %d: %d entries after the migration, want %d", p, len(got), len(entries))
		}
		for i := range got {
			if got[i].Position != entries[i].Position || got[i].Timestamp != entries[i].Timestamp || !bytes.Equal(got[i].Data, entries[i].Data) {
				t.Fatalf("partition %d entry %d: %+v, want %+v", p, i, got[i], entries[i])
			}
		}
		first, err := s.Append(ctx, p, 0, []byte("after"))
		if err != nil || first != uint64(len(entries))+1 {
			t.Fatalf("partition %d: append after the migration at %d, %v", p, first, err)
		}
	}
}

// TestMigrateFromFormat1 opens a store in the former layout, in one step
// and in many small ones.
func TestMigrateFromFormat1(t *testing.T) {
	for _, step := range []int{32 << 20, 500} {
		t.Run(fmt.Sprint(step), func(t *testing.T) {
			defer func(old int) { migrationStep = old }(migrationStep)
			migrationStep = step
			dir, want := formatOneDir(t)
			checkMigrated(t, dir, want)
		})
	}
}

// TestMigrationResumes: a migration cut off after its first steps (the
// first partition and part of the second done) goes on at the next open.
func TestMigrationResumes(t *testing.T) {
	dir, want := formatOneDir(t)
	db := openRaw(t, dir)
	b := &Backend{db: db, dir: dir, log: discardLogger()}
	if _, err := b.migratePartition(0, 0); err != nil {
		t.Fatal(err)
	}
	var half []oldEntry
	for _, e := range want[1][:len(want[1])/2] {
		half = append(half, oldEntry{e.Position, e.Timestamp, e.Data})
	}
	if err := b.migrateStep(1, half); err != nil {
		t.Fatal(err)
	}
	// Cut off here, the directory already says format 2: an older eddy
	// refuses it rather than read chunks as format-1 entries.
	if format, err := b.getUint(metaFormat); err != nil || format != formatVersion {
		t.Fatalf("format after an interrupted migration: %d, %v; want %d", format, err, formatVersion)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	checkMigrated(t, dir, want)
}

// TestReadRefusesOverlappingChunks: a chunk that starts inside the one
// before it is damage, even with a valid checksum.
func TestReadRefusesOverlappingChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := storage.Open(ctx, "pebble", dir, storage.WithPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := s.Append(ctx, 0, 0, slices.Repeat([][]byte{[]byte("e")}, 10)...); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	db := openRaw(t, dir)
	if err := db.Set(appendLogKey(nil, 0, 15), appendChunk(nil, 1, slices.Repeat([][]byte{[]byte("x")}, 10)), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = storage.Open(ctx, "pebble", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Read(ctx, 0, 1, 100, func(storage.Entry) error { return nil })
	var corrupt *storage.CorruptError
	if !errors.As(err, &corrupt) || !strings.Contains(err.Error(), "overlaps") {
		t.Fatalf("reading over an overlapping chunk: %v", err)
	}
}

// TestReadFromInsideAChunk reads from every position of a log of a few big
// commits, with small limits, so that reads start and stop inside chunks.
func TestReadFromInsideAChunk(t *testing.T) {
	ctx := context.Background()
	s, err := storage.Open(ctx, "pebble", t.TempDir(), storage.WithPartitions(1))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	total := 0
	for _, n := range []int{1, 300, 5, 600} {
		var data [][]byte
		for range n {
			total++
			data = append(data, fmt.Appendf(nil, "entry %d", total))
		}
		if _, err := s.Append(ctx, 0, 0, data...); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{1, 7, 1000} {
		for from := 1; from <= total+1; from++ {
			next := from
			err := s.Read(ctx, 0, uint64(from), limit, func(e storage.Entry) error {
				if e.Position != uint64(next) || string(e.Data) != fmt.Sprintf("entry %d", next) {
					return fmt.Errorf("got %d %q, want %d", e.Position, e.Data, next)
				}
				next++
				return nil
			})
			if err != nil {
				t.Fatalf("from %d limit %d: %v", from, limit, err)
			}
			if want := min(from+limit, total+1); next != want {
				t.Fatalf("from %d limit %d: read up to %d, want %d", from, limit, next, want)
			}
		}
	}
}
