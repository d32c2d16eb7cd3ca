package processor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"eddy/storage"
)

// release commits and stops segment id's work package, gives up its claim
// and keeps from claiming it again for d.
func (p *Processor) release(ctx context.Context, id int, d time.Duration) error {
	wp := p.wps[id]
	if wp == nil {
		return fmt.Errorf("%w: processor %s segment %d", ErrNotClaimed, p.name, id)
	}
	p.stopFeeding(id)
	err := wp.stop(ctx)
	p.remove(id)
	p.resumeFeeding()
	p.noReclaim[id] = p.o.clock.Now().Add(d)
	if err != nil {
		wp.cancel() // a stop that did not finish: its handler is cut short
		return err
	}
	return p.releaseClaim(ctx, wp.claim)
}

func (p *Processor) releaseClaim(ctx context.Context, c storage.Claim) error {
	err := p.tokens.ReleaseClaim(ctx, c)
	if errors.Is(err, storage.ErrFenced) || errors.Is(err, storage.ErrNotFound) {
		return nil // not ours any more: nothing to give up
	}
	return err
}

// reap handles work packages that ended on their own: a handler failure
// (retried after a back-off), a lost claim, a failed commit.
func (p *Processor) reap(ctx context.Context, now time.Time) {
	for _, id := range p.claimedIDs() {
		wp := p.wps[id]
		if wp.succeeded.Load() {
			p.mu.Lock()
			delete(p.failures, id)
			p.mu.Unlock()
			delete(p.backoff, id)
		}
		if !wp.exited() && !wp.abandoned() {
			continue
		}
		// An abandoned work package is forgotten at once, though a handler
		// that ignores cancellation may keep its goroutine a while.
		err := wp.exitErr()
		p.remove(id)
		if err == nil {
			continue
		}
		p.recordFailure(id, err)
		if errors.Is(err, ErrClaimLost) {
			if errors.Is(err, storage.ErrNotFound) {
				// Its token is gone: the processor was deleted (or the
				// segment split or merged) on another node, on purpose.
				p.o.logger.Info("processor: segment gone", "processor", p.name, "segment", id, "error", err)
				continue
			}
			p.o.logger.Warn("processor: claim lost", "processor", p.name, "segment", id, "error", err)
			continue
		}
		wait := p.o.claimInterval
		if p.o.mode == Tracking {
			// Axon's tracking back-off: 1 s, doubling to 60 s, while the
			// claim is free for another node to try.
			wait = max(p.backoff[id], p.o.retryMin)
			p.backoff[id] = min(2*wait, p.o.retryMax)
		}
		p.noReclaim[id] = now.Add(wait)
		p.o.logger.Warn("processor: segment failed; retrying later", "processor", p.name, "segment", id, "error", err, "retry_in", wait)
		if rerr := p.releaseClaim(ctx, wp.claim); rerr != nil && ctx.Err() == nil {
			p.o.logger.Warn("processor: releasing a failed segment", "processor", p.name, "segment", id, "error", rerr)
		}
	}
}

func (p *Processor) recordFailure(id int, err error) {
	p.mu.Lock()
	p.failures[id] = err
	p.mu.Unlock()
}

// extendClaims renews the claims of work packages that have not committed
// for the extension threshold, unless they are stuck in a handler (one that
// delivered nothing since the last extension and is past the time it said
// it would return by); a claim found lost ends its work package.
func (p *Processor) extendClaims(ctx context.Context, now time.Time) {
	var stored map[int]storage.Segment // read once, if a stuck one needs it
	for _, id := range p.claimedIDs() {
		wp := p.wps[id]
		idle := time.Duration(now.UnixNano() - wp.lastCommit.Load())
		if idle < p.o.extensionThreshold {
			continue
		}
		delivered := wp.delivered.Load()
		if wp.busy.Load() && delivered == wp.extendedAt && now.UnixNano() >= wp.aliveUntil.Load() {
			// Stuck: let the claim lapse so that another node can take
			// the segment, and once one has, give the work package up.
			if idle >= p.o.claimTimeout {
				if stored == nil {
					stored = p.storedSegments(ctx)
				}
				if s, ok := stored[id]; ok && s.Claim() != wp.claim {
					p.abandon(wp, fmt.Errorf("segment taken by %q at epoch %d while a handler was stuck", s.Owner, s.Epoch))
				}
			}
			continue
		}
		wp.extendedAt = delivered
		err := p.tokens.ExtendClaim(ctx, wp.claim)
		switch {
		case err == nil:
			wp.lastCommit.Store(now.UnixNano())
			wp.flushPosition()
		case errors.Is(err, storage.ErrFenced) || errors.Is(err, storage.ErrNotFound):
			p.abandon(wp, err)
		default:
			if ctx.Err() == nil {
				p.o.logger.Warn("processor: extending a claim failed", "processor", p.name, "segment", id, "error", err)
			}
		}
	}
}

// flushPosition has the work package commit its position if it moved
// since its last commit: past events of other segments, which commit no
// batch of their own. Otherwise a segment that went quiet after such a
// stretch kept its old position in the store for good, and the status read
// on other nodes showed it lagging. It does not wait: a work package in a
// chunk (whose queue may be full of chunks read ahead) commits at its next
// event instead (flushWanted).
func (wp *workPackage) flushPosition() {
	wp.flushWanted.Store(true) // a busy one commits at its next event
	if !wp.flushQueued.CompareAndSwap(false, true) {
		return
	}
	fn := func(ctx context.Context) error {
		wp.flushQueued.Store(false)
		wp.flushWanted.Store(false)
		return wp.commit(ctx)
	}
	select {
	case wp.in <- wpMsg{call: &wpCall{fn: fn, fatal: true, reply: make(chan error, 1)}}:
	default:
		wp.flushQueued.Store(false)
	}
}

// abandon ends a work package whose claim is lost: it can commit nothing
// more, and its handler's context is cancelled.
func (p *Processor) abandon(wp *workPackage, cause error) {
	wp.setErr(fmt.Errorf("%w: processor %s segment %d: %w", ErrClaimLost, p.name, wp.id(), cause))
	wp.cancel()
	p.poke()
}

func (p *Processor) storedSegments(ctx context.Context) map[int]storage.Segment {
	segs, err := p.tokens.Segments(ctx, p.name)
	if err != nil {
		return map[int]storage.Segment{}
	}
	m := make(map[int]storage.Segment, len(segs))
	for _, s := range segs {
		m[s.ID] = s
	}
	return m
}
