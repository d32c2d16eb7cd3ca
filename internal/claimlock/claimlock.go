// Package claimlock is a lock that nodes sharing a store take as a claim on
// a segment of the token store. One owner holds it at a time; a holder
// that does not release it loses it once its claim is older than the
// timeout; and a commit made under it can carry the claim (Fence), so that
// a holder whose claim lapsed and was taken writes nothing.
package claimlock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"eddy/storage"
)

// Take claims segment seg of the lock set name for owner. The set is
// created, with segments locks, on first use. While another owner holds
// the lock, Take tries again with a growing, jittered wait, until ctx
// ends.
func Take(ctx context.Context, tokens storage.TokenStore, name string, seg, segments int, owner string, timeout time.Duration) (storage.Claim, error) {
	wait := time.Millisecond
	for {
		s, err := tokens.ClaimSegment(ctx, name, seg, owner, timeout)
		switch {
		case err == nil:
			return s.Claim(), nil
		case errors.Is(err, storage.ErrNotFound):
			err := tokens.InitializeSegments(ctx, name, segments, nil)
			if err != nil && !errors.Is(err, storage.ErrExists) {
				return storage.Claim{}, fmt.Errorf("creating the locks of %s: %w", name, err)
			}
			continue
		case !errors.Is(err, storage.ErrClaimed):
			return storage.Claim{}, fmt.Errorf("taking lock %d of %s: %w", seg, name, err)
		}
		// Another owner holds it for a read and a commit: try again soon,
		// with jitter so that waiters do not move in step.
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return storage.Claim{}, fmt.Errorf("waiting for lock %d of %s: %w", seg, name, ctx.Err())
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// Release gives the lock up. It is not bounded by the caller's context,
// only by timeout: a claim that cannot be released frees itself after
// that long, which the error says.
func Release(tokens storage.TokenStore, c storage.Claim, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := tokens.ReleaseClaim(ctx, c); err != nil {
		return fmt.Errorf("releasing lock %s failed; it frees itself after %v: %w", c.String(), timeout, err)
	}
	return nil
}

// Fence makes b fail to commit, with storage.ErrFenced, unless c is still
// the lock's current claim.
func Fence(b *storage.Batch, c storage.Claim) { b.SaveToken(c, nil) }
