package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"time"

	"eddy/api/zeebe"
	"eddy/internal/members"
	"eddy/storage"
)

// partitionClaims keeps this node's partition claims: a node writes a
// partition only while it holds the claim. It renews its claims well inside
// the timeout and, on each round, shares the partitions out among the live
// nodes: the nodes see each other through a group in the token store
// (members), and each round plans which node each partition belongs to,
// evenly and moving as few as it can (sharePartitions). A node gives up a
// partition the plan gives another node, once its engine no longer writes
// it, and takes every partition the plan gives it that is free or whose
// holder stopped renewing: a node that joins gets its share, and a dead
// node's partitions move to the survivors.
type partitionClaims struct {
	store   *storage.Store
	node    string
	timeout time.Duration
	log     *slog.Logger
	held    map[int]storage.PartitionClaim
	nodes   *members.Group
	// alone is set on an embedded store, which one process opens: a slot
	// found there is a crashed run's, not another node's.
	alone bool
	// sharedWith is the number of live nodes of the last round, to log a
	// change; view names them.
	sharedWith int
	view       []string
	// warnedTimeout names the nodes whose other claim timeout was told.
	warnedTimeout map[string]bool
	// nudged asks the claims loop for a round now (nudge).
	nudged chan struct{}
	// mark is what this node publishes of its cluster secret
	// (cluster.SecretMark); warnedMark names the nodes found with another.
	mark       uint64
	warnedMark map[string]bool
	// grpcPort is the port of this node's gRPC gateway (0 for none),
	// published for the other nodes' topology (topologyNodes).
	grpcPort int
}

// nudge asks for a round soon: a request found a partition without an
// owner, which may be this node's to take.
func (c *partitionClaims) nudge() {
	select {
	case c.nudged <- struct{}{}:
	default:
	}
}

// nudgeGap spaces the rounds that nudges bring, so that a stream of
// requests for an unowned partition does not run rounds back to back.
const nudgeGap = 100 * time.Millisecond

// partitionGroup names the group of the nodes that share the partitions.
const partitionGroup = "eddy/partitions#nodes"

func newPartitionClaims(s *storage.Store, node string, timeout time.Duration, log *slog.Logger) *partitionClaims {
	return &partitionClaims{store: s, node: node, timeout: timeout, log: log, held: map[int]storage.PartitionClaim{},
		nodes: members.New(s.Tokens(), partitionGroup, node, timeout), nudged: make(chan struct{}, 1), warnedTimeout: map[string]bool{},
		warnedMark: map[string]bool{}}
}

// checkSecret refuses to start beside a live node whose cluster secret is
// not this one's (by their marks): the two would refuse each other's
// forwarded requests, and half of what clients send would fail. Nodes of
// an earlier Eddy publish no mark and are not judged. It looks after this
// node's first beat, so that of two nodes started at once with other
// secrets the later to look refuses (both may, if they look at once);
// a node that refuses leaves its slot.
func (c *partitionClaims) checkSecret(ctx context.Context) error {
	if c.alone {
		return nil
	}
	now := time.Now()
	if err := c.nodes.BeatMarked(ctx, now, int(c.timeout.Milliseconds()), c.mark, uint64(c.grpcPort)); err != nil {
		return err
	}
	view, err := c.nodes.Look(ctx, now)
	if err != nil {
		return err
	}
	for _, node := range view.Nodes {
		if mark, ok := view.Marks[node]; ok && mark != c.mark {
			c.nodes.Leave(ctx)
			return fmt.Errorf("node %s of this cluster uses another --cluster-secret (%s): give every node the same; to change it, stop them all (a node that was killed counts as live for --claim-timeout)", node, secretSays(mark, c.mark))
		}
	}
	return nil
}

