package processor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"eddy/storage"
)

// supervise is the processor's control loop (Axon's coordinator, less the
// stream): every claim interval it heartbeats, claims its fair share of
// segments and releases what is beyond it; every tick it extends idle
// claims; between ticks it serves API requests and reaps work packages that
// ended. It alone changes the set of work packages and feeders.
func (p *Processor) supervise(ctx context.Context, done chan struct{}) {
	defer close(done)
	defer p.shutdown()
	tick := min(p.o.claimInterval, p.o.extensionThreshold/2)
	p.nextClaim = time.Time{}
	for {
		now := p.o.clock.Now()
		p.reap(ctx, now)
		if !now.Before(p.nextClaim) {
			if err := p.balance(ctx, now); err != nil && ctx.Err() == nil {
				p.o.logger.Warn("processor: claim round failed", "processor", p.name, "error", err)
			}
			p.nextClaim = now.Add(p.o.claimInterval)
		}
		p.extendClaims(ctx, now)
		select {
		case <-ctx.Done():
			return
		case r := <-p.requests:
			r.done <- r.fn(ctx)
		case <-p.wake:
		case <-p.o.clock.After(tick):
		}
	}
}

// balance runs one claim round. A node aims at its fair share of the
// segments, ceil(segments/live nodes), within its own limit: it gives
// segments beyond that up only as far as other nodes want them, and claims
// beyond it only segments that no other node wants.
func (p *Processor) balance(ctx context.Context, now time.Time) error {
	others, err := p.members.Look(ctx, now)
	if err != nil {
		return err
	}
	segs, err := p.tokens.Segments(ctx, p.name)
	if err != nil {
		return fmt.Errorf("processor %s: reading segments: %w", p.name, err)
	}
	target := min(fairShare(len(segs), others.Live), p.o.segmentLimit())
	if excess := min(len(p.wps)-target, others.Wanted); excess > 0 {
		// Give the highest segments back, for a while, so that the nodes
		// that want them can take them.
		ids := p.claimedIDs()
		for _, id := range ids[len(ids)-excess:] {
			if err := p.release(ctx, id, 2*p.o.claimInterval); err != nil {
				p.o.logger.Warn("processor: releasing a segment beyond the fair share failed", "processor", p.name, "segment", id, "error", err)
			}
		}
	}
	limit := target
	if others.Wanted == 0 {
		limit = p.o.segmentLimit()
	}
	var added []*workPackage
	for _, s := range segs {
		if len(p.wps)+len(added) >= limit {
			break
		}
		if _, mine := p.wps[s.ID]; mine || now.Before(p.noReclaim[s.ID]) {
			continue
		}
		if !storage.Claimable(s.Owner, s.ClaimedAt, p.o.node, now, p.o.claimTimeout) {
			continue
		}
		wp, err := p.claim(ctx, s.ID)
		if err != nil {
			if !errors.Is(err, storage.ErrClaimed) && !errors.Is(err, storage.ErrNotFound) {
				p.o.logger.Warn("processor: claiming a segment failed", "processor", p.name, "segment", s.ID, "error", err)
			}
			continue
		}
		added = append(added, wp)
	}
	p.adopt(added...)
	return p.members.Beat(ctx, now, target-len(p.wps))
}

// fairShare is how many of segments one of nodes live nodes should hold.
func fairShare(segments, nodes int) int {
	if nodes < 1 {
		nodes = 1
	}
	return (segments + nodes - 1) / nodes
}

// claim claims segment id and makes a work package for it, not yet fed.
func (p *Processor) claim(ctx context.Context, id int) (*workPackage, error) {
	seg, err := p.tokens.ClaimSegment(ctx, p.name, id, p.o.node, p.o.claimTimeout)
	if err != nil {
		return nil, err
	}
	prog, err := decodeProgress(seg.Token)
	if err != nil {
		p.recordFailure(id, fmt.Errorf("processor %s segment %d: %w", p.name, id, err))
		p.releaseClaim(ctx, seg.Claim())
		p.noReclaim[id] = p.o.clock.Now().Add(p.o.claimInterval)
		return nil, err
	}
	if p.deadLetters != nil {
		// Another node may have dead-lettered sequences of this segment.
		if err := p.deadLetters.q.Refresh(ctx); err != nil {
			p.releaseClaim(ctx, seg.Claim())
			return nil, err
		}
	}
	return p.newWorkPackage(seg, prog), nil
}

