package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// Handler handles one dead letter's event again.
type Handler func(ctx context.Context, l Letter) error

// errGone: the sequence to process does not exist (any more).
var errGone = errors.New("deadletter: sequence is gone")

// Process retries the sequence whose head letter was touched longest ago
// (Axon's processAny), skipping sequences another Process call holds. It
// hands the sequence's letters to handle in order: a letter handled without
// error is evicted and the next one follows; on an error, policy
// (DefaultPolicy when nil) decides: Requeue or Enqueue keep the letter at the
// head, with the new cause and one more retry, and leave the rest parked
// behind it; Evict or Ignore drop it and go on.
//
// processed is true when the sequence was emptied, so that a caller can loop
// while Process returns true; false when nothing was there to process or a
// letter was requeued. If ctx ends while a handler runs, the letter stays
// untouched (no retry counted) and ctx's error is returned. The handler's
// own context also ends when the lease on the sequence is lost or could
// not be renewed (see keep.go): the letter stays untouched then too, and
// ErrClaimLost or the renewal's failure is returned.
func (q *Queue) Process(ctx context.Context, handle Handler, policy Policy) (processed bool, err error) {
	return q.ProcessMatching(ctx, nil, handle, policy)
}

// ProcessMatching is Process limited to the sequences match accepts (all of
// them when match is nil): retry only what has waited long enough, say.
func (q *Queue) ProcessMatching(ctx context.Context, match func(SequenceInfo) bool, handle Handler, policy Policy) (bool, error) {
	infos, err := q.Sequences(ctx)
	if err != nil {
		return false, err
	}
	for _, info := range infos {
		if info.Processing || (match != nil && !match(info)) {
			continue
		}
		p, err := q.hold(ctx, info.ID)
		if errors.Is(err, ErrBusy) || errors.Is(err, errGone) {
			continue // taken or emptied since the listing
		}
		if err != nil {
			return false, err
		}
		return p.run(ctx, handle, orDefault(policy))
	}
	return false, nil
}

