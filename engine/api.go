package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"eddy/record"
)

// Deploy deploys resources (BPMN files). The deployment is made on the
// first partition this node owns and distributed to the others; Deploy
// returns once it is durable there and, within the request's time, every
// other partition of the cluster has it (see awaitDistribution).
func (e *Engine) Deploy(ctx context.Context, resources ...record.Resource) (record.Record, error) {
	first := 0
	if len(e.ids) > 0 {
		first = e.ids[0]
	} else if e.peers == nil {
		return record.Record{}, ErrNoPartition
	}
	r, err := e.send(ctx, first, record.Record{ValueType: record.Deployment, Intent: record.Create, Value: record.Value{Resources: resources}})
	if err != nil {
		return record.Record{}, err
	}
	e.awaitDistribution(ctx, r.Record)
	return r.Record, nil
}

// CreateRequest asks for a new process instance.
type CreateRequest struct {
	BpmnProcessID        string
	Version              int32 // 0: latest
	ProcessDefinitionKey int64
	Variables            json.RawMessage
	// StartAt starts at these top-level elements instead of the none
	// start event (Zeebe's start instructions).
	StartAt []string
	// FetchVariables limits the variables of a with-result answer.
	FetchVariables []string
}

// CreateInstance creates a process instance on the next partition.
func (e *Engine) CreateInstance(ctx context.Context, req CreateRequest) (record.Record, error) {
	r, err := e.send(ctx, e.next(), createCommand(req))
	return r.Record, err
}

func createCommand(req CreateRequest) record.Record {
	cmd := record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{
		BpmnProcessID: req.BpmnProcessID, Version: req.Version, ProcessDefinitionKey: req.ProcessDefinitionKey,
		Variables: req.Variables, FetchVariables: req.FetchVariables,
	}}
	// The first start element travels as ElementID, the others as activate
	// instructions.
	for i, id := range req.StartAt {
		if i == 0 {
			cmd.Value.ElementID = id
			continue
		}
		cmd.Value.Instructions = append(cmd.Value.Instructions, record.Instruction{Activate: true, ElementID: id})
	}
	return cmd
}

// CancelInstance cancels a process instance.
func (e *Engine) CancelInstance(ctx context.Context, key int64) error {
	_, err := e.sendTo(ctx, key, "a process instance", record.Record{ValueType: record.ProcessInstance, Intent: record.Cancel, Key: key})
	return err
}

// PublishRequest is a message to publish.
type PublishRequest struct {
	Name           string
	CorrelationKey string
	TTL            time.Duration
	MessageID      string
	Variables      json.RawMessage
}

// PartitionForKey returns the partition of a message correlation key.
func (e *Engine) PartitionForKey(correlationKey string) int {
	c := Core{partitions: e.store.Partitions()}
	return c.partitionFor(correlationKey)
}

// Publish publishes a message on its correlation key's partition.
func (e *Engine) Publish(ctx context.Context, m PublishRequest) (record.Record, error) {
	r, err := e.send(ctx, e.PartitionForKey(m.CorrelationKey), record.Record{ValueType: record.Message, Intent: record.Publish, Value: record.Value{
		Name: m.Name, CorrelationKey: m.CorrelationKey, TTL: m.TTL.Milliseconds(), MessageID: m.MessageID, Variables: m.Variables,
	}})
	return r.Record, err
}

// BroadcastSignal broadcasts a signal to every partition.
func (e *Engine) BroadcastSignal(ctx context.Context, name string, vars json.RawMessage) (record.Record, error) {
	r, err := e.send(ctx, e.next(), record.Record{ValueType: record.Signal, Intent: record.Broadcast, Value: record.Value{Name: name, Variables: vars}})
	return r.Record, err
}

// ActivateRequest asks for jobs of a type.
type ActivateRequest struct {
	Type           string
	Worker         string
	Timeout        time.Duration
	MaxJobs        int
	FetchVariables []string
	// RequestTimeout is how long to wait for jobs when none is available
	// (long polling); 0 returns at once.
	RequestTimeout time.Duration
}

