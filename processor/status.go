package processor

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// SegmentStatus is what one segment of this node is doing.
type SegmentStatus struct {
	Segment int
	Mask    int
	// Claimed is true while this node processes the segment; a segment
	// shown unclaimed failed here and waits to be claimed again.
	Claimed bool
	// Position is how far the segment has got (the lower half during a
	// merge); for a segment that failed here and is unclaimed, where its
	// stored token stands, which is where it is stuck.
	Position Token
	// CaughtUp is true when the segment has handled everything the source
	// had when last asked.
	CaughtUp bool
	// Replaying is true during a replay, until the segment passes the point
	// where the reset took it back from.
	Replaying bool
	// Merging is true while a merged segment advances its two halves.
	Merging bool
	// Stopping is true once the segment is to stop (the processor stops,
	// or gives the segment up): it finishes the event in hand and handles
	// no more here.
	Stopping bool
	// Lag is how many events of the source (all segments') lie between
	// Position and the source's head.
	Lag uint64
	// Err is the last failure: the handler's, the stream's or a lost claim,
	// until the segment commits a batch again.
	Err error
}

// Status reports the segments this node claims, and those that failed here
// recently (at their stored tokens), with their lag behind the source's
// head.
func (p *Processor) Status(ctx context.Context) ([]SegmentStatus, error) {
	head, headErr := p.src.HeadToken(ctx)
	var out []SegmentStatus
	p.mu.Lock()
	for id, wp := range p.wps {
		s := wp.snapshot()
		st := SegmentStatus{
			Segment:   id,
			Mask:      s.mask,
			Claimed:   !wp.exited() && !wp.abandoned(),
			Position:  s.position,
			CaughtUp:  s.caughtUp,
			Replaying: s.replaying,
			Merging:   s.merging,
			Stopping:  wp.draining.Load(),
		}
		if !wp.succeeded.Load() {
			st.Err = p.failures[id] // until the segment commits a batch
		}
		if err := wp.exitErr(); err != nil && !errors.Is(err, context.Canceled) {
			st.Err = err
		}
		f := p.pooled
		if p.o.mode == Tracking {
			f = p.tracking[id]
		}
		if f != nil {
			if err := f.streamErr(); err != nil {
				st.Err = err
			}
		}
		out = append(out, st)
	}
	failed := 0
	for id, err := range p.failures {
		if _, claimed := p.wps[id]; !claimed {
			out = append(out, SegmentStatus{Segment: id, Err: err})
			failed++
		}
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b SegmentStatus) int { return a.Segment - b.Segment })
	// A segment that failed here waits, unclaimed, where its token stands:
	// the token store says where that is, so that its lag shows how far
	// behind it is stuck rather than nothing.
	known := map[int]bool{}
	var infoErr error
	if failed > 0 {
		infos, err := Inspect(ctx, p.store, p.name)
		infoErr = err
		byID := map[int]SegmentInfo{}
		for _, in := range infos {
			byID[in.Segment] = in
		}
		for i := range out {
			if in, ok := byID[out[i].Segment]; ok && !out[i].Claimed {
				out[i].Mask, out[i].Position = in.Mask, in.Position
				out[i].Replaying, out[i].Merging = in.Replaying, in.Merging
				known[out[i].Segment] = true
			}
		}
	}
	if headErr != nil {
		return out, fmt.Errorf("processor %s: reading the source's head for the lag: %w", p.name, headErr)
	}
	for i := range out {
		if out[i].Claimed || known[out[i].Segment] {
			out[i].Lag = out[i].Position.Behind(head)
		}
	}
	if infoErr != nil {
		return out, fmt.Errorf("processor %s: reading where its failed segments stand: %w", p.name, infoErr)
	}
	return out, nil
}
