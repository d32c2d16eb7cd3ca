package deadletter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"eddy/storage"
)

// locks serialize the changes to the sequences of one bucket: a channel per
// bucket inside the process and, when nodes share the store, a claim on the
// bucket's segment in the token store.
type locks struct {
	local [buckets]chan struct{}

	// shared is set when other nodes may write the same queue.
	shared  bool
	tokens  storage.TokenStore
	name    string // the token store's processor name for the locks
	owner   string
	timeout time.Duration
	logger  *slog.Logger
}

func newLocks(store *storage.Store, processor, owner string, o options, shared bool) *locks {
	l := &locks{
		shared:  shared,
		tokens:  store.Tokens(),
		name:    lockProcessor(processor),
		owner:   owner,
		timeout: o.lockTimeout,
		logger:  o.logger,
	}
	for i := range l.local {
		l.local[i] = make(chan struct{}, 1)
	}
	return l
}

// lockProcessor is the token-store name under which a queue's locks live.
func lockProcessor(processor string) string { return "deadletter:" + processor }

// held is a taken lock; claim is set when it is held in storage too, and
// every commit made under it must carry a token write for the claim.
type held struct {
	buckets []int
	claims  []storage.Claim
}

// lock takes the locks of the given buckets, in ascending order (callers
// pass them sorted, so that two lockers of several buckets cannot deadlock).
func (l *locks) lock(ctx context.Context, bs ...int) (*held, error) {
	h := &held{}
	for _, b := range bs {
		select {
		case l.local[b] <- struct{}{}:
		case <-ctx.Done():
			l.unlock(h)
			return nil, ctx.Err()
		}
		h.buckets = append(h.buckets, b)
		if !l.shared {
			continue
		}
		c, err := l.claim(ctx, b)
		if err != nil {
			l.unlock(h)
			return nil, err
		}
		h.claims = append(h.claims, c)
	}
	return h, nil
}

// claim takes bucket b's segment in the token store, waiting while another
// node holds it.
func (l *locks) claim(ctx context.Context, b int) (storage.Claim, error) {
	wait := time.Millisecond
	for {
		seg, err := l.tokens.ClaimSegment(ctx, l.name, b, l.owner, l.timeout)
		switch {
		case err == nil:
			return seg.Claim(), nil
		case errors.Is(err, storage.ErrNotFound):
			err := l.tokens.InitializeSegments(ctx, l.name, buckets, nil)
			if err != nil && !errors.Is(err, storage.ErrExists) {
				return storage.Claim{}, fmt.Errorf("deadletter: creating the locks of %s: %w", l.name, err)
			}
			continue
		case !errors.Is(err, storage.ErrClaimed):
			return storage.Claim{}, fmt.Errorf("deadletter: taking lock %d of %s: %w", b, l.name, err)
		}
		// Another node holds the bucket for a read and a commit: try again
		// soon, with jitter so that waiters do not move in step.
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return storage.Claim{}, fmt.Errorf("deadletter: waiting for lock %d of %s: %w", b, l.name, ctx.Err())
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// unlock releases what h holds, storage claims first. A claim that cannot be
// released times out on its own; the queue only reports it.
func (l *locks) unlock(h *held) {
	for _, c := range h.claims {
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		err := l.tokens.ReleaseClaim(ctx, c)
		cancel()
		if err != nil {
			l.logger.Warn("deadletter: releasing a lock failed; it frees itself after the lock timeout",
				"lock", c.String(), "timeout", l.timeout, "error", err)
		}
	}
	for i := len(h.buckets) - 1; i >= 0; i-- {
		<-l.local[h.buckets[i]]
	}
	h.buckets, h.claims = nil, nil
}

// fence makes batch b fail unless every claim of h is still current.
func (h *held) fence(b *storage.Batch) {
	for _, c := range h.claims {
		b.SaveToken(c, nil)
	}
}
