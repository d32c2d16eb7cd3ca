package claimlock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"eddy/internal/claimlock"
	"eddy/internal/pgtest"
	"eddy/storage"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// TestLock: a held lock makes another owner wait until it is released; a
// holder whose claim lapsed loses it, and its fenced commit is refused.
func TestLock(t *testing.T) {
	for _, b := range []struct{ name, location string }{
		{"pebble", t.TempDir()},
		{"postgres", pgtest.Schema(t)},
	} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := storage.Open(ctx, b.name, b.location)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			tokens := st.Tokens()
			const timeout = 200 * time.Millisecond
			a, err := claimlock.Take(ctx, tokens, "locks", 0, 2, "a", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			// Another lock of the set is free.
			other, err := claimlock.Take(ctx, tokens, "locks", 1, 2, "b", timeout)
			if err != nil {
				t.Fatal(err)
			}
			short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, err = claimlock.Take(short, tokens, "locks", 0, 2, "b", time.Minute)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("taking a held lock: %v, want to wait until the context ends", err)
			}
			taken := make(chan error, 1)
			go func() {
				_, err := claimlock.Take(ctx, tokens, "locks", 0, 2, "b", time.Minute)
				taken <- err
			}()
			if err := claimlock.Release(tokens, a, timeout); err != nil {
				t.Fatal(err)
			}
			if err := <-taken; err != nil {
				t.Fatalf("taking a released lock: %v", err)
			}

			// b's claim on lock 1 lapses; c takes it; b's fenced commit fails.
			time.Sleep(2 * timeout)
			if _, err := claimlock.Take(ctx, tokens, "locks", 1, 2, "c", timeout); err != nil {
				t.Fatal(err)
			}
			batch := storage.NewBatch(0, 0)
			batch.Put([]byte("k"), []byte("v"))
			claimlock.Fence(batch, other)
			if _, err := st.Commit(ctx, batch); !errors.Is(err, storage.ErrFenced) {
				t.Fatalf("a commit fenced by a lapsed claim: %v, want ErrFenced", err)
			}
			if _, err := st.Get(ctx, 0, []byte("k")); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("the refused commit wrote: %v", err)
			}
		})
	}
}
