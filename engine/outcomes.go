package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"eddy/record"
	"eddy/storage"
)

// Waiting for a process's outcome (create-with-result, publish-with-result)
// is a subscription to the log: the end of each process instance and each
// message correlation reach whoever waits for them. A node's own
// partitions hand over their records in memory once they are durable; the
// other nodes' partitions are followed through their logs, which any node
// can read, so the waiting needs no singleton and no side channel.

// Outcome is how a process instance ended.
type Outcome struct {
	ProcessInstanceKey   int64
	BpmnProcessID        string
	Version              int32
	ProcessDefinitionKey int64
	Completed            bool // false: terminated (cancelled)
	Variables            json.RawMessage
}

// ErrTimeout is returned when an outcome did not come in time; the process
// goes on.
var ErrTimeout = errors.New("timed out waiting for the process instance to end")

// ErrNotCorrelated is returned when a message waited for expired without
// correlating to any process instance: none waited for it, and no process
// started on it (none starts on it, or an instance it started with its
// correlation key was still active). It was published all the same.
var ErrNotCorrelated = errors.New("the message expired without correlating to a process instance")

// notCorrelated is the instance key a wait for a correlation gives for a
// message that expired uncorrelated (no instance key is 0).
const notCorrelated int64 = 0

// notCorrelatedError is the ErrNotCorrelated of message key.
func notCorrelatedError(key int64) error {
	return fmt.Errorf("%w: message %d: its time to live ran out with no instance waiting for it and no process started on it (none has a start event for it, or the instance one started with this correlation key was still active)", ErrNotCorrelated, key)
}

// timeoutError is an ErrTimeout in its own words: what was waited for, and
// what goes on.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string        { return e.msg }
func (e *timeoutError) Is(target error) bool { return target == ErrTimeout }

// instanceTimeout is the ErrTimeout of a wait for instance key's end.
func instanceTimeout(key int64, timeout time.Duration) error {
	return &timeoutError{fmt.Sprintf("%v: instance %d after %v; the process instance goes on", ErrTimeout, key, timeout)}
}

// correlationTimeout is the ErrTimeout of a wait for message key's
// correlation: no instance is known to go on.
func correlationTimeout(key int64, timeout time.Duration) error {
	return &timeoutError{fmt.Sprintf("timed out waiting for message %d to be correlated: no process instance took it within %v (a message with a time to live waits for one until it ends)", key, timeout)}
}

// board hands values to waiters by key; a value that arrives before its
// waiter is kept a while, since a short process can end in the very batch
// that created it, and is given to every waiter of its key: two requests
// may wait for one instance (a create-with-result, and a publish-with-
// result of the message that ends it).
type board[T any] struct {
	mu      sync.Mutex
	waiters map[int64][]chan T
	recent  map[int64]T
	order   []int64
}

const recentOutcomes = 10000

func newBoard[T any]() *board[T] {
	return &board[T]{waiters: map[int64][]chan T{}, recent: map[int64]T{}}
}

// deliver hands v to key's waiters and keeps it for those to come; the
// first value of a key is the one kept.
func (b *board[T]) deliver(key int64, v T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.recent[key]; dup {
		return
	}
	for _, ch := range b.waiters[key] {
		ch <- v
	}
	delete(b.waiters, key)
	b.recent[key] = v
	b.order = append(b.order, key)
	if len(b.order) > recentOutcomes {
		delete(b.recent, b.order[0])
		b.order = b.order[1:]
	}
}

func (b *board[T]) await(ctx context.Context, key int64, timeout time.Duration) (T, bool, error) {
	v, ch, ok := b.register(key)
	if ok {
		return v, true, nil
	}
	return b.wait(ctx, key, ch, timeout)
}

// register makes a waiter for key, unless its value came already: then it
// gives that.
func (b *board[T]) register(key int64) (T, chan T, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.recent[key]; ok {
		return v, nil, true
	}
	ch := make(chan T, 1)
	b.waiters[key] = append(b.waiters[key], ch)
	return *new(T), ch, false
}

