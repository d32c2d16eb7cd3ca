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
	stop   chan struct{}
	wg     sync.WaitGroup
}

// keep starts renewing p's lease; the context it returns is the handlers':
// it ends, with ErrClaimLost or errLeaseLapsing as its cause, when the lease
// is lost or about to lapse. Call done once the last handler returned.
func (p *processing) keep(ctx context.Context) (context.Context, *keeper) {
	hctx, cancel := context.WithCancelCause(ctx)
	k := &keeper{p: p, cancel: cancel, stop: make(chan struct{})}
	k.wg.Add(1)
	go k.run(hctx)
	return hctx, k
}

func (k *keeper) done() {
	close(k.stop)
	k.wg.Wait()
	k.cancel(nil)
}

func (k *keeper) run(ctx context.Context) {
	defer k.wg.Done()
	claim := k.p.q.opts.claimDuration
	every := max(claim/3, time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	renewed := time.Now()
	for {
		select {
		case <-k.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := k.p.extend(ctx)
		switch {
		case err == nil:
			renewed = time.Now()
		case errors.Is(err, ErrClaimLost), errors.Is(err, errGone):
			k.cancel(err)
			return
		case time.Since(renewed)+every >= claim:
			// The next try would come after the lease ran out.
			k.cancel(fmt.Errorf("%w (claim duration %v): %v", errLeaseLapsing, claim, err))
			return
		}
	}
}

// extend renews the lease if it is still this call's.
func (p *processing) extend(ctx context.Context) error {
	return p.q.change(ctx, p.seq, func(c *change) error {
		if c.row == nil {
			return errGone
		}
		if err := p.mine(c); err != nil {
			return err
		}
		p.renew(c)
		return nil
	})
}
