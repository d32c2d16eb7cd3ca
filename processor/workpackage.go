package processor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"eddy/storage"
)

// chunk is a run of events read from a stream, each with its sequence hash,
// and the stream's token before and after it. Chunks are shared by every
// work package a stream feeds: nobody changes one once sent.
type chunk struct {
	events   []Event
	hashes   []uint32
	start    Token
	end      Token
	caughtUp bool // the stream had nothing more ready after this chunk
}

// workPackage processes one claimed segment: it takes the segment's events
// out of the chunks it is fed, in order, hands them to the handler in
// batches and commits each batch with the segment's token. Everything it
// does happens on its own goroutine; the supervisor talks to it through
// calls queued behind the chunks, so a call sees the segment between two
// chunks, or through soon, a call taken at the next event (callSoon).
type workPackage struct {
	p      *Processor
	claim  storage.Claim
	ctx    context.Context
	cancel context.CancelFunc
	in     chan wpMsg
	soon   chan *wpCall
	done   chan struct{}

	// Owned by the work package's goroutine.
	mask       int
	prog       progress
	tx         Tx
	pending    int  // handled events not committed yet
	dirty      bool // progress moved since the last commit
	committing *inflight
	caughtUp   bool

	lastCommit atomic.Int64 // Unix nanoseconds, by the processor's clock
	succeeded  atomic.Bool  // a batch with handled events committed
	// busy is set while the work package handles a chunk and delivered
	// counts the events it handed over: a work package busy without
	// delivering anything between two claim extensions is stuck, and its
	// claim is left to lapse so that another node can take the segment.
	busy      atomic.Bool
	delivered atomic.Uint64
	// aliveUntil is when the handler in hand said it would have returned
	// by (Delivery.KeepAlive), Unix nanoseconds by the processor's clock:
	// until then it is working, not stuck.
	aliveUntil atomic.Int64
	// flushQueued is set while a flushPosition call waits in the queue:
	// one at a time, so that calls do not fill the read-ahead behind a
	// handler that waits long.
	flushQueued atomic.Bool
	// flushWanted asks the work package, between two events of a chunk,
	// to commit what it handled: a busy one's queue may be full of chunks
	// read ahead (a replay's backlog), so that a flush could wait in it
	// until the backlog is done, and a crash lose all of it.
	flushWanted atomic.Bool
	// draining is set when the work package is to stop: it finishes the
	// event in hand and leaves what is queued behind it to whoever claims
	// the segment next, from the committed token. Handling the read-ahead
	// first would hold the stop (a trigger's change, a shutdown) for as
	// long as a slow handler takes over all of it.
	draining atomic.Bool
	// stopping is closed with the first drain, for handlers that wait
	// (Delivery.Stopping).
	stopping chan struct{}
	stopOnce sync.Once
	// extendedAt is delivered when the supervisor last extended the claim
	// (the supervisor's own).
	extendedAt uint64

	mu  sync.Mutex
	st  segmentSnapshot
	err error // why the goroutine ended, set before done closes
}

// segmentSnapshot is what Status shows of a work package.
type segmentSnapshot struct {
	mask      int
	position  Token
	caughtUp  bool
	replaying bool
	merging   bool
}

type wpMsg struct {
	chunk *chunk
	call  *wpCall
}

type wpCall struct {
	fn    func(ctx context.Context) error
	stop  bool
	fatal bool // an error of fn ends the work package
	reply chan error
}

func (p *Processor) newWorkPackage(seg storage.Segment, prog progress) *workPackage {
	ctx, cancel := context.WithCancel(context.WithoutCancel(p.runCtx))
	wp := &workPackage{
		p:        p,
		claim:    seg.Claim(),
		ctx:      ctx,
		cancel:   cancel,
		in:       make(chan wpMsg, p.o.readAhead),
		soon:     make(chan *wpCall, 1),
		done:     make(chan struct{}),
		stopping: make(chan struct{}),
		mask:     seg.Mask,
		prog:     prog,
		tx:       newTx(p.store, p.o.statePartition),
	}
	wp.lastCommit.Store(p.o.clock.Now().UnixNano())
	wp.publish()
	go wp.run()
	return wp
}

func (wp *workPackage) id() int { return wp.claim.Segment }