// unregister removes the waiter ch of key, and no other.
func (b *board[T]) unregister(key int64, ch chan T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ws := slices.DeleteFunc(b.waiters[key], func(w chan T) bool { return w == ch })
	if len(ws) == 0 {
		delete(b.waiters, key)
		return
	}
	b.waiters[key] = ws
}

// wait waits on key's waiter ch (register) until its value comes, timeout
// passes or ctx ends, and then removes it.
func (b *board[T]) wait(ctx context.Context, key int64, ch chan T, timeout time.Duration) (T, bool, error) {
	var zero T
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case v := <-ch:
		return v, true, nil
	case <-t.C:
	case <-ctx.Done():
	}
	b.unregister(key, ch)
	select {
	case v := <-ch:
		return v, true, nil
	default:
	}
	return zero, false, ctx.Err()
}

// outcomes gathers the ends of process instances and message
// correlations: handed over by local partitions, read from the logs of
// other nodes' partitions.
type outcomes struct {
	e            *Engine
	ends         *board[Outcome]
	correlations *board[int64] // message key → process instance key
	// expiries holds the messages that expired uncorrelated, apart from
	// the correlations so that many of them (an hour after a burst of
	// CloudEvents no instance took) crowd out no correlation a waiter
	// has yet to pick up.
	expiries *board[struct{}]
	wg       sync.WaitGroup
}

func newOutcomes(e *Engine) *outcomes {
	return &outcomes{e: e, ends: newBoard[Outcome](), correlations: newBoard[int64](), expiries: newBoard[struct{}]()}
}

// start follows the logs of the partitions other nodes hold; this node's
// partitions hand their records over as they commit them (hand), which
// spares a read of everything they write.
func (o *outcomes) start(ctx context.Context) {
	for p := 0; p < o.e.store.Partitions(); p++ {
		if _, local := o.e.parts[p]; local {
			continue
		}
		b, err := o.e.store.Bounds(ctx, p)
		if err != nil {
			o.e.log.Error("cannot follow partition for outcomes", "partition", p, "err", err)
			continue
		}
		tail, err := o.e.store.Tail(p, b.Last+1)
		if err != nil {
			continue
		}
		o.wg.Add(1)
		go func() { defer o.wg.Done(); o.follow(ctx, tail) }()
	}
}

func (o *outcomes) wait() { o.wg.Wait() }

func (o *outcomes) follow(ctx context.Context, tail *storage.Tail) {
	for ctx.Err() == nil {
		_, err := tail.Next(ctx, 4096, func(e storage.Entry) error { return o.see(e.Data) })
		if err != nil && ctx.Err() == nil {
			o.e.log.Error("following the log for outcomes", "err", err)
			return
		}
	}
}

// isOutcome reports whether a record with this header is the end of an
// element or a message correlation, the records outcome waiters need.
func isOutcome(h record.Header) bool {
	switch {
	case h.Kind != record.Event:
		return false
	case h.ValueType == record.ProcessInstance:
		return h.Intent == record.ElementCompleted || h.Intent == record.ElementTerminated
	case h.ValueType == record.ProcessMessageSubscription || h.ValueType == record.MessageStartEventSubscription:
		return h.Intent == record.Correlated
	case h.ValueType == record.Message:
		return h.Intent == record.Expired
	}
	return false
}

// isCorrelation reports whether a record with this header correlates a
// message to an instance: a waiting one's, or a start event's.
func isCorrelation(h record.Header) bool {
	return h.Kind == record.Event && h.Intent == record.Correlated &&
		(h.ValueType == record.ProcessMessageSubscription || h.ValueType == record.MessageStartEventSubscription)
}

// wantsOutcome is isOutcome on a decoded record: of the elements that end,
// only the process itself.
func wantsOutcome(r *record.Record) bool {
	h := record.Header{Kind: r.Kind, ValueType: r.ValueType, Intent: r.Intent}
	return isOutcome(h) && (r.ValueType != record.ProcessInstance || r.Value.ElementType == "PROCESS")
}

// see decodes entry data of another node's partition if its header says
// it may matter to a waiter, and hands it over.
func (o *outcomes) see(data []byte) error {
	if h, ok := record.PeekHeader(data); !ok || !isOutcome(h) {
		return nil
	}
	var r record.Record
	if err := record.Unmarshal(data, &r); err != nil {
		return err
	}
	o.hand(&r)
	return nil
}

