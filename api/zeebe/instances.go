package zeebe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/engine"
	"eddy/record"
)

// CreateProcessInstance starts an instance of a process given by key, or by
// BPMN process id and version (-1, or 0, for the latest).
func (s *Server) CreateProcessInstance(ctx context.Context, req *pb.CreateProcessInstanceRequest) (*pb.CreateProcessInstanceResponse, error) {
	cr, err := createRequest(req)
	if err != nil {
		return nil, err
	}
	created, err := engineOf(ctx).CreateInstance(ctx, cr)
	if err != nil {
		return nil, statusOf(err, "CREATE")
	}
	v := &created.Value
	return &pb.CreateProcessInstanceResponse{ProcessDefinitionKey: v.ProcessDefinitionKey, BpmnProcessId: v.BpmnProcessID, Version: v.Version, ProcessInstanceKey: created.Key}, nil
}

// CreateProcessInstanceWithResult starts an instance and answers when it
// completes, with its variables (fetchVariables only, if given). Past
// requestTimeout it answers DEADLINE_EXCEEDED, and the instance goes on.
// An engine switch that cuts the wait short hands it to the new engine
// (waitCut).
func (s *Server) CreateProcessInstanceWithResult(ctx context.Context, req *pb.CreateProcessInstanceWithResultRequest) (*pb.CreateProcessInstanceWithResultResponse, error) {
	if req.Request == nil {
		return nil, invalid("Expected the with-result request to carry the creation request, but it is missing")
	}
	cr, err := createRequest(req.Request)
	if err != nil {
		return nil, err
	}
	cr.FetchVariables = req.FetchVariables
	timeout := DefaultResultTimeout
	if req.RequestTimeout > 0 {
		timeout = time.Duration(req.RequestTimeout) * time.Millisecond
	}
	begin := time.Now()
	created, out, err := engineOf(ctx).CreateInstanceWithResult(ctx, cr, timeout)
	if err != nil && created.Key != 0 && errors.Is(err, context.Canceled) {
		// The wait, not the creation, was cut short: the node started
		// its engine again on other partitions (or is stopping).
		return nil, &waitCut{created: created, begin: begin, timeout: timeout, fetch: req.FetchVariables}
	}
	return withResult(created.Key, out, err, timeout)
}

// withResult answers a create-with-result whose instance key is key and
// whose wait ended with out or err.
func withResult(key int64, out engine.Outcome, err error, timeout time.Duration) (*pb.CreateProcessInstanceWithResultResponse, error) {
	if err != nil {
		st := statusOf(err, "CREATE_WITH_AWAITING_RESULT")
		if key != 0 && status.Code(st) == codes.DeadlineExceeded {
			return nil, status.Errorf(codes.DeadlineExceeded, "Expected process instance %d to complete within %v, but it did not; it goes on (%v)", key, timeout, err)
		}
		return nil, st
	}
	if !out.Completed {
		return nil, status.Errorf(codes.FailedPrecondition, "Expected process instance %d to complete, but it was terminated (cancelled) first: it has no result", out.ProcessInstanceKey)
	}
	return &pb.CreateProcessInstanceWithResultResponse{ProcessDefinitionKey: out.ProcessDefinitionKey, BpmnProcessId: out.BpmnProcessID,
		Version: out.Version, ProcessInstanceKey: out.ProcessInstanceKey, Variables: objectOrEmpty(out.Variables)}, nil
}

// waitCut is a create-with-result whose instance was created and whose
// wait an engine switch cut short. The request's engine must be let go
// before the switch can finish, so the unary interceptor, not the handler,
// waits on the new engine (awaitAgain).
type waitCut struct {
	created record.Record
	begin   time.Time
	timeout time.Duration
	fetch   []string
}

func (c *waitCut) Error() string { return c.status().Error() }

// status is the answer when the wait cannot go on: UNAVAILABLE would have
// the client create the instance again.
func (c *waitCut) status() error {
	return status.Errorf(codes.Aborted, "Expected to wait for process instance %d to complete, but this Eddy node changed its partitions meanwhile and stopped waiting; the instance goes on (creating it again would start another)", c.created.Key)
}

// awaitAgain waits for the instance of cut to end on the current engine,
// and on the next if another switch comes, as often as the unary
// interceptor runs a request again.
func (s *Server) awaitAgain(ctx context.Context, cut *waitCut) (any, error) {
	out, err := engine.AwaitInstanceAcross(ctx, s.engines.Acquire, cut.created, cut.begin, cut.fetch, cut.timeout, maxSwitchRetries)
	if errors.Is(err, context.Canceled) {
		return nil, cut.status()
	}
	return withResult(cut.created.Key, out, err, cut.timeout)
}

