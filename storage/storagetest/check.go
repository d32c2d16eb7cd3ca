package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"eddy/storage"
)

// entry is a copy of a storage.Entry that outlives the Read callback.
type entry struct {
	Position  uint64
	Timestamp int64
	Data      []byte
}

// record names the test payload of entry i of partition p, so that a
// misplaced entry says where it came from.
func record(p, i int) []byte { return fmt.Appendf(nil, "partition %d entry %d", p, i) }

// records returns record(p, from) .. record(p, from+n-1).
func records(p, from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = record(p, from+i)
	}
	return out
}

// show prints bytes for a failure message: quoted, and cut short when long.
func show(b []byte) string {
	if b == nil {
		return "nil"
	}
	const max = 48
	if len(b) > max {
		return fmt.Sprintf("%q... (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// commit commits b and fails the test if that fails.
func commit(t testing.TB, ctx context.Context, st *store, b *storage.Batch) uint64 {
	t.Helper()
	first, err := st.Commit(ctx, b)
	if err != nil {
		t.Fatalf("commit to partition %d at epoch %d (%d entries, %d state writes, %d token writes): %v",
			b.Partition, b.Epoch, len(b.Entries()), len(b.Writes()), len(b.TokenWrites()), err)
	}
	return first
}

// appendAt appends data to partition p at epoch 0, checks that it landed at
// want, and fails the test otherwise.
func appendAt(t testing.TB, ctx context.Context, st *store, p int, want uint64, data ...[]byte) {
	t.Helper()
	first, err := st.Append(ctx, p, 0, data...)
	if err != nil {
		t.Fatalf("append %d entries to partition %d: %v", len(data), p, err)
	}
	if first != want {
		t.Fatalf("append %d entries to partition %d: first position %d, want %d", len(data), p, first, want)
	}
}

// read reads partition p from position from, up to limit entries, copying
// each entry.
func read(t testing.TB, ctx context.Context, st *store, p int, from uint64, limit int) []entry {
	t.Helper()
	var out []entry
	err := st.Read(ctx, p, from, limit, func(e storage.Entry) error {
		out = append(out, entry{e.Position, e.Timestamp, bytes.Clone(e.Data)})
		return nil
	})
	if err != nil {
		t.Fatalf("read partition %d from %d limit %d: %v", p, from, limit, err)
	}
	return out
}

// checkEntries checks that got holds exactly want at positions first,
// first+1, ... of partition p.
func checkEntries(t testing.TB, what string, p int, got []entry, first uint64, want [][]byte) {
	t.Helper()
	for i := 0; i < len(got) && i < len(want); i++ {
		pos := first + uint64(i)
		if got[i].Position != pos {
			t.Fatalf("%s: partition %d: entry %d of the result is at position %d, want %d", what, p, i, got[i].Position, pos)
		}
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Fatalf("%s: partition %d position %d holds %s, want %s", what, p, pos, show(got[i].Data), show(want[i]))
		}
	}
	if len(got) != len(want) {
		var last uint64
		if len(got) > 0 {
			last = got[len(got)-1].Position
		}
		t.Fatalf("%s: partition %d: got %d entries (last at position %d), want %d from position %d",
			what, p, len(got), last, len(want), first)
	}
}

// checkBounds checks partition p's bounds.
func checkBounds(t testing.TB, ctx context.Context, st *store, p int, want storage.Bounds) {
	t.Helper()
	got, err := st.Bounds(ctx, p)
	if err != nil {
		t.Fatalf("bounds of partition %d: %v", p, err)
	}
	if got != want {
		t.Fatalf("bounds of partition %d: got first %d last %d, want first %d last %d", p, got.First, got.Last, want.First, want.Last)
	}
}

// wantErr checks that err matches one of targets, naming the call in the
// message.
func wantErr(t testing.TB, what string, err error, targets ...error) {
	t.Helper()
	for _, target := range targets {
		if errors.Is(err, target) {
			return
		}
	}
	want := make([]string, len(targets))
	for i, target := range targets {
		want[i] = target.Error()
	}
	t.Fatalf("%s: got error %v, want %s", what, err, strings.Join(want, " or "))
}

// noErr fails the test if err is not nil.
func noErr(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// kv is one key and value of a partition's state.
type kv struct{ key, value []byte }

// scan returns the keys and values of partition p's state under prefix.
func scan(t testing.TB, ctx context.Context, st *store, p int, prefix []byte) []kv {
	t.Helper()
	var out []kv
	err := st.Scan(ctx, p, prefix, func(k, v []byte) error {
		out = append(out, kv{bytes.Clone(k), bytes.Clone(v)})
		return nil
	})
	if err != nil {
		t.Fatalf("scan partition %d prefix %s: %v", p, show(prefix), err)
	}
	return out
}

// checkScan compares a scan result with want.
func checkScan(t testing.TB, p int, prefix []byte, got, want []kv) {
	t.Helper()
	for i := 0; i < len(got) && i < len(want); i++ {
		if !bytes.Equal(got[i].key, want[i].key) {
			t.Fatalf("scan partition %d prefix %s: key %d is %s, want %s (got keys %s, want %s)",
				p, show(prefix), i, show(got[i].key), show(want[i].key), keyList(got), keyList(want))
		}
		if !bytes.Equal(got[i].value, want[i].value) {
			t.Fatalf("scan partition %d prefix %s: key %s has value %s, want %s", p, show(prefix), show(got[i].key), show(got[i].value), show(want[i].value))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("scan partition %d prefix %s: got %d keys %s, want %d keys %s", p, show(prefix), len(got), keyList(got), len(want), keyList(want))
	}
}

func keyList(kvs []kv) string {
	keys := make([]string, len(kvs))
	for i, e := range kvs {
		keys[i] = show(e.key)
	}
	return "[" + joinShort(keys) + "]"
}

func joinShort(s []string) string {
	const max = 20
	if len(s) > max {
		s = append(slices.Clone(s[:max]), fmt.Sprintf("... %d more", len(s)-max))
	}
	return strings.Join(s, " ")
}

// checkValue checks key's value in partition p's state.
func checkValue(t testing.TB, ctx context.Context, st *store, p int, key, want []byte) {
	t.Helper()
	got, err := st.Get(ctx, p, key)
	if err != nil {
		t.Fatalf("get partition %d key %s: %v, want value %s", p, show(key), err, show(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("get partition %d key %s: %s, want %s", p, show(key), show(got), show(want))
	}
}

// checkMissing checks that key is not in partition p's state.
func checkMissing(t testing.TB, ctx context.Context, st *store, p int, key []byte) {
	t.Helper()
	got, err := st.Get(ctx, p, key)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get partition %d key %s: got value %s error %v, want ErrNotFound", p, show(key), show(got), err)
	}
}
