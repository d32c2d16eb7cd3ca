package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"eddy/record"
)

// Peers reach the partitions other nodes own, when several nodes share one
// store: a command or query for such a partition is forwarded to its
// owner, so that any node accepts any request. The cluster package
// implements it over HTTP.
type Peers interface {
	// Send processes cmd on partition p at its owner and returns the
	// owner's answer; a rejection comes back as a Response, not an error.
	Send(ctx context.Context, p int, cmd record.Record) (Response, error)
	InstanceState(ctx context.Context, p int, key int64) (InstanceState, error)
	// Incidents returns the open incidents of partition p, unsorted.
	Incidents(ctx context.Context, p int, q IncidentQuery) ([]Incident, error)
	// AwaitDefinitions waits, up to wait, until partition p holds every
	// process definition of keys (a deployment made on another
	// partition), and reports whether it does. An owner that cannot
	// answer this at all gives an error wrapping errors.ErrUnsupported.
	AwaitDefinitions(ctx context.Context, p int, keys []int64, wait time.Duration) (bool, error)
}

type noOwnerWaitKey struct{}

// WithoutOwnerWait marks a request that asks Peers not to wait for a
// partition changing hands (no owner yet, or one that cannot be reached):
// it fails at once with ErrNoPartition instead. A job activation passes
// such a partition by and takes the other partitions' jobs, as Zeebe's
// gateway passes a partition without a leader by.
func WithoutOwnerWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, noOwnerWaitKey{}, true)
}

// OwnerWaitSkipped reports whether ctx was made by WithoutOwnerWait.
func OwnerWaitSkipped(ctx context.Context) bool {
	skip, _ := ctx.Value(noOwnerWaitKey{}).(bool)
	return skip
}

// allPartitions lists every partition of the store.
func (e *Engine) allPartitions() []int {
	all := make([]int, e.store.Partitions())
	for i := range all {
		all[i] = i
	}
	return all
}

// The Serve methods answer a peer's forwarded request on this node's own
// partitions only: a request is forwarded once, never onwards.

// ServeCommand processes a forwarded command on local partition p.
func (e *Engine) ServeCommand(ctx context.Context, p int, cmd record.Record) (Response, error) {
	part, ok := e.parts[p]
	if !ok {
		return Response{}, fmt.Errorf("%w: partition %d", ErrNoPartition, p)
	}
	if !forwardable(&cmd) {
		// Answered as the loop answers a rejection: in the response too.
		reason := fmt.Sprintf("a %s %s command cannot be forwarded: partitions send it to each other only through the log", cmd.ValueType, cmd.Intent)
		return Response{Rejection: record.InvalidArgument, Reason: reason}, &Rejection{Type: record.InvalidArgument, Reason: reason}
	}
	return e.sendLocal(ctx, part, p, cmd)
}

// forwardable reports whether cmd is one the Engine's API sends: only those
// are taken from a peer. The commands partitions exchange through their
// logs (subscriptions, correlations, deployment distribution) would let a
// caller bypass the checks that precede them.
func forwardable(cmd *record.Record) bool {
	switch cmd.ValueType {
	case record.Deployment:
		return cmd.Intent == record.Create && !cmd.Value.Local
	case record.ProcessInstanceCreation:
		return cmd.Intent == record.Create
	case record.ProcessInstance:
		return cmd.Intent == record.Cancel
	case record.Job:
		switch cmd.Intent {
		case record.Activate, record.Complete, record.Fail, record.ThrowError, record.UpdateRetries, record.UpdateTimeout:
			return true
		}
	case record.Message, record.CloudEvent:
		return cmd.Intent == record.Publish
	case record.Signal:
		return cmd.Intent == record.Broadcast
	case record.VariableDocument:
		return cmd.Intent == record.Update
	case record.Incident:
		return cmd.Intent == record.Resolve
	case record.ProcessInstanceModification:
		return cmd.Intent == record.Modify
	case record.ResourceDeletion:
		return cmd.Intent == record.Delete
	}
	return false
}

// ServeInstanceState answers a forwarded instance query.
func (e *Engine) ServeInstanceState(ctx context.Context, key int64) (InstanceState, error) {
	p, err := e.partitionOfKey(key, "a process instance")
	if err != nil {
		return InstanceState{}, err
	}
	if _, ok := e.parts[p]; !ok {
		return InstanceState{}, fmt.Errorf("%w: partition %d", ErrNoPartition, p)
	}
	return e.localInstanceState(ctx, p, key)
}

// ServeIncidents answers a forwarded incident query for local partition p.
func (e *Engine) ServeIncidents(ctx context.Context, p int, q IncidentQuery) ([]Incident, error) {
	if _, ok := e.parts[p]; !ok {
		return nil, fmt.Errorf("%w: partition %d", ErrNoPartition, p)
	}
	in, err := e.incidentsLocal(ctx, p, q)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(in, func(a, b Incident) int { return cmp.Compare(a.Key, b.Key) })
	if q.Limit > 0 && len(in) > q.Limit {
		in = in[:q.Limit]
	}
	return in, nil
}

// ServeDefinitions answers a peer waiting for a deployment's definitions on
// local partition p (see Peers.AwaitDefinitions).
func (e *Engine) ServeDefinitions(ctx context.Context, p int, keys []int64, wait time.Duration) (bool, error) {
	if _, ok := e.parts[p]; !ok {
		return false, fmt.Errorf("%w: partition %d", ErrNoPartition, p)
	}
	wctx, cancel := context.WithTimeout(ctx, min(wait, maxServedWait))
	defer cancel()
	held, err := e.awaitLocalDefinitions(wctx, p, keys)
	if err == nil && !held && ctx.Err() != nil {
		// The request ended, not the wait: the engine is being replaced
		// (this node may be losing p) or the asker left.
		return false, fmt.Errorf("%w: partition %d: %w", ErrNoPartition, p, ctx.Err())
	}
	return held, err
}