// ActivateJobs activates up to MaxJobs jobs across the partitions, waiting
// up to RequestTimeout for the first one.
func (e *Engine) ActivateJobs(ctx context.Context, req ActivateRequest) ([]record.Record, error) {
	if req.MaxJobs < 1 {
		return nil, &Rejection{Type: record.InvalidArgument, Reason: fmt.Sprintf("Expected to activate at least one job, but max jobs was %d", req.MaxJobs)}
	}
	var deadline <-chan time.Time
	if req.RequestTimeout > 0 {
		t := time.NewTimer(req.RequestTimeout)
		defer t.Stop()
		deadline = t.C
	}
	parts := e.ids
	var poll <-chan time.Time
	if e.peers != nil && len(e.ids) < e.store.Partitions() {
		// Other nodes' partitions are looked at too; their new jobs do not
		// wake this node, so a long poll looks again now and then.
		parts = e.allPartitions()
		if deadline != nil {
			t := time.NewTicker(remoteJobPoll)
			defer t.Stop()
			poll = t.C
		}
	}
	for {
		wake := e.jobsChanged()
		var jobs []record.Record
		failed, lastErr := 0, error(nil)
		start := int(e.activateRR.Add(1))
		for i := range parts {
			if len(jobs) >= req.MaxJobs {
				break
			}
			p := parts[(start+i)%len(parts)]
			cmd := record.Record{ValueType: record.Job, Intent: record.Activate, Value: record.Value{
				JobType: req.Type, Worker: req.Worker, Timeout: req.Timeout.Milliseconds(), MaxJobs: int32(req.MaxJobs - len(jobs)), FetchVariables: req.FetchVariables,
			}}
			var r Response
			var err error
			if _, local := e.parts[p]; local {
				r, err = e.send(ctx, p, cmd)
			} else {
				r, err = e.activateRemote(ctx, p, cmd)
			}
			if err != nil {
				failed++
				lastErr = err
				continue
			}
			jobs = append(jobs, r.Jobs...)
		}
		if len(jobs) > 0 {
			return jobs, nil
		}
		if failed == len(parts) || (failed > 0 && deadline == nil) {
			return nil, lastErr
		}
		if deadline == nil {
			return jobs, nil
		}
		select {
		case <-wake:
		case <-poll:
		case <-deadline:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// activateRemote asks another node's partition p for jobs. One out of
// reach (its node died, and no node has taken it over yet) or that takes
// the request and does not answer (a frozen node) must not keep the other
// partitions' jobs from the worker until its request times out: its owner
// is not waited for, the call is bounded, and the partition is passed by
// for a moment once it failed.
func (e *Engine) activateRemote(ctx context.Context, p int, cmd record.Record) (Response, error) {
	if time.Now().UnixNano() < e.unreachableUntil[p].Load() {
		return Response{}, fmt.Errorf("%w: partition %d: its owner could not be reached a moment ago", ErrNoPartition, p)
	}
	sendCtx, cancel := context.WithTimeout(WithoutOwnerWait(ctx), remoteActivateTimeout)
	defer cancel()
	r, err := e.send(sendCtx, p, cmd)
	if err != nil && (errors.Is(err, ErrNoPartition) || sendCtx.Err() != nil && ctx.Err() == nil) {
		e.unreachableUntil[p].Store(time.Now().Add(unreachableSkip).UnixNano())
	}
	return r, err
}

// remoteJobPoll is how often a long poll looks at other nodes' partitions.
const remoteJobPoll = 100 * time.Millisecond

// unreachableSkip is how long job activations pass by another node's
// partition they could not reach: a dead node's partition is taken over
// within a claim timeout, and a node that cannot be dialled would hold
// each activation up for the dial's timeout.
const unreachableSkip = time.Second

// remoteActivateTimeout bounds asking another node's partition for jobs:
// an owner answers an activation at once. One that does not answer in
// time may still activate jobs, which then time out and are activated
// again, as jobs lost on their way to a worker are.
const remoteActivateTimeout = time.Second

// CompleteJob completes a job with variables.
func (e *Engine) CompleteJob(ctx context.Context, key int64, vars json.RawMessage) error {
	return e.jobCommand(ctx, key, record.Complete, record.Value{Variables: vars})
}

// FailJob fails a job, leaving it retries (after backoff).
func (e *Engine) FailJob(ctx context.Context, key int64, retries int, message string, backoff time.Duration, vars json.RawMessage) error {
	return e.jobCommand(ctx, key, record.Fail, record.Value{Retries: int32(retries), ErrorMessage: message, RetryBackoff: backoff.Milliseconds(), Variables: vars})
}

// ThrowError throws a BPMN error from a job.
func (e *Engine) ThrowError(ctx context.Context, key int64, code, message string, vars json.RawMessage) error {
	return e.jobCommand(ctx, key, record.ThrowError, record.Value{ErrorCode: code, ErrorMessage: message, Variables: vars})
}

// UpdateJobRetries sets a job's retries.
func (e *Engine) UpdateJobRetries(ctx context.Context, key int64, retries int) error {
	return e.jobCommand(ctx, key, record.UpdateRetries, record.Value{Retries: int32(retries)})
}

// UpdateJobTimeout gives an activated job a new deadline, timeout from now.
func (e *Engine) UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error {
	return e.jobCommand(ctx, key, record.UpdateTimeout, record.Value{Timeout: timeout.Milliseconds()})
}

func (e *Engine) jobCommand(ctx context.Context, key int64, in record.Intent, v record.Value) error {
	_, err := e.sendTo(ctx, key, "a job", record.Record{ValueType: record.Job, Intent: in, Key: key, Value: v})
	return err
}

// SetVariables sets variables on a scope (a process instance or element
// instance): locally, or propagated to where they are defined.
func (e *Engine) SetVariables(ctx context.Context, scopeKey int64, vars json.RawMessage, local bool) (record.Record, error) {
	r, err := e.sendTo(ctx, scopeKey, "an element instance", record.Record{ValueType: record.VariableDocument, Intent: record.Update, Value: record.Value{ScopeKey: scopeKey, Variables: vars, Local: local}})
	return r.Record, err
}

// ResolveIncident resolves an incident: the failed step runs again.
func (e *Engine) ResolveIncident(ctx context.Context, key int64) error {
	_, err := e.sendTo(ctx, key, "an incident", record.Record{ValueType: record.Incident, Intent: record.Resolve, Key: key})
	return err
}

// ModifyInstance activates and terminates elements of a process instance.
func (e *Engine) ModifyInstance(ctx context.Context, key int64, instructions []record.Instruction) error {
	_, err := e.sendTo(ctx, key, "a process instance", record.Record{ValueType: record.ProcessInstanceModification, Intent: record.Modify, Key: key, Value: record.Value{Instructions: instructions}})
	return err
}

// DeleteResource deletes a deployed process definition. It returns once
// every partition of this node has deleted it too (awaitDeletion).
func (e *Engine) DeleteResource(ctx context.Context, key int64) error {
	if _, err := e.sendTo(ctx, key, "a resource", record.Record{ValueType: record.ResourceDeletion, Intent: record.Delete, Key: key}); err != nil {
		return err
	}
	e.awaitDeletion(ctx, key)
	return nil
}

// sendTo sends cmd to the partition of key, an entity key of kind what.
func (e *Engine) sendTo(ctx context.Context, key int64, what string, cmd record.Record) (Response, error) {
	p, err := e.partitionOfKey(key, what)
	if err != nil {
		return Response{}, err
	}
	return e.send(ctx, p, cmd)
}
