package processor

import (
	"context"
	"errors"
	"fmt"

	"eddy/storage"
)

// refreshEpoch reads the state partition's ownership epoch, which every
// commit must carry, keeps it and returns it.
func (p *Processor) refreshEpoch(ctx context.Context) (uint64, error) {
	claims, err := p.store.Ownership().PartitionClaims(ctx)
	if err != nil {
		return 0, fmt.Errorf("processor %s: reading partition claims: %w", p.name, err)
	}
	for _, c := range claims {
		if c.Partition == p.o.statePartition {
			p.epoch.Store(c.Epoch)
			return c.Epoch, nil
		}
	}
	return p.epoch.Load(), nil
}

// commit makes tx's writes and the token writes durable in one batch. A
// batch refused because the state partition changed owner wrote nothing and
// is committed again under the new epoch; a refusal under the epoch the
// batch carried means a claim was lost. The batch's own epoch is what
// counts: the work packages of a processor commit side by side, and the
// first of them to be refused after a change of owner reads the new epoch
// for all the others.
func (p *Processor) commit(ctx context.Context, tx *Tx, tokens ...storage.TokenWrite) error {
	for attempt := 1; ; attempt++ {
		epoch := p.epoch.Load()
		b := storage.NewBatch(p.o.statePartition, epoch)
		tx.fill(b)
		for _, t := range tokens {
			b.SaveToken(t.Claim, t.Token)
		}
		_, err := p.store.Commit(ctx, b)
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrFenced) {
			return fmt.Errorf("processor %s: committing: %w", p.name, err)
		}
		if p.fencedHook != nil {
			p.fencedHook()
		}
		current, rerr := p.refreshEpoch(ctx)
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		if current == epoch {
			return fmt.Errorf("%w: processor %s: %w", ErrClaimLost, p.name, err)
		}
		if attempt == 3 { // the owner keeps changing
			return fmt.Errorf("processor %s: committing: %w", p.name, err)
		}
	}
}

// commit makes everything handled so far durable and waits for it.
func (wp *workPackage) commit(ctx context.Context) error {
	if err := wp.startCommit(ctx); err != nil {
		return err
	}
	return wp.awaitCommit()
}

// inflight is a batch being committed while the work package goes on with
// the next one: the sync of one batch overlaps the handling of the next.
type inflight struct {
	done    chan error
	handled bool // the batch handled events (not only moved the position)
	ended   bool // the result was taken from done into err
	err     error
}

// finished reports, without waiting, whether the commit has ended.
func (c *inflight) finished() bool {
	if c.ended {
		return true
	}
	select {
	case c.err = <-c.done:
		c.ended = true
		return true
	default:
		return false
	}
}

// maxBatchGrowth bounds how far a batch grows past the batch size while the
// previous batch is still committing.
const maxBatchGrowth = 8

// startCommit commits the batch in the background: the handlers' writes and
// the segment's token, atomically, under the segment's claim. One batch at
// a time is in flight, so that tokens land in order; the next batch's Tx
// reads see the writes in flight.
func (wp *workPackage) startCommit(ctx context.Context) error {
	if err := wp.awaitCommit(); err != nil {
		return err
	}
	if !wp.dirty {
		return nil
	}
	batch := Tx{writes: wp.tx.writes}
	wp.tx.writes, wp.tx.inflight = nil, batch.writes
	token := storage.TokenWrite{Claim: wp.claim, Token: wp.prog.encode()}
	c := &inflight{done: make(chan error, 1), handled: wp.pending > 0}
	go func() { c.done <- wp.p.commit(ctx, &batch, token) }()
	wp.committing = c
	wp.pending, wp.dirty = 0, false
	return nil
}

// commitDue reports whether a full batch should commit now: not while the
// previous one is still syncing, unless it has grown too large. Under load,
// batches so grow to what one sync takes to handle: the work package's own
// group commit.
func (wp *workPackage) commitDue() bool {
	c := wp.committing
	return c == nil || c.finished() || wp.pending >= maxBatchGrowth*wp.p.o.batchSize
}

// awaitCommit waits for the batch in flight, if any.
func (wp *workPackage) awaitCommit() error {
	c := wp.committing
	if c == nil {
		return nil
	}
	if !c.ended {
		c.err, c.ended = <-c.done, true
	}
	err := c.err
	wp.committing, wp.tx.inflight = nil, nil
	if err != nil {
		return err
	}
	if c.handled {
		wp.succeeded.Store(true)
	}
	wp.lastCommit.Store(wp.p.o.clock.Now().UnixNano())
	return nil
}
