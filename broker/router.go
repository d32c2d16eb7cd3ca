package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"eddy/processor"
	"eddy/processor/deadletter"
)

// ErrTriggerNotFound is returned for a trigger that does not exist.
var ErrTriggerNotFound = errors.New("broker: no such trigger")

// Router runs the triggers: one streaming processor per trigger over the
// log, named "trigger/<namespace>/<name>/<uid>", started from the log's
// head when the trigger is created (so a new trigger sees the events that
// come after it, as in Knative) and resuming from its token after a
// restart. Changing a trigger keeps its uid and so its token; deleting it
// drops its token and its dead letters, and a trigger created again under
// the name has a new uid, so nothing the old one left can reach it.
type Router struct {
	b *Broker

	// changing is held from reading or writing a trigger's row to running
	// what it says, so that a reload that read the rows before a PUT,
	// DELETE or replay on this node does not undo it.
	changing sync.Mutex
	mu       sync.Mutex
	ctx      context.Context // the broker's run context; nil when stopped
	running  map[string]*activeTrigger
	// retired are the routes of processors replaced by another creation
	// of their trigger, for markRetired.
	retired []*route
	done    chan struct{}
	// deletedSeen is when this node first saw each deleted row (by key),
	// on its own clock; the sweep's alone reads and writes it.
	deletedSeen   map[string]time.Time
	deletedSeenMu sync.Mutex
	// pauseSeen is when this node first saw each pause row as it is now
	// (by key), on its own clock: reload, under changing, alone uses it
	// (pauserows.go).
	pauseSeen map[string]seenPause
	// orphanedAfter, set by tests, replaces pauseOrphanedAfter's bound;
	// read under changing.
	orphanedAfter time.Duration
	// resetting serializes the resets (replays, changes) of one trigger
	// made through this node, by key; resettingMu guards the map.
	resetting   map[string]*sync.Mutex
	resettingMu sync.Mutex
	// repairing holds the triggers whose segments are being moved for
	// their ordering (repairSequencing), by key; guarded by mu. repairs
	// counts the repairs running, which stop waits for.
	repairing map[string]bool
	repairs   sync.WaitGroup
	// beforeWriteCommit, set by tests, runs between a trigger write's
	// read and its commit (where a node can stall past its lock).
	beforeWriteCommit func()
}

// activeTrigger is a trigger this node runs (or, built in, knows of).
type activeTrigger struct {
	doc   []byte
	route *route
	proc  *processor.Processor
	dlq   *deadletter.Queue
	stats *deliveryStats
	// err is why the trigger could not be started here.
	err error
	// paused is set while a replay or a change has the processor stopped.
	paused bool
	// lane retries the trigger's failed deliveries, while it runs.
	lane *retrier
}

func newRouter(b *Broker) *Router {
	return &Router{b: b, running: map[string]*activeTrigger{}, deletedSeen: map[string]time.Time{},
		pauseSeen: map[string]seenPause{}, resetting: map[string]*sync.Mutex{}, repairing: map[string]bool{}}
}

// start loads the stored triggers, starts them, and keeps reloading them
// every refresh interval, until ctx ends.
func (r *Router) start(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.done = make(chan struct{})
	r.mu.Unlock()
	if r.b.store.Backend() == "pebble" {
		if err := r.dropPauseRows(ctx); err != nil {
			return fmt.Errorf("broker: removing the pause rows an earlier run left: %w", err)
		}
	}
	if err := r.reload(ctx); err != nil {
		return fmt.Errorf("broker: loading the triggers: %w", err)
	}
	go func() {
		defer close(r.done)
		t := time.NewTicker(r.b.o.refresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.reload(ctx); err != nil && ctx.Err() == nil {
					r.b.o.logger.Warn("broker: reloading the triggers failed", "error", err)
				}
				if err := r.sweepDeleted(ctx, time.Now()); err != nil && ctx.Err() == nil {
					r.b.o.logger.Warn("broker: clearing what deleted triggers left failed", "error", err)
				}
			}
		}
	}()
	return nil
}

