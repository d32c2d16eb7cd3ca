package engine

import (
	"context"
	"fmt"

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
	if cmd.ValueType == record.Job && cmd.Intent == record.Activate {
		// A forwarded activation is one look, without waiting: the
		// forwarding node does the long polling.
		cmd.Value.RequestTimeout = 0
	}
	return e.sendLocal(ctx, part, p, cmd)
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
	return e.incidentsLocal(ctx, p, q)
}
