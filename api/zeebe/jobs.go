package zeebe

import (
	"context"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/engine"
	"eddy/record"
)

// maxResponseBytes bounds the jobs one ActivateJobs response carries (by
// default; see Server.maxResponse); more go in further responses of the
// stream. gRPC clients refuse messages over 4 MiB by default.
const maxResponseBytes = 3 << 20

// ActivateJobs activates up to maxJobsToActivate jobs of a type across the
// partitions and streams them back. With none available it waits (long
// polling) up to requestTimeout (0: DefaultLongPoll; negative: no wait)
// and hands jobs out as soon as they exist.
func (s *Server) ActivateJobs(req *pb.ActivateJobsRequest, stream pb.Gateway_ActivateJobsServer) error {
	switch {
	case req.Type == "":
		return invalid("Expected to activate jobs of a type, but the type is empty")
	case req.MaxJobsToActivate < 1:
		return invalid("Expected to activate at least one job, but maxJobsToActivate was %d", req.MaxJobsToActivate)
	case req.Timeout < 1:
		return invalid("Expected to activate jobs with a timeout of at least 1 ms, but it was %d", req.Timeout)
	}
	wait := DefaultLongPoll
	switch {
	case req.RequestTimeout < 0:
		wait = 0
	case req.RequestTimeout > 0:
		wait = time.Duration(req.RequestTimeout) * time.Millisecond
	}
	ctx := stream.Context()
	e := engineOf(ctx)
	jobs, err := e.ActivateJobs(ctx, engine.ActivateRequest{Type: req.Type, Worker: req.Worker, Timeout: time.Duration(req.Timeout) * time.Millisecond,
		MaxJobs: int(req.MaxJobsToActivate), FetchVariables: req.FetchVariable, RequestTimeout: wait})
	if err != nil {
		return statusOf(err, "ACTIVATE")
	}
	if err := ctx.Err(); err != nil && len(jobs) > 0 {
		// The worker's request ended while the jobs were gathered: it
		// will not read them. Sending into an ended stream does not
		// fail, and they would wait out their timeout.
		s.giveBack(e, jobs, err)
		return statusOf(err, "ACTIVATE")
	}
	for len(jobs) > 0 {
		resp := &pb.ActivateJobsResponse{}
		unsent := jobs // this response's jobs and the rest
		size := 0
		for len(jobs) > 0 {
			n := jobSize(&jobs[0])
			if len(resp.Jobs) > 0 && size+n > s.maxResponse {
				break
			}
			size += n
			resp.Jobs = append(resp.Jobs, activatedJob(&jobs[0]))
			jobs = jobs[1:]
		}
		if err := stream.Send(resp); err != nil {
			s.giveBack(e, unsent, err)
			return status.Errorf(codes.Unavailable, "Expected to hand %d activated jobs to the worker, but sending failed (%v); they are activatable again", len(unsent), err)
		}
	}
	return nil
}

func jobSize(j *record.Record) int {
	return len(j.Value.Variables) + len(j.Value.CustomHeaders) + len(j.Value.BpmnProcessID) + len(j.Value.ElementID) + 128
}

func activatedJob(j *record.Record) *pb.ActivatedJob {
	v := &j.Value
	return &pb.ActivatedJob{Key: j.Key, Type: v.JobType, ProcessInstanceKey: v.ProcessInstanceKey, BpmnProcessId: v.BpmnProcessID,
		ProcessDefinitionVersion: v.Version, ProcessDefinitionKey: v.ProcessDefinitionKey, ElementId: v.ElementID,
		ElementInstanceKey: v.ElementInstanceKey, CustomHeaders: objectOrEmpty(v.CustomHeaders), Worker: v.Worker,
		Retries: v.Retries, Deadline: v.Deadline, Variables: objectOrEmpty(v.Variables)}
}

// giveBack makes jobs that could not be handed to the worker activatable
// again at once, rather than after their timeout: each is failed with its
// retries unchanged and no back-off, as Zeebe's gateway does.
func (s *Server) giveBack(e *engine.Engine, jobs []record.Record, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, j := range jobs {
		if err := e.FailJob(ctx, j.Key, int(j.Value.Retries), "Eddy could not hand the activated job to the worker: "+cause.Error(), 0, nil); err != nil {
			s.log.Warn("giving back a job the worker did not get; it is activatable again after its timeout", "job", j.Key, "err", err)
		}
	}
}

// CompleteJob completes an activated job with variables.
func (s *Server) CompleteJob(ctx context.Context, req *pb.CompleteJobRequest) (*pb.CompleteJobResponse, error) {
	vars, err := document("variables", req.Variables)
	if err != nil {
		return nil, err
	}
	if err := engineOf(ctx).CompleteJob(ctx, req.JobKey, vars); err != nil {
		return nil, statusOf(err, "COMPLETE")
	}
	return &pb.CompleteJobResponse{}, nil
}

// FailJob fails a job: with retries left it is activatable again after
// retryBackOff, without it raises an incident with errorMessage.
func (s *Server) FailJob(ctx context.Context, req *pb.FailJobRequest) (*pb.FailJobResponse, error) {
	vars, err := document("variables", req.Variables)
	if err != nil {
		return nil, err
	}
	if req.RetryBackOff < 0 {
		return nil, invalid("Expected the retry back-off to be 0 ms or more, but it was %d", req.RetryBackOff)
	}
	retries := max(int(req.Retries), 0)
	if err := engineOf(ctx).FailJob(ctx, req.JobKey, retries, req.ErrorMessage, time.Duration(req.RetryBackOff)*time.Millisecond, vars); err != nil {
		return nil, statusOf(err, "FAIL")
	}
	return &pb.FailJobResponse{}, nil
}

// ThrowError throws a BPMN error from a job, caught by the closest error
// catch event; uncaught it raises an incident.
func (s *Server) ThrowError(ctx context.Context, req *pb.ThrowErrorRequest) (*pb.ThrowErrorResponse, error) {
	if req.ErrorCode == "" {
		return nil, invalid("Expected to throw an error with a code, but the error code is empty")
	}
	vars, err := document("variables", req.Variables)
	if err != nil {
		return nil, err
	}
	if err := engineOf(ctx).ThrowError(ctx, req.JobKey, req.ErrorCode, req.ErrorMessage, vars); err != nil {
		return nil, statusOf(err, "THROW_ERROR")
	}
	return &pb.ThrowErrorResponse{}, nil
}

// UpdateJobRetries sets a job's retries (more than 0).
func (s *Server) UpdateJobRetries(ctx context.Context, req *pb.UpdateJobRetriesRequest) (*pb.UpdateJobRetriesResponse, error) {
	if err := engineOf(ctx).UpdateJobRetries(ctx, req.JobKey, int(req.Retries)); err != nil {
		return nil, statusOf(err, "UPDATE_RETRIES")
	}
	return &pb.UpdateJobRetriesResponse{}, nil
}