func createRequest(req *pb.CreateProcessInstanceRequest) (engine.CreateRequest, error) {
	vars, err := document("variables", req.Variables)
	if err != nil {
		return engine.CreateRequest{}, err
	}
	cr := engine.CreateRequest{BpmnProcessID: req.BpmnProcessId, ProcessDefinitionKey: req.ProcessDefinitionKey, Variables: vars}
	switch {
	case req.ProcessDefinitionKey == 0 && req.BpmnProcessId == "":
		return cr, invalid("Expected either a process definition key or a BPMN process id, but none given")
	case req.ProcessDefinitionKey != 0:
		// A key names one version; the id and version are then ignored, as
		// in Zeebe.
		cr.BpmnProcessID = ""
	case req.Version > 0:
		cr.Version = req.Version
	case req.Version < -1:
		return cr, invalid("Expected the version to be a positive number or -1 (the latest), but it was %d", req.Version)
	}
	for i, in := range req.StartInstructions {
		if in.ElementId == "" {
			return cr, invalid("Expected start instruction %d to name an element id, but it is empty", i+1)
		}
		cr.StartAt = append(cr.StartAt, in.ElementId)
	}
	return cr, nil
}

// CancelProcessInstance cancels a root process instance.
func (s *Server) CancelProcessInstance(ctx context.Context, req *pb.CancelProcessInstanceRequest) (*pb.CancelProcessInstanceResponse, error) {
	if err := engineOf(ctx).CancelInstance(ctx, req.ProcessInstanceKey); err != nil {
		return nil, statusOf(err, "CANCEL")
	}
	return &pb.CancelProcessInstanceResponse{}, nil
}

// SetVariables sets variables on a process or element instance's scope.
func (s *Server) SetVariables(ctx context.Context, req *pb.SetVariablesRequest) (*pb.SetVariablesResponse, error) {
	vars, err := document("variables", req.Variables)
	if err != nil {
		return nil, err
	}
	if vars == nil {
		return nil, invalid("Property 'variables' is invalid: Expected a JSON object of the variables to set, but it is empty")
	}
	r, err := engineOf(ctx).SetVariables(ctx, req.ElementInstanceKey, vars, req.Local)
	if err != nil {
		return nil, statusOf(err, "UPDATE")
	}
	return &pb.SetVariablesResponse{Key: r.Key}, nil
}

// ModifyProcessInstance activates and terminates elements of an instance.
// Variables of an activation with no scope id go to the process instance
// (its global scope) before the modification, since the engine's
// instruction sets variables on the flow scope the element is activated in;
// those with a scope id go to that flow scope.
func (s *Server) ModifyProcessInstance(ctx context.Context, req *pb.ModifyProcessInstanceRequest) (*pb.ModifyProcessInstanceResponse, error) {
	if len(req.ActivateInstructions)+len(req.TerminateInstructions) == 0 {
		return nil, invalid("Expected at least one activate or terminate instruction, but none given")
	}
	e := engineOf(ctx)
	var ins []record.Instruction
	var global json.RawMessage // variables without a scope id, set once all is checked
	for i, a := range req.ActivateInstructions {
		if a.ElementId == "" {
			return nil, invalid("Expected activate instruction %d to name an element id, but it is empty", i+1)
		}
		in := record.Instruction{Activate: true, ElementID: a.ElementId}
		if a.AncestorElementInstanceKey > 0 {
			in.AncestorKey = a.AncestorElementInstanceKey
		}
		for j, v := range a.VariableInstructions {
			vars, err := document(fmt.Sprintf("activateInstructions[%d].variableInstructions[%d].variables", i, j), v.Variables)
			if err != nil {
				return nil, err
			}
			if vars == nil {
				continue
			}
			if v.ScopeId == "" {
				if global, err = mergeObjects(global, vars); err != nil {
					return nil, invalid("Property 'variables' of activate instruction %d is invalid: %v", i+1, err)
				}
				continue
			}
			merged, err := mergeObjects(in.Variables, vars)
			if err != nil {
				return nil, invalid("Property 'variables' of activate instruction %d is invalid: %v", i+1, err)
			}
			in.Variables = merged
		}
		ins = append(ins, in)
	}
	for i, t := range req.TerminateInstructions {
		if t.ElementInstanceKey <= 0 {
			return nil, invalid("Expected terminate instruction %d to name an element instance key, but it was %d", i+1, t.ElementInstanceKey)
		}
		ins = append(ins, record.Instruction{ElementInstanceKey: t.ElementInstanceKey})
	}
	if global != nil {
		if _, err := e.SetVariables(ctx, req.ProcessInstanceKey, global, true); err != nil {
			return nil, statusOf(err, "MODIFY")
		}
	}
	if err := e.ModifyInstance(ctx, req.ProcessInstanceKey, ins); err != nil {
		return nil, statusOf(err, "MODIFY")
	}
	return &pb.ModifyProcessInstanceResponse{}, nil
}
