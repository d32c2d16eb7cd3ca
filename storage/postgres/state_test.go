package postgres

import (
	"fmt"
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
