package broker

import (
	"context"
	"fmt"

	"eddy/internal/claimlock"
	"eddy/processor"
	"eddy/storage"
)

// A PUT or DELETE of a trigger reads its row, decides, and writes it: on
// nodes sharing a store, two at once could each miss the other's write (a
// resourceVersion check passing on both, two creations of one name). So
// they hold a lock across the nodes from the read to the commit: a claim
// in the token store, which the commit carries, so that a node whose claim
// lapsed (stalled past the claim timeout) writes nothing. Embedded, where
// one process has the store, the router's changing mutex is enough.

// triggerWritesLock is the token-store name of the lock.
const triggerWritesLock = "broker/trigger-writes"

// writeLock is the lock held for one trigger write.
type writeLock struct {
	r     *Router
	claim *storage.Claim
}

// lockWrites takes the lock; r.changing is held.
func (r *Router) lockWrites(ctx context.Context) (*writeLock, error) {
	l := &writeLock{r: r}
	if r.b.store.Backend() == "pebble" {
		return l, nil
	}
	c, err := claimlock.Take(ctx, r.b.store.Tokens(), triggerWritesLock, 0, 1, r.b.o.nodeID, processor.DefaultClaimTimeout)
	if err != nil {
		return nil, fmt.Errorf("broker: trigger writes: %w", err)
	}
	l.claim = &c
	return l, nil
}

// commit commits the state writes fill adds, fenced by the lock.
func (l *writeLock) commit(ctx context.Context, fill func(b *storage.Batch)) error {
	if h := l.r.beforeWriteCommit; h != nil {
		h()
	}
	return l.r.b.state.commit(ctx, func(b *storage.Batch) {
		if l.claim != nil {
			claimlock.Fence(b, *l.claim)
		}
		fill(b)
	})
}

func (l *writeLock) unlock() {
	if l.claim == nil {
		return
	}
	if err := claimlock.Release(l.r.b.store.Tokens(), *l.claim, processor.DefaultClaimTimeout); err != nil {
		l.r.b.o.logger.Warn("broker: the trigger writes lock was not released", "error", err)
	}
}
