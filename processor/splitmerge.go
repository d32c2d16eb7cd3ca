package processor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"eddy/storage"
)

// SplitSegment splits segment id in two while the processor runs, as Axon
// does: the segment keeps its id with mask (mask<<1)+1, and segment
// id+mask+1 is created at the same token, unclaimed, for this node or
// another to claim. The split happens at the segment's next event, after a
// commit, so that the new segment starts exactly where the old one stood and
// takes its share of what the old one had yet to handle. The segment must be
// claimed here or free to claim.
func (p *Processor) SplitSegment(ctx context.Context, id int) error {
	return p.do(ctx, func(ctx context.Context) error {
		wp, err := p.own(ctx, id)
		if err != nil {
			return err
		}
		err = wp.callSoon(ctx, func(wctx context.Context) error {
			if wp.prog.merging() {
				return fmt.Errorf("%w: processor %s segment %d", ErrMerging, p.name, id)
			}
			if err := wp.commit(wctx); err != nil {
				return err
			}
			sibling, err := p.tokens.SplitSegment(wctx, wp.claim)
			if err != nil {
				return fmt.Errorf("processor %s: splitting segment %d: %w", p.name, id, err)
			}
			wp.mask = sibling.Mask
			wp.publish()
			return nil
		})
		p.nextClaim = time.Time{} // claim the new segment at once
		return err
	})
}

// MergeSegment merges segment id with its sibling (storage.MergeSibling)
// while the processor runs. Both must be claimed here or free to claim. The
// merged segment keeps the lower id; where the two stood at different
// positions, it advances both until they meet, handling each event only
// for the half that has not seen it.
func (p *Processor) MergeSegment(ctx context.Context, id int) error {
	return p.do(ctx, func(ctx context.Context) error {
		p.reap(ctx, p.o.clock.Now())
		a, err := p.hold(ctx, id)
		if err != nil {
			return err
		}
		siblingID, _, ok := storage.MergeSibling(id, a.mask)
		if !ok {
			p.unhold(ctx, a)
			return fmt.Errorf("processor %s: segment %d covers the whole stream: there is nothing to merge it with", p.name, id)
		}
		b, err := p.hold(ctx, siblingID)
		if err != nil {
			p.unhold(ctx, a)
			return err
		}
		if err := p.mergeable(a, b); err != nil {
			p.unhold(ctx, a)
			p.unhold(ctx, b)
			return err
		}
		// Take both out of processing at a committed position.
		var errs []error
		for _, h := range []*held{&a, &b} {
			if h.wp == nil {
				continue
			}
			p.stopFeeding(h.wp.id())
			err := h.wp.stop(ctx)
			p.remove(h.wp.id())
			if err != nil {
				// Its goroutine may still run: it is cut short, and its
				// progress, which it may still be changing, is not read.
				h.wp.cancel()
				errs = append(errs, err)
				continue
			}
			h.prog = h.wp.prog
		}
		if err := errors.Join(errs...); err != nil {
			// Claims this node keeps are taken up again by the next claim
			// round, from their committed tokens.
			p.resumeFeeding()
			return fmt.Errorf("processor %s: merging segments %d and %d: %w", p.name, id, siblingID, err)
		}
		lo, hi := a, b
		if hi.claim.Segment < lo.claim.Segment {
			lo, hi = hi, lo
		}
		merged := progress{cursors: []cursor{lo.prog.cursors[0], hi.prog.cursors[0]}}
		merged.settle()
		seg, err := p.tokens.MergeSegments(ctx, a.claim, b.claim, merged.encode())
		if err != nil {
			p.resumeFeeding()
			return fmt.Errorf("processor %s: merging segments %d and %d: %w", p.name, id, siblingID, err)
		}
		p.adopt(p.newWorkPackage(seg, merged))
		return nil
	})
}

// held is a segment taken for a merge: this node's work package on it, or
// a claim taken for the merge alone, with its stored progress.
type held struct {
	claim storage.Claim
	mask  int
	prog  progress
	wp    *workPackage
}

// hold takes segment id for a merge without starting to process it.
func (p *Processor) hold(ctx context.Context, id int) (held, error) {
	if wp := p.wps[id]; wp != nil {
		s := wp.snapshot()
		return held{claim: wp.claim, mask: s.mask, wp: wp}, nil
	}
	seg, err := p.tokens.ClaimSegment(ctx, p.name, id, p.o.node, p.o.claimTimeout)
	if err != nil {
		if errors.Is(err, storage.ErrClaimed) {
			return held{}, fmt.Errorf("%w: processor %s segment %d: %v", ErrNotClaimed, p.name, id, err)
		}
		return held{}, fmt.Errorf("processor %s: claiming segment %d: %w", p.name, id, err)
	}
	prog, err := decodeProgress(seg.Token)
	if err != nil {
		p.releaseClaim(ctx, seg.Claim())
		return held{}, fmt.Errorf("processor %s segment %d: %w", p.name, id, err)
	}
	return held{claim: seg.Claim(), mask: seg.Mask, prog: prog}, nil
}

// unhold gives back a claim taken for a merge that did not happen.
func (p *Processor) unhold(ctx context.Context, h held) {
	if h.wp == nil {
		p.releaseClaim(ctx, h.claim)
	}
}

func (p *Processor) mergeable(a, b held) error {
	for _, h := range []held{a, b} {
		if (h.wp != nil && h.wp.snapshot().merging) || (h.wp == nil && h.prog.merging()) {
			return fmt.Errorf("%w: processor %s segment %d", ErrMerging, p.name, h.claim.Segment)
		}
	}
	if a.mask != b.mask {
		// A sibling is never coarser than the segment: the finer one's
		// halves must be merged back first.
		finer := a
		if b.mask > a.mask {
			finer = b
		}
		next, _, _ := storage.MergeSibling(finer.claim.Segment, finer.mask)
		return fmt.Errorf("processor %s: segment %d (mask %d) cannot merge with segment %d (mask %d), which is split further: merge segment %d with segment %d first",
			p.name, a.claim.Segment, a.mask, b.claim.Segment, b.mask, finer.claim.Segment, next)
	}
	return nil
}

// ReleaseSegment gives segment id up: its work is committed, its claim
// released, and this node does not claim it again for d (twice the claim
// interval when d <= 0), so that another node can take it.
func (p *Processor) ReleaseSegment(ctx context.Context, id int, d time.Duration) error {
	if d <= 0 {
		d = 2 * p.o.claimInterval
	}
	return p.do(ctx, func(ctx context.Context) error { return p.release(ctx, id, d) })
}

// own returns segment id's work package, claiming the segment if needed.
func (p *Processor) own(ctx context.Context, id int) (*workPackage, error) {
	p.reap(ctx, p.o.clock.Now())
	if wp := p.wps[id]; wp != nil && !wp.exited() && !wp.abandoned() {
		return wp, nil
	}
	wp, err := p.claim(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrClaimed) {
			return nil, fmt.Errorf("%w: processor %s segment %d: %v", ErrNotClaimed, p.name, id, err)
		}
		return nil, err
	}
	p.adopt(wp)
	return wp, nil
}
