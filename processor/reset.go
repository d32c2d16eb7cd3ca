package processor

import (
	"context"
	"errors"
	"fmt"

	"eddy/storage"
)

// ResetOpt configures ResetTokens.
type ResetOpt func(*resetOptions)

type resetOptions struct {
	to      InitialToken
	context []byte
}

// ResetTo sets where the reset moves the processor (its initial token by
// default): FromTail, FromHead, FromTime, Since, FromToken.
func ResetTo(to InitialToken) ResetOpt { return func(o *resetOptions) { o.to = to } }

// ResetContext sets a context that reset handlers get and that every
// replayed event carries (Delivery.ResetContext) until the replay ends.
func ResetContext(c []byte) ResetOpt {
	return func(o *resetOptions) { o.context = append([]byte(nil), c...) }
}

// ResetTokens moves every segment of the processor to a new position, for a
// replay. The processor must be stopped on every node: the reset claims all
// segments, and fails if any is held. Reset handlers run first (with a Tx
// that commits together with the new tokens); then each segment restarts
// at the target marked as replaying up to where it had got, so that handlers
// see Delivery.Replay on the events they saw before, until the segment
// passes that point.
func (p *Processor) ResetTokens(ctx context.Context, opts ...ResetOpt) error {
	if p.Running() {
		return fmt.Errorf("%w: stop processor %s (on every node) before resetting its tokens", ErrRunning, p.name)
	}
	ro := resetOptions{to: p.o.initialToken}
	for _, opt := range opts {
		opt(&ro)
	}
	if len(ro.context) > maxResetContext {
		return fmt.Errorf("processor %s: reset context of %d bytes, the limit is %d", p.name, len(ro.context), maxResetContext)
	}
	target, err := ro.to(ctx, p.src, p.o.clock.Now())
	if err != nil {
		return fmt.Errorf("processor %s: reset target: %w", p.name, err)
	}
	if _, err := p.refreshEpoch(ctx); err != nil {
		return err
	}
	tx := newTx(p.store, p.o.statePartition)
	segs, err := p.tokens.Segments(ctx, p.name)
	if err != nil {
		return fmt.Errorf("processor %s: reading segments: %w", p.name, err)
	}
	if len(segs) == 0 {
		// Never started: start at the target, with nothing to replay.
		if err := resetHandler(ctx, p.handler, Reset{Context: ro.context, Tx: &tx}); err != nil {
			return fmt.Errorf("processor %s: reset handler: %w", p.name, err)
		}
		if err := p.commit(ctx, &tx); err != nil {
			return err
		}
		return p.tokens.InitializeSegments(ctx, p.name, p.o.initialSegments, newProgress(target).encode())
	}
	claimed, release, err := p.claimAll(ctx, segs, "a reset")
	defer release()
	if err != nil {
		return err
	}
	writes := make([]storage.TokenWrite, len(claimed))
	for i, s := range claimed {
		prog, err := decodeProgress(s.Token)
		if err != nil {
			return fmt.Errorf("processor %s segment %d: %w", p.name, s.ID, err)
		}
		writes[i] = storage.TokenWrite{Claim: s.Claim(), Token: resetProgress(prog, target, ro.context).encode()}
	}
	if err := resetHandler(ctx, p.handler, Reset{Context: ro.context, Tx: &tx}); err != nil {
		return fmt.Errorf("processor %s: reset handler: %w (no token was moved)", p.name, err)
	}
	return p.commit(ctx, &tx, writes...)
}

// resetProgress is where a segment at prog stands after a reset to target:
// replaying up to the furthest point it had reached (or was replaying to).
func resetProgress(prog progress, target Token, context []byte) progress {
	until := prog.reached()
	for _, c := range prog.cursors {
		if c.replay != nil {
			until = until.Upper(c.replay.until)
		}
	}
	next := progress{cursors: []cursor{{pos: target.clone(), replay: &replay{until: until, context: context}}}}
	next.settle()
	return next
}

// claimAll claims every segment of segs for what (a reset, a check), or
// fails with ErrRunning when one is held; release gives back what it
// claimed, whether it failed or not.
func (p *Processor) claimAll(ctx context.Context, segs []storage.Segment, what string) (claimed []storage.Segment, release func(), err error) {
	release = func() {
		for _, s := range claimed {
			if err := p.releaseClaim(context.WithoutCancel(ctx), s.Claim()); err != nil {
				p.o.logger.Warn("processor: releasing a claim", "processor", p.name, "segment", s.ID, "after", what, "error", err)
			}
		}
	}
	claimed = make([]storage.Segment, 0, len(segs))
	for _, s := range segs {
		got, err := p.tokens.ClaimSegment(ctx, p.name, s.ID, p.o.node, p.o.claimTimeout)
		if err != nil {
			if errors.Is(err, storage.ErrClaimed) {
				return claimed, release, fmt.Errorf("%w: processor %s: %s needs every segment, and segment %d is held by %q: stop the processor on every node first (%v)",
					ErrRunning, p.name, what, s.ID, s.Owner, err)
			}
			return claimed, release, fmt.Errorf("processor %s: claiming segment %d for %s: %w", p.name, s.ID, what, err)
		}
		claimed = append(claimed, got)
	}
	return claimed, release, nil
}

// CheckStopped reports whether the processor is stopped on every node:
// nil when no node holds any of its segments (each is claimed and given
// back at once) and no other node has a live slot among its nodes (a node
// that runs it without a segment at the moment could take one next);
// ErrRunning otherwise, or when this node runs it.
func (p *Processor) CheckStopped(ctx context.Context) error {
	if p.Running() {
		return fmt.Errorf("%w: processor %s runs on this node", ErrRunning, p.name)
	}
	segs, err := p.tokens.Segments(ctx, p.name)
	if err != nil {
		return fmt.Errorf("processor %s: reading segments: %w", p.name, err)
	}
	_, release, err := p.claimAll(ctx, segs, "a check that it is stopped")
	release()
	if err != nil {
		return err
	}
	v, err := p.members.Look(ctx, p.o.clock.Now())
	if err != nil {
		return err
	}
	if v.Live > 1 {
		return fmt.Errorf("%w: processor %s runs on %d other nodes (their slots' claims are fresh)", ErrRunning, p.name, v.Live-1)
	}
	return nil
}
