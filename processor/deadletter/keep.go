package deadletter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// A lease is renewed while its handler runs, every third of the claim
// duration, so that the claim duration bounds how long a holder that died
// keeps others away, not how long a handler may take. A handler that runs
// past one claim duration (a delivery waiting out its back-offs, say) is
// therefore not handed to a second Process call meanwhile.
//
// A holder that cannot renew (storage unreachable) has its handler's
// context ended before its lease can lapse: another node may take the
// sequence over from then, and two handlers must not run at once.

// errLeaseLapsing ends a handler whose lease could not be renewed in time.
var errLeaseLapsing = errors.New("deadletter: the lease on the sequence could not be renewed before it lapsed")

// keeper renews one processing's lease until stopped.
type keeper struct {
	p      *processing
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
}

// keep starts renewing p's lease; the context it returns is the handlers':
// it ends, with ErrClaimLost or errLeaseLapsing as its cause, when the lease
// is lost or about to lapse. Call done once the last handler returned.
func (p *processing) keep(ctx context.Context) (context.Context, *keeper) {
	hctx, cancel := context.WithCancelCause(ctx)
	k := &keeper{p: p, cancel: cancel}
	k.wg.Add(1)
	go k.run(hctx)
	return hctx, k
}

// done stops the keeper (ending the handlers' context ends its loop); a
// renewal in flight is abandoned.
func (k *keeper) done() {
	k.cancel(nil)
	k.wg.Wait()
}

// run renews the lease every third of the claim duration. The lease's end
// is counted from when the write that set it began, once it held the
// sequence's lock (the lease's own time is read then too), and the
// handlers are stopped a sixth of the claim duration
// before it, by a timer of their own: a renewal that hangs (a lock, an
// unreachable database) is bounded by that same moment.
func (k *keeper) run(ctx context.Context) {
	defer k.wg.Done()
	claim := k.p.q.opts.claimDuration
	margin := claim / 6
	lapse := time.NewTimer(k.p.lapsesIn(claim - margin))
	defer lapse.Stop()
	tick := time.NewTicker(max(claim/3, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lapse.C:
			if left := k.p.lapsesIn(claim - margin); left > 0 {
				lapse.Reset(left) // renewed meanwhile (the next letter's)
				continue
			}
			k.cancel(fmt.Errorf("%w (claim duration %v)", errLeaseLapsing, claim))
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithDeadline(ctx, k.p.renewedAt().Add(claim-margin))
		err := k.p.extend(rctx)
		cancel()
		switch {
		case err == nil:
			lapse.Reset(k.p.lapsesIn(claim - margin))
		case errors.Is(err, ErrClaimLost), errors.Is(err, errGone):
			k.cancel(err)
			return
		}
		// Another failure: the next tick tries again, and the lapse
		// timer stops the handlers if none succeeds in time.
	}
}

// renewedAt is when the write that last set the lease began.
func (p *processing) renewedAt() time.Time { return time.Unix(0, p.renewed.Load()) }

// lapsesIn is how long until before has passed since the lease was last
// set.
func (p *processing) lapsesIn(before time.Duration) time.Duration {
	return time.Until(p.renewedAt().Add(before))
}

// extend renews the lease if it is still this call's.
func (p *processing) extend(ctx context.Context) error {
	var began time.Time
	err := p.q.change(ctx, p.seq, func(c *change) error {
		began = time.Now()
		if c.row == nil {
			return errGone
		}
		if err := p.mine(c); err != nil {
			return err
		}
		p.renew(c)
		return nil
	})
	if err == nil {
		p.renewed.Store(began.UnixNano())
	}
	return err
}