// hand gives the end of a process instance, or a message correlation, to
// whoever waits for it. Local partitions call it with the records of each
// step once it is durable, which spares decoding what they just encoded.
func (o *outcomes) hand(r *record.Record) {
	if !wantsOutcome(r) {
		return
	}
	switch r.ValueType {
	case record.ProcessInstance:
		o.ends.deliver(r.Key, outcomeOf(r))
	case record.Message:
		// Its waiters need not wait out their time.
		if r.Value.Uncorrelated {
			o.expiries.deliver(r.Key, struct{}{})
		}
	default:
		o.correlations.deliver(r.Value.MessageKey, r.Value.ProcessInstanceKey)
	}
}

// outcomeOf is the outcome a process instance's end record says.
func outcomeOf(r *record.Record) Outcome {
	return Outcome{ProcessInstanceKey: r.Key, BpmnProcessID: r.Value.BpmnProcessID, Version: r.Value.Version,
		ProcessDefinitionKey: r.Value.ProcessDefinitionKey, Completed: r.Intent == record.ElementCompleted, Variables: r.Value.Variables}
}

// await waits for instance key to end.
func (o *outcomes) await(ctx context.Context, key int64, timeout time.Duration) (Outcome, error) {
	out, ok, err := o.ends.await(ctx, key, timeout)
	if err != nil {
		return Outcome{}, err
	}
	if !ok {
		return Outcome{}, instanceTimeout(key, timeout)
	}
	return out, nil
}

// AwaitInstance waits, as CreateInstanceWithResult does, for the instance
// created as created to end, where an earlier engine of this node waited
// and was replaced (an engine switch) before the end came. The end may
// have been written meanwhile, when neither engine was there to hand it
// over: it is looked for in the instance's partition's log, from the
// creation (its position, or where the log was at since less a margin for
// the nodes' clocks when the creation came from another node and carries
// none), before the wait. The wait ends at since+timeout: timeout is the
// request's, which its errors name.
func (e *Engine) AwaitInstance(ctx context.Context, created record.Record, since time.Time, fetch []string, timeout time.Duration) (Outcome, error) {
	key := created.Key
	out, ch, came := e.outcomes.ends.register(key)
	if !came {
		var err error
		out, came, err = e.outcomes.lookBack(ctx, key, created.Position, since)
		if err != nil || came {
			e.outcomes.ends.unregister(key, ch)
		} else {
			out, came, err = e.outcomes.ends.wait(ctx, key, ch, time.Until(since.Add(timeout)))
		}
		if err != nil {
			return Outcome{}, err
		}
		if !came {
			return Outcome{}, instanceTimeout(key, timeout)
		}
	}
	out.Variables = filterVariables(out.Variables, fetch)
	return out, nil
}

// Acquire hands out the current engine of a node that replaces its engine
// when its partitions change, a context that ends when that engine is
// about to be replaced, and the function that lets it go.
type Acquire func(ctx context.Context) (*Engine, context.Context, func())

// AwaitInstanceAcross is AwaitInstance on the engines acquire hands out:
// when a replacement cuts the wait short it waits on the next engine, tries
// times in all, until since+timeout. Cut short at every try, it returns
// the context's error (context.Canceled) while ctx has not ended.
func AwaitInstanceAcross(ctx context.Context, acquire Acquire, created record.Record, since time.Time, fetch []string, timeout time.Duration, tries int) (Outcome, error) {
	for try := 1; ; try++ {
		e, reqCtx, release := acquire(ctx)
		out, err := e.AwaitInstance(reqCtx, created, since, fetch, timeout)
		again := err != nil && reqCtx.Err() != nil && ctx.Err() == nil
		release()
		if !again || try >= tries {
			return out, err
		}
	}
}

// clockMargin is how far before a request's start another node's record
// of it may be stamped: the nodes' clocks differ by this much at most.
const clockMargin = 5 * time.Second