// ProcessSequence is Process for one given sequence, as an operator's retry
// does: ErrBusy if another Process call holds it, false without error if it
// is not dead-lettered.
func (q *Queue) ProcessSequence(ctx context.Context, sequenceID string, handle Handler, policy Policy) (bool, error) {
	if err := checkSequenceID(sequenceID); err != nil {
		return false, err
	}
	p, err := q.hold(ctx, sequenceID)
	if errors.Is(err, errGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return p.run(ctx, handle, orDefault(policy))
}

// processing is a sequence held by one Process call: lease names the call,
// head is the letter to hand over next and order where it is stored.
type processing struct {
	q     *Queue
	seq   string
	lease string
	head  Letter
	order uint64
	// renewed is when the write that last set the lease began (Unix
	// nanoseconds, this node's clock): the keeper counts the lease from it.
	renewed atomic.Int64
}

// hold takes the lease on seq and reads its head.
func (q *Queue) hold(ctx context.Context, seq string) (*processing, error) {
	p := &processing{q: q, seq: seq, lease: q.owner + "#" + strconv.FormatUint(q.leases.Add(1), 10)}
	var began time.Time
	var lapsed sequenceRow // the lease taken over, if one had lapsed
	err := q.change(ctx, seq, func(c *change) error {
		if c.row == nil {
			return errGone
		}
		if by := c.row.leasedBy(c.now); by != "" {
			return fmt.Errorf("%w: sequence %q of processor %q is held by %s until %s",
				ErrBusy, seq, q.processor, by, c.row.leaseUntil.Format(time.RFC3339))
		}
		lapsed.leaseOwner, lapsed.leaseUntil = c.row.leaseOwner, c.row.leaseUntil
		began = time.Now() // as c.now: after the lock, which may be waited for
		return p.takeHead(c)
	})
	p.renewed.Store(began.UnixNano())
	if err == nil && lapsed.leaseOwner != "" {
		// A holder that gives a sequence up clears its lease: this one's
		// holder died, froze or lost its store while handling the letter.
		q.opts.logger.Info("deadletter: took a sequence over whose holder's lease lapsed; its letter is handled again",
			"processor", q.processor, "sequence", seq, "holder", lapsed.leaseOwner,
			"lapsed_at", lapsed.leaseUntil.Format(time.RFC3339Nano))
	}
	return p, err
}

// takeHead makes the sequence's head the next letter to hand over and
// renews the lease.
func (p *processing) takeHead(c *change) error {
	head, err := c.head()
	if err != nil {
		return err
	}
	p.head, p.order = head, c.row.head
	p.renew(c)
	return nil
}

// renew extends the lease from the change's time and stages the row.
func (p *processing) renew(c *change) {
	c.row.leaseOwner = p.lease
	c.row.leaseUntil = c.now.Add(p.q.opts.claimDuration)
	c.writeRow()
}

// mine checks that the lease is still this call's.
func (p *processing) mine(c *change) error {
	switch c.row.leaseOwner {
	case p.lease:
	case "":
		return fmt.Errorf("%w: sequence %q of processor %q: the lease lapsed (claim duration %v), and another call took the sequence and gave it up since",
			ErrClaimLost, p.seq, p.q.processor, p.q.opts.claimDuration)
	default:
		return fmt.Errorf("%w: sequence %q of processor %q was taken over by %q (claim duration %v)",
			ErrClaimLost, p.seq, p.q.processor, c.row.leaseOwner, p.q.opts.claimDuration)
	}
	return nil
}

func (p *processing) run(ctx context.Context, handle Handler, policy Policy) (bool, error) {
	hctx, k := p.keep(ctx)
	defer k.done()
	for {
		err := handle(hctx, p.head)
		if err != nil && ctx.Err() != nil {
			p.release()
			return false, fmt.Errorf("deadletter: processing sequence %q of processor %q stopped: %w", p.seq, p.q.processor, ctx.Err())
		}
		if err != nil && hctx.Err() != nil {
			// The keeper cut the handler short: its failure is not the
			// letter's, and counts as no retry.
			cause := context.Cause(hctx)
			if errors.Is(cause, errGone) {
				return false, nil // cleared or evicted meanwhile
			}
			p.release()
			return false, fmt.Errorf("deadletter: processing sequence %q of processor %q stopped: %w", p.seq, p.q.processor, cause)
		}
		if err != nil {
			if d := policy(p.head, err); d.Keeps() {
				return false, p.requeue(ctx, d, err)
			}
		}
		done, err := p.advance(ctx)
		if err != nil || done {
			return err == nil, err
		}
		if hctx.Err() != nil {
			// The keeper stopped the handlers (the lease is lapsing or
			// lost) while this letter's handler ignored it: the next
			// letter waits for another call.
			p.release()
			return false, fmt.Errorf("deadletter: processing sequence %q of processor %q stopped: %w", p.seq, p.q.processor, context.Cause(hctx))
		}
	}
}

// advance evicts the letter just handled and reads the next, renewing the
// lease; done when the sequence is empty.
func (p *processing) advance(ctx context.Context) (done bool, err error) {
	var began time.Time
	defer func() {
		if err == nil && !done {
			p.renewed.Store(began.UnixNano()) // takeHead renewed the lease
		}
	}()
	err = p.q.change(ctx, p.seq, func(c *change) error {
		began = time.Now()
		if c.row == nil {
			done = true // cleared or evicted meanwhile: nothing left
			return nil
		}
		if err := p.mine(c); err != nil {
			return err
		}
		if _, err := c.remove(p.order); err != nil {
			return err
		}
		if c.row == nil {
			done = true
			return nil
		}
		return p.takeHead(c)
	})
	return done, err
}

// requeue records the failure on the letter, keeps it at its place and
// gives the sequence up.
func (p *processing) requeue(ctx context.Context, d Decision, cause error) error {
	return p.q.change(ctx, p.seq, func(c *change) error {
		if c.row == nil {
			return nil
		}
		if err := p.mine(c); err != nil {
			return err
		}
		c.row.leaseOwner, c.row.leaseUntil = "", time.Time{}
		l, ok, err := c.letter(p.order)
		if err != nil {
			return err
		}
		if !ok { // evicted by an operator meanwhile
			c.writeRow()
			return nil
		}
		c.requeue(p.order, d.apply(l, cause))
		return nil
	})
}

// release gives the sequence up unchanged after ctx ended; it runs on a
// context of its own, since the caller's is done. If it fails, the lease
// runs out by itself.
func (p *processing) release() {
	ctx, cancel := context.WithTimeout(context.Background(), p.q.opts.lockTimeout)
	defer cancel()
	released := false
	err := p.q.change(ctx, p.seq, func(c *change) error {
		if c.row == nil || c.row.leaseOwner != p.lease {
			return nil
		}
		c.row.leaseOwner, c.row.leaseUntil = "", time.Time{}
		c.writeRow()
		released = true
		return nil
	})
	switch {
	case err != nil:
		p.q.opts.logger.Warn("deadletter: releasing a sequence failed; it frees itself after the claim duration",
			"processor", p.q.processor, "sequence", p.seq, "claim_duration", p.q.opts.claimDuration, "error", err)
	case released:
		p.q.opts.logger.Info("deadletter: gave a sequence up unchanged, its letter's handling cut short; the next Process call, here or on another node, handles it again",
			"processor", p.q.processor, "sequence", p.seq)
	}
}
