package main

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sort"
	"time"

	"eddy/storage"
)

// partitionClaims keeps this node's partition claims: a node writes a
// partition only while it holds the claim. It renews its claims well inside
// the timeout and, on each round, takes every partition that is free or
// whose owner stopped renewing, so a dead node's partitions move to the
// survivors.
type partitionClaims struct {
	store   *storage.Store
	node    string
	timeout time.Duration
	log     *slog.Logger
	held    map[int]storage.PartitionClaim
}

func newPartitionClaims(s *storage.Store, node string, timeout time.Duration, log *slog.Logger) *partitionClaims {
	return &partitionClaims{store: s, node: node, timeout: timeout, log: log, held: map[int]storage.PartitionClaim{}}
}

// partitions lists the held partitions in order.
func (c *partitionClaims) partitions() []int {
	ps := make([]int, 0, len(c.held))
	for p := range c.held {
		ps = append(ps, p)
	}
	sort.Ints(ps)
	return ps
}

// claimFree claims every partition not held here whose claim is older than
// staleAfter (or that nobody holds).
func (c *partitionClaims) claimFree(ctx context.Context, staleAfter time.Duration) error {
	for p := 0; p < c.store.Partitions(); p++ {
		if _, ok := c.held[p]; ok {
			continue
		}
		claim, err := c.store.Ownership().ClaimPartition(ctx, p, c.node, staleAfter)
		if errors.Is(err, storage.ErrClaimed) {
			continue
		}
		if err != nil {
			return err
		}
		c.held[p] = claim
		c.log.Info("claimed partition", "partition", p, "epoch", claim.Epoch)
	}
	return nil
}

// renew renews the held claims; one lost to another node is dropped.
func (c *partitionClaims) renew(ctx context.Context) {
	for _, p := range c.partitions() {
		err := c.store.Ownership().RenewPartition(ctx, c.held[p])
		switch {
		case errors.Is(err, storage.ErrFenced):
			delete(c.held, p)
			c.log.Warn("partition claim lost to another node", "partition", p, "error", err)
		case err != nil:
			c.log.Error("renewing partition claim", "partition", p, "error", err)
		}
	}
}

// epochs returns the held partitions with their epochs: what the engine
// may write.
func (c *partitionClaims) epochs() map[int]uint64 {
	out := make(map[int]uint64, len(c.held))
	for p, claim := range c.held {
		out[p] = claim.Epoch
	}
	return out
}

// engineHealth tells the claims loop when the engine must start again
// although the claims did not change.
type engineHealth interface {
	// failed is closed when a partition of the current engine stopped.
	failed() <-chan struct{}
	// degraded says the last start failed and runs without partitions.
	degraded() bool
}

// Restarts after failed commits are spaced: the first is at once, one of an
// engine that failed again soon after starting waits twice as long as the
// last, up to maxRestartDelay. A storage that refuses every commit while a
// partition has work (its inbox, a timer) would otherwise have the node
// reload every partition's state in a tight loop.
const (
	minRestartDelay = 100 * time.Millisecond
	maxRestartDelay = 5 * time.Second
)

// run renews and takes over claims until ctx ends, calling changed (from
// its goroutine) with the new epochs whenever the held claims change, and
// also when the engine lost a partition to a failed commit or could not
// start: a new engine loads the partitions' state from storage again.
func (c *partitionClaims) run(ctx context.Context, health engineHealth, changed func(map[int]uint64)) {
	ticker := time.NewTicker(c.timeout / 3)
	defer ticker.Stop()
	failed := health.failed()
	var (
		restart <-chan time.Time // a delayed restart after a failure
		delay   time.Duration    // of the next restart after a failure
		started = time.Now()     // the current engine
	)
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			force = health.degraded()
		case <-failed:
			// Until the restart, the engine's other partitions serve on.
			failed = nil
			if time.Since(started) >= maxRestartDelay {
				delay = 0
			}
			c.log.Error("a partition stopped on a failed commit: starting the engine again", "after", delay)
			if delay > 0 {
				restart = time.After(delay)
				delay = min(2*delay, maxRestartDelay)
				continue
			}
			delay, force = minRestartDelay, true
		case <-restart:
			force = true
		}
		before := c.epochs()
		c.renew(ctx)
		if err := c.claimFree(ctx, c.timeout); err != nil && ctx.Err() == nil {
			c.log.Error("claiming partitions", "error", err)
		}
		if after := c.epochs(); (force || !maps.Equal(before, after)) && ctx.Err() == nil {
			changed(after)
			failed, restart, started = health.failed(), nil, time.Now()
		}
	}
}

// release hands the partitions back on a clean stop, so that another node
// need not wait for the timeout.
func (c *partitionClaims) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, p := range c.partitions() {
		if err := c.store.Ownership().ReleasePartition(ctx, c.held[p]); err != nil {
			c.log.Warn("releasing partition claim", "partition", p, "error", err)
		}
	}
}