// lookBack reads instance key's partition from its creation (at position
// from, or where the log was at since less clockMargin when from is 0) to
// the log's head, for the instance's end.
func (o *outcomes) lookBack(ctx context.Context, key int64, from uint64, since time.Time) (Outcome, bool, error) {
	p := record.PartitionOf(key)
	if p >= o.e.store.Partitions() {
		return Outcome{}, false, fmt.Errorf("instance %d: no partition %d", key, p)
	}
	r, found, err := o.scan(ctx, p, from, since, func(h record.Header) bool { return h.ValueType == record.ProcessInstance },
		func(r *record.Record) bool { return r.Key == key })
	if err != nil {
		return Outcome{}, false, fmt.Errorf("looking for the end of instance %d: %w", key, err)
	}
	if !found {
		return Outcome{}, false, nil
	}
	return outcomeOf(&r), true, nil
}

// scan reads partition p from position from (or, when from is 0, from
// where the log was at since less clockMargin) to its head for the first
// outcome record (wantsOutcome) whose header passes peek and that match
// takes.
func (o *outcomes) scan(ctx context.Context, p int, from uint64, since time.Time, peek func(record.Header) bool, match func(*record.Record) bool) (record.Record, bool, error) {
	if from == 0 {
		pos, err := o.e.store.SeekTime(ctx, p, since.Add(-clockMargin))
		if err != nil {
			return record.Record{}, false, err
		}
		from = pos
	}
	b, err := o.e.store.Bounds(ctx, p)
	if err != nil {
		return record.Record{}, false, err
	}
	if from > b.Last {
		return record.Record{}, false, nil
	}
	var got record.Record
	found := errors.New("found")
	err = o.e.store.Read(ctx, p, from, int(b.Last+1-from), func(en storage.Entry) error {
		if h, ok := record.PeekHeader(en.Data); !ok || !isOutcome(h) || !peek(h) {
			return nil
		}
		var r record.Record
		if err := record.Unmarshal(en.Data, &r); err != nil {
			return err
		}
		if !wantsOutcome(&r) || !match(&r) {
			return nil
		}
		got = r
		return found
	})
	if errors.Is(err, found) {
		return got, true, nil
	}
	return record.Record{}, false, err
}

// CreateInstanceWithResult creates an instance and waits until it ends,
// returning its variables (only FetchVariables, if given).
func (e *Engine) CreateInstanceWithResult(ctx context.Context, req CreateRequest, timeout time.Duration) (record.Record, Outcome, error) {
	created, err := e.CreateInstance(ctx, req)
	if err != nil {
		return record.Record{}, Outcome{}, err
	}
	out, err := e.outcomes.await(ctx, created.Key, timeout)
	if err != nil {
		return created, Outcome{}, err
	}
	out.Variables = filterVariables(out.Variables, req.FetchVariables)
	return created, out, nil
}

// PublishWithResult publishes a message and waits until the process
// instance it correlated to (or started) ends. Eddy's own extension.
func (e *Engine) PublishWithResult(ctx context.Context, m PublishRequest, timeout time.Duration) (record.Record, Outcome, error) {
	begin := time.Now()
	pub, err := e.Publish(ctx, m)
	if err != nil {
		return record.Record{}, Outcome{}, err
	}
	key, ok, err := e.outcomes.awaitCorrelation(ctx, pub.Key, timeout, nil)
	if err != nil {
		return pub, Outcome{}, err
	}
	if !ok {
		return pub, Outcome{}, correlationTimeout(pub.Key, timeout)
	}
	if key == notCorrelated {
		return pub, Outcome{}, notCorrelatedError(pub.Key)
	}
	out, ok, err := e.outcomes.ends.await(ctx, key, timeout-time.Since(begin))
	if err == nil && !ok {
		err = instanceTimeout(key, timeout)
	}
	if err != nil {
		// The caller can still name the instance that goes on running.
		return pub, Outcome{ProcessInstanceKey: key}, err
	}
	return pub, out, nil
}

func filterVariables(vars json.RawMessage, names []string) json.RawMessage {
	if len(names) == 0 || len(vars) == 0 {
		return vars
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(vars, &all) != nil {
		return vars
	}
	out := make(map[string]json.RawMessage, len(names))
	for _, n := range names {
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return mustJSON(out)
}
