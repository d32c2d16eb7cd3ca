package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
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
