package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"eddy/internal/pgtest"
	"eddy/storage"
)

// A row missing from eddy_log is corruption that Read reports where it is,
// after handing over the entries before it; it never skips the gap.
func TestReadReportsMissingPosition(t *testing.T) {
	ctx := guard(t)
	dsn := pgtest.Schema(t)
	b := openBackend(t, dsn, 2)
	commit(t, b, storage.NewBatch(0, 0), "one", "two", "three", "four")
	commit(t, b, storage.NewBatch(1, 0), "one", "two")
	query[int](t, dsn, `WITH d AS (DELETE FROM eddy_log WHERE partition = 0 AND position = 3 RETURNING 1) SELECT count(*) FROM d`)
	query[int](t, dsn, `WITH d AS (DELETE FROM eddy_log WHERE partition = 1 AND position = 1 RETURNING 1) SELECT count(*) FROM d`)
	file := "table eddy_log of schema " + b.schema

	for _, tc := range []struct {
		partition int
		from      uint64
		want      string // entries handed over before the error
		detail    string
	}{
		{0, 1, "[1:one 2:two]", "partition 0: position 3 is missing (found 4)"},
		{0, 3, "[]", "partition 0: position 3 is missing (found 4)"},
		{1, 1, "[]", "partition 1: position 1 is missing (found 2)"},
	} {
		got := []string{}
		err := b.Read(ctx, tc.partition, tc.from, 100, func(e storage.Entry) error {
			got = append(got, fmt.Sprintf("%d:%s", e.Position, e.Data))
			return nil
		})
		var corrupt *storage.CorruptError
		if !errors.As(err, &corrupt) || corrupt.File != file || corrupt.Detail != tc.detail {
			t.Errorf("partition %d from %d: read %v, error %v; want a CorruptError in %q: %q", tc.partition, tc.from, got, err, file, tc.detail)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("partition %d from %d: read %v before the error, want %s", tc.partition, tc.from, got, tc.want)
		}
	}
	// Entry 4 is still there past the gap.
	got := []string{}
	if err := b.Read(ctx, 0, 4, 100, func(e storage.Entry) error {
		got = append(got, fmt.Sprintf("%d:%s", e.Position, e.Data))
		return nil
	}); err != nil || fmt.Sprint(got) != "[4:four]" {
		t.Errorf("partition 0 from 4: read %v, %v; want [4:four]", got, err)
	}

	// A tail stops at the gap, every time, instead of skipping it.
	tail, err := storage.New(b, "postgres", 0).Tail(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := tail.Next(ctx, 100, func(storage.Entry) error { return nil })
		var corrupt *storage.CorruptError
		if !errors.As(err, &corrupt) || !strings.Contains(err.Error(), "position 3 is missing") {
			t.Fatalf("tail at position %d: %v, want the missing position 3 reported", tail.Position(), err)
		}
		if tail.Position() != 3 {
			t.Fatalf("tail is at position %d after the gap, want 3", tail.Position())
		}
	}
}

// guardedCommit makes the group commit's connection wait end with the test's
// guard instead of never, so that a pool starved by readers fails the test
// instead of hanging it.
type guardedCommit struct {
	*backend
	ctx context.Context
}

func (g guardedCommit) Commit(_ context.Context, batches []*storage.Batch, firsts []uint64, errs []error) error {
	return g.backend.Commit(g.ctx, batches, firsts, errs)
}

// More tails than the pool has connections, all committing from inside
// their callbacks at once: Read must not hold a connection while its
// callback runs, or the group commit never gets one.
func TestTailsCommitFromCallbacks(t *testing.T) {
	ctx := guard(t) // only a guard against the deadlock
	b := openBackend(t, pgtest.Schema(t), 2)
	st := storage.New(guardedCommit{b, ctx}, "postgres", 0)
	commit(t, b, storage.NewBatch(0, 0), "go")

	pool := int(b.pool.Config().MaxConns)
	tails := 2 * pool
	// The first pool callbacks wait for one another before committing, so
	// that they are all inside at once, as many as the pool has connections.
	var inside atomic.Int32
	together := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, tails)
	for i := range tails {
		wg.Go(func() {
			tail, err := st.Tail(0, 1)
			if err != nil {
				errs <- err
				return
			}
			_, err = tail.Next(ctx, 1, func(e storage.Entry) error {
				if inside.Add(1) == int32(pool) {
					close(together)
				}
				select {
				case <-together:
				case <-ctx.Done():
					return fmt.Errorf("only %d of %d callbacks got inside at once: %w", inside.Load(), pool, ctx.Err())
				}
				_, err := st.Append(ctx, 1, 0, fmt.Appendf(nil, "from tail %d", i))
				return err
			})
			if err != nil {
				errs <- fmt.Errorf("tail %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(readAll(t, b, 1)); n != tails {
		t.Errorf("partition 1 holds %d entries, want one from each of %d tails", n, tails)
	}
}

// Entries larger than a chunk's byte budget: a chunk stops at the budget,
// cutting its query short, and Read goes on from there, losing nothing.
func TestReadLargeEntries(t *testing.T) {
	ctx := guard(t)
	b := openBackend(t, pgtest.Schema(t), 1)
	const size, n = 1 << 20, 6 // 6 MiB in large entries, more than the budget
	for i := range n {
		bt := storage.NewBatch(0, 0)
		e := make([]byte, size)
		for j := range e {
			e[j] = byte(i)
		}
		bt.Append(e, []byte{byte(i)}) // a large entry, then a small one
		commit(t, b, bt)
	}

	var c chunk
	more, err := b.fill(ctx, 0, 1, 2*n, &c)
	if err != nil || !more {
		t.Fatalf("filling a chunk of %d entries: more %v, error %v; want more after a cut", 2*n, more, err)
	}
	if len(c.arena) < readChunkBytes || len(c.arena) > readChunkBytes+size || c.len() >= 2*n {
		t.Fatalf("a chunk of %d entries of up to %d bytes buffered %d entries, %d bytes; want it cut between %d and %d bytes",
			2*n, size, c.len(), len(c.arena), readChunkBytes, readChunkBytes+size)
	}

	// Small entries made the size estimate small, so the first chunk of
	// this read asks for every row, and is cut.
	b.entrySize[0].Store(1)
	next := uint64(1)
	err = b.Read(ctx, 0, 1, 1000, func(e storage.Entry) error {
		i, wantLen := byte((e.Position-1)/2), size
		if e.Position%2 == 0 {
			wantLen = 1
		}
		if e.Position != next || len(e.Data) != wantLen || e.Data[0] != i || e.Data[len(e.Data)-1] != i {
			return fmt.Errorf("entry at %d (%d bytes), want position %d, %d bytes of %d", e.Position, len(e.Data), next, wantLen, i)
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != 2*n+1 {
		t.Fatalf("read up to position %d, want %d", next-1, 2*n)
	}
	if est := b.entrySize[0].Load(); est < size/4 {
		t.Errorf("entry size estimate %d after reading entries of %d bytes on average", est, size/2)
	}
}