// stop stops every trigger's processor; their last batches commit.
func (r *Router) stop(ctx context.Context) error {
	r.mu.Lock()
	done := r.done
	r.ctx = nil
	running := r.running
	r.running = map[string]*activeTrigger{}
	r.mu.Unlock()
	if done != nil {
		<-done
	}
	r.repairs.Wait() // they end with the context start was given
	// At once, not one after another: a trigger whose delivery hangs would
	// take the whole deadline, and the others would fail for it.
	errs := make(chan error, len(running))
	for _, t := range running {
		go func() {
			if t.lane != nil {
				t.lane.stop()
			}
			if t.proc != nil {
				errs <- t.proc.Stop(ctx)
				return
			}
			errs <- nil
		}()
	}
	var all []error
	for range running {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// reload brings the running triggers in line with the stored ones.
func (r *Router) reload(ctx context.Context) error {
	r.changing.Lock()
	defer r.changing.Unlock()
	stored, err := r.storedTriggers(ctx)
	if err != nil {
		return err
	}
	replaying, err := r.pausedTriggers(ctx, time.Now())
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.alignLocked(ctx, stored, replaying)
	r.mu.Unlock()
	r.markRetired(ctx)
	return nil
}

// alignLocked starts, restarts, pauses and stops the triggers this node
// runs so that they are the stored ones; r.mu is held.
func (r *Router) alignLocked(ctx context.Context, stored map[string][]byte, replaying map[string]bool) {
	for key, doc := range stored {
		t := r.running[key]
		switch {
		case replaying[key]:
			// A replay is under way on some node: the trigger waits.
			if t == nil || !bytes.Equal(t.doc, doc) {
				r.loadLocked(ctx, key, doc, false)
			} else {
				r.pauseLocked(ctx, t)
			}
		case t != nil && t.paused && r.repairing[key] && bytes.Equal(t.doc, doc):
			// Paused until its segments are moved for its ordering: the
			// repair runs it, loading it again would change nothing.
		case t == nil || !bytes.Equal(t.doc, doc) || t.paused:
			r.runLocked(ctx, key, doc)
		case t.err != nil && t.route != nil:
			// It failed to start (the store was away, say): try again.
			r.runLocked(ctx, key, doc)
		}
	}
	for key, t := range r.running {
		if _, ok := stored[key]; !ok {
			r.stopLocked(ctx, t)
			delete(r.running, key)
		}
	}
}

// runLocked (re)starts the trigger stored as doc; r.mu is held. A trigger
// that cannot start is kept with the reason, which its status shows.
func (r *Router) runLocked(ctx context.Context, key string, doc []byte) {
	r.loadLocked(ctx, key, doc, true)
}

// loadLocked replaces the trigger stored as doc, started when start is
// set, else known and paused; r.mu is held.
func (r *Router) loadLocked(ctx context.Context, key string, doc []byte, start bool) {
	rt, err := compileTrigger(doc, r.b.o.builtinHosts)
	stats := &deliveryStats{}
	if old := r.running[key]; old != nil {
		r.stopLocked(ctx, old)
		if err == nil {
			r.retireLocked(old, rt.UID)
			// A change, a pause or a replay of the same creation goes on
			// counting: the counts are the trigger's, not the processor's.
			if old.route != nil && old.route.UID == rt.UID {
				stats = old.stats
			}
		}
	}
	t := &activeTrigger{doc: doc, stats: stats, paused: !start}
	r.running[key] = t
	if err != nil {
		t.err = fmt.Errorf("the stored trigger %s is invalid: %w", key, err)
		return
	}
	t.route = rt
	if rt.Builtin || r.ctx == nil {
		return
	}
	name := processorName(rt.Namespace, rt.Name, rt.UID)
	if start {
		ok, err := r.sequencedFor(ctx, name, rt)
		if err != nil {
			t.err = fmt.Errorf("reading the sequencing of its segments: %w", err)
			return
		}
		if !ok {
			// Its positions are made for its other ordering: it waits,
			// paused, until they are moved.
			start, t.paused = false, true
			if !r.repairing[key] {
				r.repairing[key] = true
				r.repairs.Add(1)
				go r.repairSequencing(r.ctx, rt.Namespace, rt.Name)
			}
		}
	}
	q, err := deadletter.Open(ctx, r.b.store, name, deadletter.WithPartition(r.b.o.statePartition), deadletter.WithLogger(r.b.o.logger), deadletter.WithNode(r.b.o.nodeID))
	if err != nil {
		t.err = fmt.Errorf("opening the dead-letter queue: %w", err)
		return
	}
	seq := processor.FullConcurrency()
	if rt.Ordered {
		seq = processor.PerKey()
	}
	// Every trigger has a retrier: the deliveries an unordered trigger
	// parked to retry are retried also after a switch to ordered.
	h := &triggerHandler{b: r.b, r: rt, stats: t.stats, oneAttempt: !rt.Ordered && rt.Delivery.Retry > 0}
	h.lane = newRetrier(h, q)
	// The trigger reads the node's shared log reader, filtered: only the
	// events it delivers reach its processor.
	src := newTriggerSource(r.b.hub.log, r.b.store, rt.Match)
	p, err := processor.New(name, r.b.store, src, h,
		processor.WithMode(processor.Pooled),
		processor.WithInitialSegments(r.b.o.segments),
		processor.WithInitialToken(processor.FromHead()),
		processor.WithSequencing(seq),
		// A Pooled processor moves at its slowest segment's pace once that
		// segment is readAhead chunks behind: a deep read-ahead lets the
		// other segments deliver while one waits out a retry.
		processor.WithReadAhead(64),
		processor.WithDeadLetters(q, h.lane.policy),
		processor.WithStatePartition(r.b.o.statePartition),
		processor.WithNodeID(r.b.o.nodeID),
		processor.WithClaimInterval(r.b.o.claimInterval),
		processor.WithLogger(r.b.o.logger),
	)
	if err == nil && start {
		err = p.Start(r.ctx)
	}
	if err != nil {
		t.err = fmt.Errorf("starting processor %s: %w", name, err)
		return
	}
	t.proc, t.dlq = p, q
	if start {
		h.lane.start(r.ctx)
		t.lane = h.lane
	}
}

func (r *Router) stopLocked(ctx context.Context, t *activeTrigger) {
	if t.proc == nil {
		return
	}
	if t.lane != nil {
		t.lane.stop()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := t.proc.Stop(sctx); err != nil {
		r.b.o.logger.Warn("broker: stopping a trigger failed", "processor", t.proc.Name(), "error", err)
	}
}

// RetryResult is what a retry of a trigger's parked events delivered.
type RetryResult struct {
	// Sequences counts the sequences emptied; Events the events of them
	// the subscriber took (a sequence parks the later events of its key
	// behind the first).
	Sequences int `json:"retried"`
	Events    int `json:"events"`
	// DeadLettered counts the events the subscriber refused again that
	// went to the trigger's dead-letter sink (which had failed too when
	// they were parked); Skipped those the trigger's filter, changed
	// since they were parked, no longer takes. Both left the queue.
	DeadLettered int `json:"deadLettered,omitempty"`
	Skipped      int `json:"skipped,omitempty"`
}

// retryTally counts, during an operator's retry (its context carries
// it), the letters its handler let go without the subscriber taking them:
// the processor counts them as handled.
type retryTally struct{ deadLettered, skipped atomic.Int64 }

type retryTallyKey struct{}

// tallyOf is the retryTally of ctx, nil outside an operator's retry.
func tallyOf(ctx context.Context) *retryTally {
	t, _ := ctx.Value(retryTallyKey{}).(*retryTally)
	return t
}

// RetryDeadLetters hands the trigger's dead-lettered events to its
// subscriber again, sequence by sequence, until one fails or none is left;
// it returns what it delivered, and an error that says how many events are
// left when some failed again.
func (r *Router) RetryDeadLetters(ctx context.Context, namespace, name string) (res RetryResult, _ error) {
	t, err := r.parking(namespace, name)
	if err != nil || t.proc == nil {
		return res, err
	}
	tally := new(retryTally)
	ctx = context.WithValue(ctx, retryTallyKey{}, tally)
	defer func() {
		res.DeadLettered, res.Skipped = int(tally.deadLettered.Load()), int(tally.skipped.Load())
		res.Events -= res.DeadLettered + res.Skipped
	}()
	start := time.Now()
	for {
		emptied, handled, err := t.proc.ProcessDeadLetters(ctx)
		// What the handler took: an eviction meanwhile, or an event
		// parked behind meanwhile, moves the queue's size, not this.
		// Those it let go to the sink or for the filter are told apart.
		res.Events += handled
		if err != nil {
			return res, err
		}
		if !emptied {
			break
		}
		res.Sequences++
	}
	// A sequence whose head failed again stays parked: the caller is told.
	left, err := t.dlq.Size(ctx)
	if err != nil {
		return res, err
	}
	if left == 0 {
		return res, nil
	}
	st := t.stats.snapshot()
	if st.LastErrorAt.Before(start) {
		// Nothing failed: what is left was held by another handling of
		// it, which Process passes by.
		if held := heldSequences(ctx, t.dlq); held > 0 {
			return res, &HeldError{Left: left, Sequences: held}
		}
	}
	return res, fmt.Errorf("parked events left: %d; the subscriber failed again (%s)", left, st.LastError)
}

// parking is the trigger namespace/name running here, whose parked events
// an operator looks at, retries or evicts: ErrTriggerNotFound if there is
// none, a TriggerError if the engine serves it (it parks nothing).
func (r *Router) parking(namespace, name string) (*activeTrigger, error) {
	r.mu.Lock()
	t := r.running[namespace+"/"+name]
	r.mu.Unlock()
	switch {
	case t == nil:
		return nil, fmt.Errorf("%w: %s/%s", ErrTriggerNotFound, namespace, name)
	case t.route != nil && t.route.Builtin:
		return nil, &TriggerError{Reason: fmt.Sprintf("trigger %s/%s is served by the engine itself (its subscriber is the Zeebe CloudEvents router): it parks no events", namespace, name)}
	}
	return t, nil
}

// HeldError is a retry of parked events that left some because another
// handling of them held them: a scheduled retry, another operator's retry
// (on any node), or one a node stopped in, whose lease lapses within the
// dead-letter queue's claim duration.
type HeldError struct{ Left, Sequences int }

func (e *HeldError) Error() string {
	return fmt.Sprintf("parked events left: %d; %d of their sequences are being handled meanwhile (a scheduled retry, another retry of them, or a node that stopped in one, whose hold lapses within %v): retry once that is done",
		e.Left, e.Sequences, deadletter.DefaultClaimDuration)
}

// heldSequences counts the sequences of q that a Process call holds.
func heldSequences(ctx context.Context, q *deadletter.Queue) int {
	infos, err := q.Sequences(ctx)
	if err != nil {
		return 0
	}
	n := 0
	for _, info := range infos {
		if info.Processing {
			n++
		}
	}
	return n
}

// TriggerError is a trigger document that cannot be used, and why.
type TriggerError struct{ Reason string }

func (e *TriggerError) Error() string { return e.Reason }