func (wp *workPackage) run() {
	defer wp.p.poke() // the supervisor reaps what ended
	defer close(wp.done)
	for {
		select {
		case c := <-wp.soon:
			c.reply <- c.fn(wp.ctx)
		case m := <-wp.in:
			if m.call != nil {
				err := m.call.fn(wp.ctx)
				m.call.reply <- err
				if m.call.stop || (m.call.fatal && err != nil) {
					wp.setErr(err)
					return
				}
				continue
			}
			if err := wp.process(m.chunk); err != nil {
				wp.setErr(err)
				return
			}
		case <-wp.ctx.Done():
			wp.setErr(wp.ctx.Err())
			return
		}
	}
}

// setErr records why the work package ends; the first reason wins (a lost
// claim, say, over the cancellation that followed it).
func (wp *workPackage) setErr(err error) {
	wp.mu.Lock()
	if wp.err == nil {
		wp.err = err
	}
	wp.mu.Unlock()
}

// exitErr is why the goroutine ended (nil for a clean stop).
func (wp *workPackage) exitErr() error {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	return wp.err
}

// abandoned reports whether the work package was told to end without
// committing (its claim is lost, or the processor gave up waiting for it).
func (wp *workPackage) abandoned() bool { return wp.ctx.Err() != nil }

func (wp *workPackage) exited() bool {
	select {
	case <-wp.done:
		return true
	default:
		return false
	}
}