// secretSays words how a node's secret differs from this one's.
func secretSays(theirs, ours uint64) string {
	switch {
	case theirs == 0:
		return "it has none, this node has one"
	case ours == 0:
		return "it has one, this node has none"
	}
	return "both have one, not the same"
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

// look beats this node's slot and reads the live nodes, in order. On an
// error it logs, and the node acts as if alone: it then takes whatever is
// free or stale, as a node did before nodes saw each other, so a store that
// fails these reads does not leave partitions unwritten.
func (c *partitionClaims) look(ctx context.Context) []string {
	if c.alone {
		c.view = []string{c.node}
		return c.view
	}
	now := time.Now()
	err := c.nodes.BeatMarked(ctx, now, int(c.timeout.Milliseconds()), c.mark, uint64(c.grpcPort))
	var view members.View
	if err == nil {
		view, err = c.nodes.Look(ctx, now)
	}
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("reading the nodes that share the partitions", "error", err)
		}
		c.view = []string{c.node}
		return c.view
	}
	if view.Live != c.sharedWith && c.sharedWith != 0 {
		c.log.Info("the nodes that share the partitions changed", "nodes", view.Live, "before", c.sharedWith)
	}
	for node, mark := range view.Marks {
		if mark != c.mark && !c.warnedMark[node] {
			c.warnedMark[node] = true
			c.log.Warn("another node uses another --cluster-secret: the two refuse each other's forwarded requests; give every node the same",
				"node", node, "how", secretSays(mark, c.mark))
		}
	}
	for node, ms := range view.Published {
		if ms != uint64(c.timeout.Milliseconds()) && !c.warnedTimeout[node] {
			c.warnedTimeout[node] = true
			c.log.Warn("another node uses another --claim-timeout: every node must use the same, or the nodes take each other's partitions in turn",
				"node", node, "its_claim_timeout", time.Duration(ms)*time.Millisecond, "claim_timeout", c.timeout)
		}
	}
	c.sharedWith = view.Live
	c.view = view.Nodes
	return view.Nodes
}

// plan reads the partitions' holders and shares the partitions out among
// nodes (sharePartitions): plan[p] names the node partition p belongs to.
// A failed read plans nothing: the round then neither gives nor takes.
func (c *partitionClaims) plan(ctx context.Context, nodes []string) []string {
	holders := make([]string, c.store.Partitions())
	claims, err := c.store.Ownership().PartitionClaims(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Error("reading the partitions' holders", "error", err)
		}
		return nil
	}
	for _, claim := range claims {
		if claim.Partition >= 0 && claim.Partition < len(holders) {
			holders[claim.Partition] = claim.Owner
		}
	}
	return sharePartitions(len(holders), nodes, holders)
}

