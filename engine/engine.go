package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"eddy/record"
	"eddy/storage"
)

// Engine runs the partitions this node owns and is the API every front end
// (REST, gRPC, CLI) calls. Each method sends a command to the partition
// that owns the entity and returns once its effects are durable.
type Engine struct {
	store  *storage.Store
	parts  map[int]*partition
	ids    []int
	limits Limits
	clock  func() time.Time
	log    *slog.Logger
	rr     atomic.Uint64 // spreads new instances and signals over the partitions
	// activateRR picks where a job activation starts looking: a counter of
	// its own, since every wake-up of a long poll advances it and would
	// otherwise send every new instance to the same partition.
	activateRR atomic.Uint64
	// unreachableUntil is, by partition, until when job activations pass
	// another node's partition by (Unix nanoseconds): one they could not
	// reach (see ActivateJobs).
	unreachableUntil []atomic.Int64

	jobsMu   sync.Mutex
	jobsWake chan struct{} // closed when jobs may have become activatable

	outcomes *outcomes
	peers    Peers

	failOnce sync.Once
	failed   chan struct{} // closed when a partition stopped on an error
	failErr  error

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Options configure an engine.
type Options struct {
	// Epochs are the partitions this node writes, with their ownership
	// epochs (see storage.Ownership).
	Epochs map[int]uint64
	Limits Limits
	Clock  func() time.Time
	Logger *slog.Logger
	// Peers, if set, reach the partitions other nodes own.
	Peers Peers
}

// Rejection is a command the engine refused, with Zeebe's rejection type.
type Rejection struct {
	Type   record.RejectionType
	Reason string
}

func (r *Rejection) Error() string { return r.Reason }

// ErrNoPartition is returned when this node owns no partition that can take
// a command.
var ErrNoPartition = errors.New("no partition on this node can take the request")

// errStopped says a command was not processed because its partition
// stopped: it is safe to send again, elsewhere or later.
func errStopped(p int) error { return fmt.Errorf("%w: partition %d is stopped", ErrNoPartition, p) }

// Start loads the owned partitions' state and starts their loops.
func Start(ctx context.Context, store *storage.Store, opts Options) (*Engine, error) {
	e := &Engine{store: store, parts: map[int]*partition{}, limits: opts.Limits, clock: opts.Clock, log: opts.Logger, jobsWake: make(chan struct{}), peers: opts.Peers, failed: make(chan struct{}),
		unreachableUntil: make([]atomic.Int64, store.Partitions())}
	if e.limits == (Limits{}) {
		e.limits = DefaultLimits
	}
	if e.clock == nil {
		e.clock = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	runCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.outcomes = newOutcomes(e)
	for p := 0; p < store.Partitions(); p++ {
		epoch, ok := opts.Epochs[p]
		if !ok {
			continue
		}
		part := &partition{id: p, e: e, epoch: epoch, inputs: make(chan input, 4*maxBatch), log: e.log}
		if err := part.start(ctx); err != nil {
			cancel()
			return nil, err
		}
		e.parts[p] = part
		e.ids = append(e.ids, p)
	}
	for _, part := range e.parts {
		part := part
		e.wg.Add(1)
		go func() { defer e.wg.Done(); part.run(runCtx) }()
		for q := 0; q < store.Partitions(); q++ {
			if q != part.id {
				q := q
				e.wg.Add(1)
				go func() { defer e.wg.Done(); part.readInbox(runCtx, q) }()
			}
		}
	}
	e.outcomes.start(runCtx)
	return e, nil
}

// Close stops the partitions; the store stays open.
func (e *Engine) Close() {
	e.cancel()
	e.wg.Wait()
	e.outcomes.wait()
}

// Failed is closed when one of the engine's partitions stopped because a
// commit failed: the engine must be closed and started again (it loads the
// partitions' state from storage), unless the failure was a fencing — the
// partition belongs to another node now. FailedErr says why.
func (e *Engine) Failed() <-chan struct{} { return e.failed }

// FailedErr is the error that stopped a partition, once Failed is closed.
func (e *Engine) FailedErr() error {
	select {
	case <-e.failed:
		return e.failErr
	default:
		return nil
	}
}

func (e *Engine) partitionFailed(p int, err error) {
	e.failOnce.Do(func() {
		e.failErr = fmt.Errorf("partition %d: %w", p, err)
		close(e.failed)
	})
}

// Partitions returns the partitions this engine runs.
func (e *Engine) Partitions() []int { return append([]int(nil), e.ids...) }

// Forwards reports whether requests for partitions this engine does not run
// go to the nodes that run them (it has Peers): such an engine serves every
// request, with partitions of its own or none.
func (e *Engine) Forwards() bool { return e.peers != nil }

// Store returns the storage the engine runs on.
func (e *Engine) Store() *storage.Store { return e.store }

// send runs cmd on partition p and waits for the outcome.
func (e *Engine) send(ctx context.Context, p int, cmd record.Record) (Response, error) {
	part, ok := e.parts[p]
	if !ok {
		if e.peers == nil || p < 0 || p >= e.store.Partitions() {
			return Response{}, fmt.Errorf("%w: partition %d", ErrNoPartition, p)
		}
		cmd.Kind, cmd.Partition, cmd.Target = record.Command, p, p
		r, err := e.peers.Send(ctx, p, cmd)
		if err != nil {
			return Response{}, err
		}
		if r.Rejected() {
			return r, &Rejection{Type: r.Rejection, Reason: r.Reason}
		}
		return r, nil
	}
	return e.sendLocal(ctx, part, p, cmd)
}

func (e *Engine) sendLocal(ctx context.Context, part *partition, p int, cmd record.Record) (Response, error) {
	cmd.Kind, cmd.Partition, cmd.Target = record.Command, p, p
	done := doneChans.Get().(chan result)
	if err := part.queue(ctx, input{cmd: cmd, reply: reply{done: done}}); err != nil {
		doneChans.Put(done)
		return Response{}, err
	}
	// Once queued, the command's outcome is waited for: leaving earlier
	// would report a failure for a command that may yet succeed. Every
	// input queued is answered (partition.queue).
	r := <-done
	doneChans.Put(done)
	if r.err != nil {
		return Response{}, r.err
	}
	return r.resp, r.error() // a rejection comes with its response
}

// query runs fn in partition p's loop, between batches.
func (e *Engine) query(ctx context.Context, p int, fn func(*Core)) error {
	part, ok := e.parts[p]
	if !ok {
		return fmt.Errorf("%w: partition %d", ErrNoPartition, p)
	}
	done := make(chan result, 1)
	if err := part.queue(ctx, input{query: fn, reply: reply{done: done}}); err != nil {
		return err
	}
	return (<-done).err
}

// next picks a partition for a new entity, round robin over this node's
// partitions, or over all of them when this node owns none and peers can
// take the work.
func (e *Engine) next() int {
	if len(e.ids) == 0 {
		if e.peers != nil && e.store.Partitions() > 0 {
			return int(e.rr.Add(1) % uint64(e.store.Partitions()))
		}
		return -1
	}
	return e.ids[e.rr.Add(1)%uint64(len(e.ids))]
}

// partitionOfKey returns the partition of an entity key, checked.
func (e *Engine) partitionOfKey(key int64, what string) (int, error) {
	if err := record.CheckKey(key, e.store.Partitions()); err != nil {
		return 0, &Rejection{Type: record.NotFound, Reason: fmt.Sprintf("Expected to find %s with key '%d', but %v", what, key, err)}
	}
	return record.PartitionOf(key), nil
}

// published is called by a partition after a commit.
func (e *Engine) published(recs []record.Record) {
	wake := false
	for i := range recs {
		r := &recs[i]
		if r.ValueType == record.Job && (r.Intent == record.Created || r.Intent == record.TimedOut || r.Intent == record.RecurredAfterBackoff || r.Intent == record.Failed || r.Intent == record.RetriesUpdated) {
			wake = true
		}
		if r.ValueType == record.Incident && r.Intent == record.Resolved {
			wake = true
		}
	}
	if wake {
		e.jobsMu.Lock()
		close(e.jobsWake)
		e.jobsWake = make(chan struct{})
		e.jobsMu.Unlock()
	}
}

func (e *Engine) jobsChanged() <-chan struct{} {
	e.jobsMu.Lock()
	defer e.jobsMu.Unlock()
	return e.jobsWake
}

// doneChans recycles the channels requests wait on: one per command is a
// sizeable allocation on the hot path. A channel goes back only once its
// answer was received, so a late answer never lands in a reused one.
var doneChans = sync.Pool{New: func() any { return make(chan result, 1) }}
