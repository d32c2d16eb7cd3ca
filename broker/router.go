package broker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"eddy/processor"
	"eddy/processor/deadletter"
	"eddy/storage"
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
	done     chan struct{}
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
	// paused is set while a replay has the processor stopped.
	paused bool
}

func newRouter(b *Broker) *Router {
	return &Router{b: b, running: map[string]*activeTrigger{}}
}

// start loads the stored triggers, starts them, and keeps reloading them
// every refresh interval, until ctx ends.
func (r *Router) start(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.done = make(chan struct{})
	r.mu.Unlock()
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
	var errs []error
	for _, t := range running {
		if t.proc != nil {
			errs = append(errs, t.proc.Stop(ctx))
		}
	}
	return errors.Join(errs...)
}

// reload brings the running triggers in line with the stored ones.
func (r *Router) reload(ctx context.Context) error {
	r.changing.Lock()
	defer r.changing.Unlock()
	stored, err := r.storedTriggers(ctx)
	if err != nil {
		return err
	}
	replaying, err := r.replaying(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
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
	return nil
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
	if old := r.running[key]; old != nil {
		r.stopLocked(ctx, old)
		if err == nil {
			r.retireLocked(ctx, old, rt.UID)
		}
	}
	t := &activeTrigger{doc: doc, stats: &deliveryStats{}, paused: !start}
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
	q, err := deadletter.Open(ctx, r.b.store, name, deadletter.WithPartition(r.b.o.statePartition), deadletter.WithLogger(r.b.o.logger))
	if err != nil {
		t.err = fmt.Errorf("opening the dead-letter queue: %w", err)
		return
	}
	seq := processor.FullConcurrency()
	if rt.Ordered {
		seq = processor.PerKey()
	}
	h := &triggerHandler{b: r.b, r: rt, stats: t.stats}
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
		processor.WithDeadLetters(q, nil),
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
}

func (r *Router) stopLocked(ctx context.Context, t *activeTrigger) {
	if t.proc == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := t.proc.Stop(sctx); err != nil {
		r.b.o.logger.Warn("broker: stopping a trigger failed", "processor", t.proc.Name(), "error", err)
	}
}

// Put creates or replaces the trigger namespace/name with doc, a Trigger
// in YAML or JSON (Knative's shape; metadata.name and namespace may be
// left out, or must match). A doc that names a metadata.resourceVersion
// replaces the trigger only if it is still at that version (else a
// *ConflictError). It is durable and running when Put returns; created
// says whether it is new.
func (r *Router) Put(ctx context.Context, namespace, name string, doc []byte) (created bool, err error) {
	ts, err := parseTriggersIn(doc, namespace)
	if err != nil {
		return false, &TriggerError{Reason: err.Error()}
	}
	if len(ts) != 1 {
		return false, &TriggerError{Reason: fmt.Sprintf("the body holds %d triggers: PUT one", len(ts))}
	}
	t := ts[0]
	if (t.Name != "" && t.Name != name) || t.Namespace != namespace {
		return false, &TriggerError{Reason: fmt.Sprintf("the body is trigger %s/%s but the path names %s/%s", t.Namespace, t.Name, namespace, name)}
	}
	return r.storeAndResequence(ctx, t)
}

// storeAndResequence stores t and, when that switched it between ordered
// and unordered delivery, resets its segments to the lowest of their
// positions (lowestToken), so that the switch skips no event.
func (r *Router) storeAndResequence(ctx context.Context, t parsedTrigger) (bool, error) {
	old, err := r.store(ctx, t)
	if err != nil || old == nil {
		return old == nil && err == nil, err
	}
	before, berr := compileTrigger(old, r.b.o.builtinHosts)
	after, aerr := compileTrigger(t.Doc, r.b.o.builtinHosts)
	if berr != nil || aerr != nil || before.Ordered == after.Ordered || before.Builtin || after.Builtin {
		return false, nil
	}
	r.mu.Lock()
	running := r.ctx != nil
	r.mu.Unlock()
	if !running {
		// Not started here: the nodes that run it keep their positions.
		r.b.o.logger.Warn("broker: a trigger's ordering changed while this node's router is stopped; its segments keep their positions", "trigger", t.Namespace+"/"+t.Name)
		return false, nil
	}
	name := processorName(t.Namespace, t.Name, before.UID)
	if err := r.reset(ctx, t.Namespace, t.Name, "resequence", r.lowestToken(name)); err != nil {
		return false, fmt.Errorf("trigger %s/%s is stored, but moving its segments to the lowest of their positions for the new ordering failed (events between them may be skipped): %w", t.Namespace, t.Name, err)
	}
	return false, nil
}

// Apply creates or replaces every trigger of a YAML stream (such as a file
// of Knative Triggers separated by ---), whatever resourceVersion they
// name. Nothing is stored if one of them is invalid.
func (r *Router) Apply(ctx context.Context, yamlOrJSON []byte) error {
	ts, err := parseTriggers(yamlOrJSON)
	if err != nil {
		return &TriggerError{Reason: err.Error()}
	}
	for _, t := range ts {
		t.Resource.Metadata.ResourceVersion = ""
		if _, err := r.storeAndResequence(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// store stores t and runs it; it returns the document t replaced, nil
// when t is new. A resourceVersion in t is a precondition: the trigger is
// changed only if it is stored at that version, else a *ConflictError.
func (r *Router) store(ctx context.Context, t parsedTrigger) (old []byte, err error) {
	r.changing.Lock()
	defer r.changing.Unlock()
	old, doc, err := r.write(ctx, t)
	if err != nil || bytes.Equal(old, doc) {
		return old, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx != nil {
		r.runLocked(r.ctx, t.Namespace+"/"+t.Name, doc)
	}
	return old, nil
}

// write stores t's row, holding the trigger writes lock from the read to
// the commit; it returns the row before and after (the same when t
// changes nothing).
func (r *Router) write(ctx context.Context, t parsedTrigger) (old, doc []byte, err error) {
	key := t.Namespace + "/" + t.Name
	l, err := r.lockWrites(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer l.unlock()
	old, _, err = r.storedTrigger(ctx, t.Namespace, t.Name)
	if err != nil {
		return nil, nil, err
	}
	// A new trigger gets an identity; a changed one keeps its own, one
	// generation on.
	id := newIdentity(time.Now())
	if old != nil {
		if id, err = identityOf(old); err != nil {
			return nil, nil, fmt.Errorf("trigger %s: %w", key, err)
		}
	}
	if want := t.Resource.Metadata.ResourceVersion; want != "" && (old == nil || want != id.ResourceVersion) {
		return nil, nil, conflict(key, want, old != nil, id.ResourceVersion)
	}
	if doc, err = t.stamped(id); err != nil || bytes.Equal(old, doc) {
		return old, doc, err
	}
	if old != nil {
		id.Generation++
	}
	id.ResourceVersion = newResourceVersion(time.Now())
	if doc, err = t.stamped(id); err != nil {
		return nil, nil, err
	}
	if err := l.commit(ctx, func(b *storage.Batch) { b.Put(triggerKey(t.Namespace, t.Name), doc) }); err != nil {
		return nil, nil, fmt.Errorf("storing trigger %s: %w", key, err)
	}
	return old, doc, nil
}

// RetryDeadLetters hands the trigger's dead-lettered events to its
// subscriber again, sequence by sequence, until one fails or none is left;
// it returns how many sequences it emptied, and an error that says how
// many events are left when some failed again.
func (r *Router) RetryDeadLetters(ctx context.Context, namespace, name string) (int, error) {
	r.mu.Lock()
	t := r.running[namespace+"/"+name]
	r.mu.Unlock()
	if t == nil {
		return 0, fmt.Errorf("%w: %s/%s", ErrTriggerNotFound, namespace, name)
	}
	if t.proc == nil {
		return 0, nil
	}
	n := 0
	for {
		emptied, err := t.proc.ProcessDeadLetters(ctx)
		if err != nil {
			return n, err
		}
		if !emptied {
			break
		}
		n++
	}
	// A sequence whose head failed again stays parked: the caller is told.
	left, err := t.dlq.Size(ctx)
	if err != nil || left == 0 {
		return n, err
	}
	return n, fmt.Errorf("parked events left: %d; the subscriber failed again (%s)", left, t.stats.snapshot().LastError)
}

// ConflictError is a PUT or DELETE whose preconditions (resourceVersion,
// uid) the trigger does not meet.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return e.Reason }

func conflict(key, want string, exists bool, have string) error {
	if !exists {
		return &ConflictError{Reason: fmt.Sprintf("trigger %s does not exist, and the PUT names resourceVersion %q: it was deleted since it was read (leave metadata.resourceVersion out to create it)", key, want)}
	}
	return &ConflictError{Reason: fmt.Sprintf("trigger %s is at resourceVersion %q, not %q: it changed since it was read; read it again and make the change to that (or leave metadata.resourceVersion out to replace it whatever it is)", key, have, want)}
}

// TriggerError is a trigger document that cannot be used, and why.
type TriggerError struct{ Reason string }

func (e *TriggerError) Error() string { return e.Reason }