// call runs fn on the work package's goroutine after the chunks queued
// before it; with stop, the work package ends after fn.
func (wp *workPackage) call(ctx context.Context, stop bool, fn func(ctx context.Context) error) error {
	c := &wpCall{fn: fn, stop: stop, reply: make(chan error, 1)}
	select {
	case wp.in <- wpMsg{call: c}:
	case <-wp.done:
		return wp.goneErr()
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		if stop {
			<-wp.done
		}
		return err
	case <-wp.done:
		select {
		case err := <-c.reply:
			return err
		default:
			return wp.goneErr()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// callSoon runs fn on the work package's goroutine at its next event,
// ahead of the chunks queued: for a split, which must neither wait for the
// events read ahead (the new segment is to take its share of them) nor
// hold the processor's supervisor, which waits for it, that long.
func (wp *workPackage) callSoon(ctx context.Context, fn func(ctx context.Context) error) error {
	c := &wpCall{fn: fn, reply: make(chan error, 1)}
	select {
	case wp.soon <- c:
	case <-wp.done:
		return wp.goneErr()
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-wp.done:
		select {
		case err := <-c.reply:
			return err
		default:
			return wp.goneErr()
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (wp *workPackage) goneErr() error {
	if err := wp.exitErr(); err != nil {
		return err
	}
	return errors.New("processor: work package stopped")
}

// stop commits what the work package has done and ends it, after the
// event in hand (drain).
func (wp *workPackage) stop(ctx context.Context) error {
	wp.drain()
	return wp.call(ctx, true, wp.commit)
}

// drain makes the work package skip what it has yet to handle, so that a
// stop to come waits for one event at most.
func (wp *workPackage) drain() {
	wp.draining.Store(true)
	wp.stopOnce.Do(func() { close(wp.stopping) })
}

// feed queues c, waiting while the work package is behind. It returns false
// when ctx ended. A work package that has ended, or was abandoned (its
// claim lost) while a handler that ignores cancellation holds it, is
// skipped, so that it cannot stall the other segments of the stream.
func (wp *workPackage) feed(ctx context.Context, c *chunk) bool {
	select {
	case wp.in <- wpMsg{chunk: c}:
		return true
	case <-wp.done:
		return true
	case <-wp.ctx.Done():
		return true
	case <-ctx.Done():
		return false
	}
}

// process handles the segment's events of c; draining, it leaves them, and
// the position stays after the last event handled.
func (wp *workPackage) process(c *chunk) error {
	if wp.draining.Load() {
		return nil
	}
	if sem := wp.p.workers; sem != nil {
		select {
		case sem <- struct{}{}:
		case <-wp.ctx.Done():
			return wp.ctx.Err()
		}
		defer func() { <-sem }()
	}
	wp.busy.Store(true)
	defer wp.busy.Store(false)
	id, mask := uint32(wp.claim.Segment), uint32(wp.mask)
	half := mask<<1 | 1 // tells the halves of a merge apart
	prog := &wp.prog
	// Events of a chunk that starts at or after a cursor are all new to it:
	// only a chunk re-read after the stream reopened lower needs checking.
	var check [2]bool
	for k := range prog.cursors {
		check[k] = !c.start.CoversToken(prog.cursors[k].pos)
	}
	for i := range c.events {
		if len(wp.soon) > 0 {
			// A call that does not wait for the queue (a split): it may
			// change the mask, which the rest of the chunk follows.
			select {
			case sc := <-wp.soon:
				sc.reply <- sc.fn(wp.ctx)
				mask = uint32(wp.mask)
				half = mask<<1 | 1
			default:
			}
		}
		h := c.hashes[i]
		if h&mask != id {
			continue
		}
		k := 0
		if len(prog.cursors) == 2 && h&half != id {
			k = 1
		}
		cur := &prog.cursors[k]
		e := &c.events[i]
		if check[k] && cur.pos.Covers(e.Position) {
			continue
		}
		if wp.draining.Load() {
			wp.publish()
			return nil
		}
		wp.delivered.Add(1)
		if err := wp.deliver(e, cur); err != nil {
			if errors.Is(err, ErrStopping) && wp.draining.Load() {
				// Given up for the stop, whose commit keeps the position
				// before it.
				wp.publish()
				return nil
			}
			// Keep what the batch did before the failed event, so that a
			// retry starts at the failed event.
			if cerr := wp.commit(wp.ctx); cerr != nil {
				return errors.Join(err, cerr)
			}
			return err
		}
		cur.pos.raise(e.Position)
		wp.pending++
		wp.dirty = true
		if (wp.pending >= wp.p.o.batchSize || wp.flushWanted.Load()) && wp.commitDue() {
			wp.flushWanted.Store(false)
			if err := wp.startCommit(wp.ctx); err != nil {
				return err
			}
		}
	}
	for k := range prog.cursors {
		if !prog.cursors[k].pos.CoversToken(c.end) {
			prog.cursors[k].pos.raiseTo(c.end)
			wp.dirty = true
		}
	}
	prog.settle()
	if !c.caughtUp { // events, or a stream that skipped and reads on
		wp.caughtUp = false
	}
	if c.caughtUp {
		wp.caughtUp = true
		// Handled events commit as soon as the stream pauses; a position
		// that merely moved past other segments' events waits for the
		// claim to need extending anyway.
		due := wp.p.o.clock.Now().UnixNano()-wp.lastCommit.Load() >= int64(wp.p.o.extensionThreshold/2)
		if wp.pending > 0 || (wp.dirty && due) {
			if err := wp.commit(wp.ctx); err != nil {
				return err
			}
		}
	}
	wp.publish()
	return nil
}

// deliver hands one event to the handler, or parks it behind its
// dead-lettered sequence. An error fails the batch.
func (wp *workPackage) deliver(e *Event, cur *cursor) error {
	d := Delivery{Event: e, Segment: wp.claim.Segment, Tx: &wp.tx, alive: &wp.aliveUntil, stopping: wp.stopping}
	if r := cur.replay; r != nil && r.until.Covers(e.Position) {
		d.Replay, d.ResetContext = true, r.context
	}
	p := wp.p
	var seq string
	if p.deadLetters != nil {
		seq = deadLetterSequence(p.o.sequencing(e), e.Position)
		parked, err := p.deadLetters.parkIfPresent(wp.ctx, seq, d)
		if err != nil || parked {
			return err
		}
	}
	mark := wp.tx.mark()
	if wp.aliveUntil.Load() != 0 {
		wp.aliveUntil.Store(0) // an earlier event's word holds no more
	}
	err := p.handler.Handle(wp.ctx, d)
	if err == nil {
		return nil
	}
	wp.tx.rollback(mark)
	if errors.Is(err, ErrStopping) && wp.draining.Load() {
		return err // not the event's fault: process leaves it for later
	}
	if cerr := wp.ctx.Err(); cerr != nil {
		// The work package is stopping (the processor stops, or the claim
		// went): a handler cut short is not the event's fault, so it is not
		// dead-lettered; the token stays before it, and it is delivered
		// again when the segment is next claimed.
		return cerr
	}
	return p.handleFailure(wp.ctx, d, seq, err)
}

// publish makes the work package's state visible to Status and to the
// stream that feeds it.
func (wp *workPackage) publish() {
	s := segmentSnapshot{
		mask:      wp.mask,
		position:  wp.prog.position().clone(),
		caughtUp:  wp.caughtUp,
		replaying: wp.prog.replaying(),
		merging:   wp.prog.merging(),
	}
	wp.mu.Lock()
	wp.st = s
	wp.mu.Unlock()
}

func (wp *workPackage) snapshot() segmentSnapshot {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	return wp.st
}
