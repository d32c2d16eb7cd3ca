package deadletter

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"eddy/internal/claimlock"
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
	c, err := claimlock.Take(ctx, l.tokens, l.name, b, buckets, l.owner, l.timeout)
	if err != nil {
		return storage.Claim{}, fmt.Errorf("deadletter: %w", err)
	}
	return c, nil
}

// unlock releases what h holds, storage claims first. A claim that cannot be
// released times out on its own; the queue only reports it.
func (l *locks) unlock(h *held) {
	for _, c := range h.claims {
		if err := claimlock.Release(l.tokens, c, l.timeout); err != nil {
			l.logger.Warn("deadletter: a lock was not released", "error", err)
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
		claimlock.Fence(b, c)
	}
}