// adopt adds work packages and starts feeding them: a Pooled processor
// reopens its one stream at the lowest position of all; a Tracking one opens
// a stream for each.
func (p *Processor) adopt(wps ...*workPackage) {
	if len(wps) == 0 {
		return
	}
	p.mu.Lock()
	for _, wp := range wps {
		p.wps[wp.id()] = wp
	}
	p.mu.Unlock()
	if p.o.mode == Tracking {
		for _, wp := range wps {
			f := p.startFeeder([]*workPackage{wp})
			p.mu.Lock()
			p.tracking[wp.id()] = f
			p.mu.Unlock()
		}
		return
	}
	p.restartPooledFeeder()
}

func (p *Processor) restartPooledFeeder() {
	if p.pooled != nil {
		p.pooled.stop()
	}
	var live []*workPackage
	for _, id := range p.claimedIDs() {
		if wp := p.wps[id]; !wp.exited() && !wp.abandoned() {
			live = append(live, wp)
		}
	}
	var f *feeder
	if len(live) > 0 {
		f = p.startFeeder(live)
	}
	p.mu.Lock()
	p.pooled = f
	p.mu.Unlock()
}

// stopFeeding stops the stream that feeds segment id: its own (Tracking) or
// the coordinator's (Pooled, which the caller restarts).
func (p *Processor) stopFeeding(id int) {
	if p.o.mode == Tracking {
		if f := p.tracking[id]; f != nil {
			f.stop()
			p.mu.Lock()
			delete(p.tracking, id)
			p.mu.Unlock()
		}
		return
	}
	if p.pooled != nil {
		p.pooled.stop()
		p.mu.Lock()
		p.pooled = nil
		p.mu.Unlock()
	}
}

// resumeFeeding restarts the coordinator's stream after stopFeeding
// (Pooled); Tracking work packages get theirs through adopt.
func (p *Processor) resumeFeeding() {
	if p.o.mode == Pooled {
		p.restartPooledFeeder()
	}
}

func (p *Processor) claimedIDs() []int {
	ids := make([]int, 0, len(p.wps))
	for id := range p.wps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// remove forgets a work package that has ended.
func (p *Processor) remove(id int) {
	if p.o.mode == Tracking {
		if f := p.tracking[id]; f != nil {
			f.stop()
		}
	}
	p.mu.Lock()
	delete(p.wps, id)
	delete(p.tracking, id)
	p.mu.Unlock()
}

// shutdown stops every stream and work package, committing their work and
// releasing their claims, then leaves the membership.
func (p *Processor) shutdown() {
	p.mu.Lock()
	stopCtx := p.stopCtx
	p.mu.Unlock()
	if stopCtx == nil {
		stopCtx = context.Background()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(stopCtx), p.o.claimTimeout)
	defer cancel()
	go func() {
		// A Stop whose context ends abandons the final commits.
		select {
		case <-stopCtx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	if p.pooled != nil {
		p.pooled.stop()
	}
	for _, f := range p.tracking {
		f.stop()
	}
	// Every work package finishes its event in hand at once, not one
	// after the other's.
	for _, id := range p.claimedIDs() {
		p.wps[id].drain()
	}
	for _, id := range p.claimedIDs() {
		wp := p.wps[id]
		if err := wp.stop(ctx); err != nil {
			wp.cancel()
			continue
		}
		if err := p.releaseClaim(ctx, wp.claim); err != nil {
			p.o.logger.Warn("processor: releasing a claim at stop", "processor", p.name, "segment", id, "error", err)
		}
	}
	p.members.Leave(ctx)
	p.mu.Lock()
	p.wps = map[int]*workPackage{}
	p.tracking = map[int]*feeder{}
	p.pooled = nil
	p.running = false
	p.mu.Unlock()
}
