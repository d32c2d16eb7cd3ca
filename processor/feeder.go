package processor

import (
	"context"
	"fmt"
	"sync"
)

// feeder reads one stream and feeds its chunks to a fixed set of work
// packages: all of a Pooled processor's (its coordinator), or one Tracking
// segment's. It computes each event's sequence hash once for all of them.
type feeder struct {
	p      *Processor
	wps    []*workPackage
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	err error // the stream's last error, shown in status until it reads again
}

// startFeeder opens a stream at the lowest position of wps and feeds them.
func (p *Processor) startFeeder(wps []*workPackage) *feeder {
	ctx, cancel := context.WithCancel(p.runCtx)
	f := &feeder{p: p, wps: wps, cancel: cancel, done: make(chan struct{})}
	start := wps[0].snapshot().position
	for _, wp := range wps[1:] {
		start = start.Lower(wp.snapshot().position)
	}
	go f.run(ctx, start)
	return f
}

// stop ends the feeder and waits for it.
func (f *feeder) stop() {
	f.cancel()
	<-f.done
}

func (f *feeder) streamErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *feeder) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *feeder) run(ctx context.Context, start Token) {
	defer close(f.done)
	backoff := f.p.o.retryMin
	for ctx.Err() == nil {
		err := f.stream(ctx, &start)
		if err == nil || ctx.Err() != nil {
			return
		}
		// The source failed (a decode error, a broken connection): show it,
		// wait and reopen where the work packages were fed up to.
		f.setErr(err)
		f.p.o.logger.Warn("processor: stream failed; reopening", "processor", f.p.name, "error", err, "retry_in", backoff)
		select {
		case <-f.p.o.clock.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, f.p.o.retryMax)
	}
}

// stream feeds the work packages from a stream opened at *pos, moving *pos
// past every chunk fed.
func (f *feeder) stream(ctx context.Context, pos *Token) error {
	st, err := f.p.src.Open(ctx, *pos)
	if err != nil {
		return fmt.Errorf("processor %s: opening the source at %s: %w", f.p.name, *pos, err)
	}
	defer st.Close()
	cur := pos.clone()
	skipper, _ := st.(SkippingStream)
	idle := false
	policy := f.p.o.sequencing
	for {
		evs, err := st.Next(ctx, 0)
		if err == nil && len(evs) == 0 {
			if skipper != nil {
				before := cur.clone()
				cur.raiseTo(skipper.ReadUpTo())
				if !before.CoversToken(cur) {
					// It left events out without reaching the end: move
					// past them, and read on.
					c := &chunk{start: *pos, end: cur.clone()}
					if !f.feed(ctx, c) {
						return nil
					}
					*pos, idle = c.end, false
					continue
				}
			}
			if !idle || !pos.CoversToken(cur) {
				// The stream is drained for now: tell the work packages, so
				// that they commit what they hold (and move past what the
				// stream skipped).
				c := &chunk{start: *pos, end: cur.clone(), caughtUp: true}
				if !f.feed(ctx, c) {
					return nil
				}
				*pos = c.end
				idle = true
			}
			evs, err = st.Next(ctx, -1)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if len(evs) == 0 {
			continue
		}
		f.setErr(nil)
		idle = false
		c := &chunk{events: evs, hashes: make([]uint32, len(evs)), start: *pos}
		for i := range evs {
			e := &evs[i]
			c.hashes[i] = sequenceHash(policy(e), e.Position)
			cur.raise(e.Position)
		}
		if skipper != nil {
			cur.raiseTo(skipper.ReadUpTo())
		}
		c.end = cur.clone()
		if !f.feed(ctx, c) {
			return nil
		}
		*pos = c.end
	}
}

func (f *feeder) feed(ctx context.Context, c *chunk) bool {
	for _, wp := range f.wps {
		if !wp.feed(ctx, c) {
			return false
		}
	}
	return true
}
