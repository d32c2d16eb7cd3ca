package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"eddy/record"
)

// A deployment is made on one partition, which writes it to every other
// partition's inbox in its log; each partition stores it when its owner
// reads that. A deploy answers only once every partition of the cluster
// holds it, so that an instance created right after, through any node, finds
// its process on whatever partition it lands. The wait is bounded: a
// partition without a live owner (a node died and nobody took its
// partitions yet) gets the deployment from the log once a node takes it,
// and meanwhile the deploy answers success with the distribution pending,
// as Zeebe's distribution completes eventually too.

// distributionWait is how long a deploy waits for the other partitions when
// its request has no deadline.
const distributionWait = 10 * time.Second

// maxServedWait bounds one wait a peer asks for: a forwarded request must
// not hold the owner's handler for long. The asking node asks again.
const maxServedWait = 30 * time.Second

// Polling a partition for the definitions starts fast (they usually arrive
// within milliseconds) and slows down while a partition lags.
const (
	firstPoll = time.Millisecond
	maxPoll   = 20 * time.Millisecond
	// maxRetryPause spaces the questions to a partition's owner that
	// failed (no owner, or one that cannot be reached).
	maxRetryPause = 200 * time.Millisecond
)

// awaitDistribution waits until every partition other than the one that
// made deployment dep holds its process definitions: this node's
// partitions are looked at directly, the others asked through the peers.
// It ends at the request's deadline, less a margin to answer in time, or
// after distributionWait without one; the partitions still lacking the
// deployment then are logged.
func (e *Engine) awaitDistribution(ctx context.Context, dep record.Record) {
	keys := definitionKeys(dep)
	if len(keys) == 0 {
		return
	}
	pending := e.awaitOthers(ctx, record.PartitionOf(dep.Key), true, func(ctx context.Context, p int) bool {
		return e.awaitPartition(ctx, p, keys)
	})
	if len(pending) > 0 && ctx.Err() == nil {
		e.log.Warn("deploy answered before every partition had the deployment: they get it from the log once they have a live owner",
			"deployment", dep.Key, "pending_partitions", pending)
	}
}

// awaitOthers runs await for every partition but from, this node's and,
// with remote, those of nodes it has peers to ask, side by side until the
// distribution deadline, and returns those for which it reported false,
// in order.
func (e *Engine) awaitOthers(ctx context.Context, from int, remote bool, await func(ctx context.Context, p int) bool) []int {
	if e.store.Partitions() < 2 {
		return nil
	}
	wctx, cancel := context.WithDeadline(ctx, distributionDeadline(ctx, time.Now()))
	defer cancel()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		pending []int
	)
	for p := range e.store.Partitions() {
		_, local := e.parts[p]
		if p == from || !local && (!remote || e.peers == nil) {
			continue
		}
		wg.Go(func() {
			if !await(wctx, p) {
				mu.Lock()
				pending = append(pending, p)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(pending)
	return pending
}

// definitionKeys lists the process definitions of a deployment, including
// the unchanged ones (Duplicate): their earlier distribution may still be
// under way.
func definitionKeys(dep record.Record) []int64 {
	keys := make([]int64, 0, len(dep.Value.Processes))
	for _, m := range dep.Value.Processes {
		keys = append(keys, m.ProcessDefinitionKey)
	}
	return keys
}

// distributionDeadline is when a deploy stops waiting for the distribution.
func distributionDeadline(ctx context.Context, now time.Time) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return now.Add(distributionWait)
	}
	// A success that reaches the client after its deadline is a failure
	// to it: keep a tenth of the time left, at most a second, to answer.
	return d.Add(-min(max(d.Sub(now), 0)/10, time.Second))
}

// awaitPartition waits until partition p holds every definition of keys,
// and reports whether it does before ctx, which has a deadline, ends. A remote partition's owner
// is asked again after a failure: there may be none at the moment, or a
// new one.
func (e *Engine) awaitPartition(ctx context.Context, p int, keys []int64) bool {
	if _, local := e.parts[p]; local {
		held, _ := e.awaitLocalDefinitions(ctx, p, keys)
		return held
	}
	pause := firstPoll
	for {
		// The owner waits on its side, answering before ctx ends.
		d, _ := ctx.Deadline()
		held, err := e.peers.AwaitDefinitions(ctx, p, keys, time.Until(d)*9/10)
		switch {
		case err == nil && held:
			return true
		case errors.Is(err, errors.ErrUnsupported):
			return false // an owner of an older version cannot tell
		case err == nil:
			pause = firstPoll // the owner waited already: ask again at once
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(pause):
		}
		pause = min(2*pause, maxRetryPause)
	}
}

// awaitLocalDefinitions polls local partition p until it holds every
// definition of keys. It reports false without an error when ctx ends
// first.
func (e *Engine) awaitLocalDefinitions(ctx context.Context, p int, keys []int64) (bool, error) {
	return e.awaitLocal(ctx, p, func(c *Core) bool {
		// A deleted definition's tombstone counts: it was there.
		for _, k := range keys {
			if c.st.definitions.get(k) == nil {
				return false
			}
		}
		return true
	})
}

// awaitLocal polls local partition p until done holds there. It reports
// false without an error when ctx ends first.
func (e *Engine) awaitLocal(ctx context.Context, p int, done func(*Core) bool) (bool, error) {
	pause := firstPoll
	for {
		held := false
		err := e.query(ctx, p, func(c *Core) { held = done(c) })
		if ctx.Err() != nil {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if held {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(pause):
		}
		pause = min(2*pause, maxPoll)
	}
}

// awaitDeletion waits, as a deploy does for its distribution, until this
// node's other partitions have deleted definition key too, so that an
// instance created right after a deletion acknowledged through this node
// is refused on whatever partition it lands. Partitions of other nodes
// delete it as they read it from their inbox: the peers cannot be asked
// about a deletion yet.
func (e *Engine) awaitDeletion(ctx context.Context, key int64) {
	e.awaitOthers(ctx, record.PartitionOf(key), false, func(ctx context.Context, p int) bool {
		held, _ := e.awaitLocal(ctx, p, func(c *Core) bool {
			// A partition that never had the definition has nothing to
			// delete.
			d := c.st.definitions.get(key)
			return d == nil || d.Version < 0
		})
		return held
	})
}
