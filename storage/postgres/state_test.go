package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"

	"eddy/internal/pgtest"
	"eddy/storage"
)

// TestScanAcrossChunks: a scan longer than one chunk visits every key of
// the prefix once, in order, and its callbacks may commit (more scanners at
// once than the pool has connections) without starving the group commit.
func TestScanAcrossChunks(t *testing.T) {
	ctx := guard(t) // only a guard against a deadlock
	b := openBackend(t, pgtest.Schema(t), 2)
	st := storage.New(guardedCommit{b, ctx}, "postgres", 0)
	keys := 2*scanChunk + 17
	bt := storage.NewBatch(0, 0)
	for i := 0; i < keys; i++ {
		bt.Put(fmt.Appendf(nil, "k/%05d", i), fmt.Appendf(nil, "v%d", i))
	}
	bt.Put([]byte("j"), []byte("before the prefix"))
	bt.Put([]byte("l"), []byte("after the prefix"))
	commit(t, b, bt)

	scanners := 2 * int(b.pool.Config().MaxConns)
	var wg sync.WaitGroup
	errs := make(chan error, scanners)
	for s := range scanners {
		wg.Go(func() {
			next := 0
			err := st.Scan(ctx, 0, []byte("k/"), func(k, v []byte) error {
				if want := fmt.Sprintf("k/%05d", next); string(k) != want || string(v) != fmt.Sprintf("v%d", next) {
					return fmt.Errorf("key %d: got %q=%q, want %q", next, k, v, want)
				}
				next++
				if next%scanChunk == 1 {
					_, err := st.Append(ctx, 1, 0, fmt.Appendf(nil, "scanner %d at key %d", s, next))
					return err
				}
				return nil
			})
			if err == nil && next != keys {
				err = fmt.Errorf("visited %d keys, want %d", next, keys)
			}
			if err != nil {
				errs <- fmt.Errorf("scanner %d: %w", s, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestScanStoppedEarlyReadsLittle: a scan whose callback stops at the
// first of many large values (a listing of one dead letter out of a
// sequence of events of 1 MiB) reads about that value, not a chunk of a
// thousand of them (a GiB): a chunk stops at scanChunkBytes as well as at
// scanChunk keys. A scan of them all still visits each once, in order.
func TestScanStoppedEarlyReadsLittle(t *testing.T) {
	b := openBackend(t, pgtest.Schema(t), 1)
	st := storage.New(b, "postgres", 0)
	const n, size = 48, 1 << 20
	for i := range n {
		bt := storage.NewBatch(0, 0)
		bt.Put(fmt.Appendf(nil, "big/%03d", i), bytes.Repeat([]byte{byte('a' + i%26)}, size))
		commit(t, b, bt)
	}
	bt := storage.NewBatch(0, 0)
	bt.Put([]byte("big/empty"), []byte{}) // after them all, and of no bytes
	commit(t, b, bt)
	errStop := errors.New("stop")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := st.Scan(t.Context(), 0, []byte("big/"), func(k, v []byte) error { return errStop })
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errStop) {
		t.Fatalf("scan: %v", err)
	}
	if read := after.TotalAlloc - before.TotalAlloc; read > 4*scanChunkBytes {
		t.Errorf("a scan stopped at its first value of 1 MiB allocated %d MiB, want at most %d", read>>20, 4*scanChunkBytes>>20)
	}
	next := 0
	err = st.Scan(t.Context(), 0, []byte("big/"), func(k, v []byte) error {
		if next == n && string(k) == "big/empty" && v != nil && len(v) == 0 {
			next++
			return nil
		}
		if want := fmt.Sprintf("big/%03d", next); string(k) != want || len(v) != size || v[0] != byte('a'+next%26) {
			return fmt.Errorf("key %d: got %q (%d bytes), want %q", next, k, len(v), want)
		}
		next++
		return nil
	})
	if err != nil || next != n+1 {
		t.Errorf("a whole scan: %v after %d keys, want %d", err, next, n+1)
	}
}

// TestScanValuesOfEverySize: values small enough to come with their keys
// and larger ones, read as the callback reaches them (scanInline), are
// visited once each, in order, with their bytes, empty ones too; a value
// deleted while the scan is at a key before it, and not read yet (a large
// one, or one of the next chunk), is not visited, and a large one made
// small is visited with its new bytes.
func TestScanValuesOfEverySize(t *testing.T) {
	b := openBackend(t, pgtest.Schema(t), 1)
	st := storage.New(b, "postgres", 0)
	sizes := []int{0, 10, scanInline, scanInline + 1, 1 << 20, 3, 2 << 20, 2 << 20, scanInline + 1, 7}
	const chunks = 2 // past a chunk's end too
	valueSize := func(i int) int {
		if size := sizes[i%len(sizes)]; i < len(sizes) || size <= 1<<20 {
			return size
		}
		return 20 << 10 // a few values of MiBs, not hundreds
	}
	var want []string
	bt := storage.NewBatch(0, 0)
	for i := range chunks * scanChunk {
		k := fmt.Sprintf("m/%05d", i)
		bt.Put([]byte(k), bytes.Repeat([]byte{byte('a' + i%26)}, valueSize(i)))
		want = append(want, k)
	}
	commit(t, b, bt)
	valueOK := func(k, v []byte) bool {
		i := slices.Index(want, string(k))
		return i >= 0 && bytes.Equal(v, bytes.Repeat([]byte{byte('a' + i%26)}, valueSize(i))) && v != nil
	}
	for _, c := range []struct {
		name   string
		change string // deleted, or set to shrunk, when the scan is at m/00005
		shrunk []byte
	}{
		{"whole", "", nil},
		{"a large value deleted ahead", "m/00017", nil},
		{"a small value of the next chunk deleted", "m/01500", nil},
		{"a large value made small ahead", "m/00017", []byte("small")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			err := st.Scan(t.Context(), 0, []byte("m/"), func(k, v []byte) error {
				if !valueOK(k, v) && (c.shrunk == nil || string(k) != c.change || !bytes.Equal(v, c.shrunk)) {
					return fmt.Errorf("key %s: %d bytes, not its value", k, len(v))
				}
				got = append(got, string(k))
				if c.change != "" && string(k) == "m/00005" {
					bt := storage.NewBatch(0, 0)
					if c.shrunk != nil {
						bt.Put([]byte(c.change), c.shrunk)
					} else {
						bt.Delete([]byte(c.change))
					}
					commit(t, b, bt)
				}
				return nil
			})
			wantNow := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return k == c.change && c.shrunk == nil })
			if err != nil || !slices.Equal(got, wantNow) {
				t.Errorf("scan: %v, %d keys; want the %d keys in order", err, len(got), len(wantNow))
			}
			if c.change != "" { // back for the next case
				i := slices.Index(want, c.change)
				bt := storage.NewBatch(0, 0)
				bt.Put([]byte(c.change), bytes.Repeat([]byte{byte('a' + i%26)}, valueSize(i)))
				commit(t, b, bt)
			}
		})
	}
}