// claimFree claims every partition not held here that plan gives this node
// and whose claim is older than staleAfter (or that nobody holds).
func (c *partitionClaims) claimFree(ctx context.Context, staleAfter time.Duration, plan []string) error {
	for p := range plan {
		if _, ok := c.held[p]; ok || plan[p] != c.node {
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

// others drops the held partitions that plan gives other nodes, and
// returns their claims: the engine must stop writing them before they are
// released.
func (c *partitionClaims) others(plan []string) []storage.PartitionClaim {
	var out []storage.PartitionClaim
	for _, p := range c.partitions() {
		if p < len(plan) && plan[p] != c.node {
			out = append(out, c.held[p])
			delete(c.held, p)
		}
	}
	return out
}

// keep takes claims back into held.
func (c *partitionClaims) keep(claims []storage.PartitionClaim) {
	for _, claim := range claims {
		c.held[claim.Partition] = claim
	}
}

// handOverPoll spaces the rounds of a node waiting for a partition that
// belongs to it.
const handOverPoll = 200 * time.Millisecond

// awaiting says whether a partition that plan gives this node is not held
// here.
func (c *partitionClaims) awaiting(plan []string) bool {
	for p := range plan {
		if _, ok := c.held[p]; !ok && plan[p] == c.node {
			return true
		}
	}
	return false
}

// handOver releases the claims others took from held, for the nodes they
// belong to.
func (c *partitionClaims) handOver(ctx context.Context, given []storage.PartitionClaim) {
	for _, claim := range given {
		if err := c.store.Ownership().ReleasePartition(ctx, claim); err != nil {
			c.log.Warn("handing a partition over", "partition", claim.Partition, "error", err)
			continue
		}
		c.log.Info("handed a partition over to another node", "partition", claim.Partition)
	}
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
	failed := health.failed()
	var (
		restart <-chan time.Time // a delayed restart after a failure
		delay   time.Duration    // of the next restart after a failure
		started = time.Now()     // the current engine
		// since when this node waits for a partition of its own
		awaiting  time.Time
		lastRound time.Time
	)
	// nextRound is when the next round is due. A partition of this node's
	// that another still holds is being handed over (or its holder is
	// dying): it is asked for again soon, so that it is unwritten for as
	// short a time as may be, for a while; a wait that lasts (a holder
	// that does not see this node) goes on at the usual pace.
	nextRound := func(plan []string) time.Duration {
		if !c.awaiting(plan) {
			awaiting = time.Time{}
			return c.timeout / 3
		}
		if awaiting.IsZero() {
			awaiting = time.Now()
		}
		if time.Since(awaiting) > 2*c.timeout {
			return c.timeout / 3
		}
		return min(c.timeout/3, handOverPoll)
	}
	round := time.NewTimer(nextRound(c.plan(ctx, c.view)))
	defer round.Stop()
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-round.C:
			force = health.degraded()
		case <-c.nudged:
			if time.Since(lastRound) < nudgeGap {
				continue
			}
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
		lastRound = time.Now()
		before := c.epochs()
		c.renew(ctx)
		plan := c.plan(ctx, c.look(ctx))
		if given := c.others(plan); len(given) > 0 {
			if ctx.Err() != nil {
				c.keep(given) // for release at the stop
				return
			}
			// The engine stops writing them first: released while it
			// wrote, they would fail its commits.
			before = c.epochs()
			changed(before)
			failed, restart, started, force = health.failed(), nil, time.Now(), false
			c.handOver(ctx, given)
		}
		if err := c.claimFree(ctx, c.timeout, plan); err != nil && ctx.Err() == nil {
			c.log.Error("claiming partitions", "error", err)
		}
		if after := c.epochs(); (force || !maps.Equal(before, after)) && ctx.Err() == nil {
			changed(after)
			failed, restart, started = health.failed(), nil, time.Now()
		}
		round.Reset(nextRound(plan))
	}
}

// release hands the partitions back on a clean stop, and leaves the nodes
// that share them, so that the others need not wait for the timeout.
func (c *partitionClaims) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Gone from the group first: a node that sees the partitions free
	// then plans them for itself, not for this one.
	c.nodes.Leave(ctx)
	for _, p := range c.partitions() {
		if err := c.store.Ownership().ReleasePartition(ctx, c.held[p]); err != nil {
			c.log.Warn("releasing partition claim", "partition", p, "error", err)
		}
	}
	c.held = map[int]storage.PartitionClaim{}
}

// otherLiveNodes says whether a live node other than node shares the store
// s: a node that was killed counts until its slot's claim is timeout old,
// and one that has started beats before its broker loads a trigger.
func otherLiveNodes(ctx context.Context, s *storage.Store, node string, timeout time.Duration) (bool, error) {
	live, err := members.Live(ctx, s.Tokens(), partitionGroup, timeout, time.Now())
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(live, func(n string) bool { return n != node }), nil
}

// topologyNodes are the live nodes as the Zeebe topology shows them: a
// node's id is its slot in the group, which it keeps while it lives (and
// across a restart within the claim timeout), and its address is the host
// of its claims' name with the gRPC port it published.
func topologyNodes(ctx context.Context, s *storage.Store, timeout time.Duration) ([]zeebe.Node, error) {
	live, err := members.LiveMembers(ctx, s.Tokens(), partitionGroup, timeout, time.Now())
	if err != nil {
		return nil, err
	}
	nodes := make([]zeebe.Node, 0, len(live))
	for _, m := range live {
		n := zeebe.Node{Name: m.Name, ID: int32(m.Slot)}
		if len(m.Extra) > 0 && m.Extra[0] <= 65535 {
			n.Port = int32(m.Extra[0])
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}
