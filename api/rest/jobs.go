package rest

import (
	"encoding/json"
	"net/http"
	"time"

	"eddy/engine"
	"eddy/record"
)

func (s *Server) activateJobs(w http.ResponseWriter, r *http.Request) error {
	req, err := body[ActivateJobsRequest](w, r)
	if err != nil {
		return err
	}
	jobs, err := s.engine.ActivateJobs(r.Context(), engine.ActivateRequest{Type: req.Type, Worker: req.Worker, Timeout: req.Timeout.duration(),
		MaxJobs: req.MaxJobsToActivate, FetchVariables: req.FetchVariables, RequestTimeout: req.RequestTimeout.duration()})
	if err != nil {
		return err
	}
	out := ActivateJobsResponse{Jobs: make([]Job, len(jobs))}
	for i := range jobs {
		out.Jobs[i] = jobOf(&jobs[i])
	}
	return writeJSON(w, http.StatusOK, out)
}

func (req *ActivateJobsRequest) check() error {
	switch {
	case req.Type == "":
		return invalid("type", `field "type" must be the job type to activate`)
	case req.MaxJobsToActivate < 1:
		return invalid("maxJobsToActivate", `field "maxJobsToActivate" must be at least 1, got %d`, req.MaxJobsToActivate)
	case req.Timeout <= 0:
		return invalid("timeout", `field "timeout" must be a positive duration: how long the worker may hold the jobs`)
	}
	return nil
}

func jobOf(rec *record.Record) Job {
	v := &rec.Value
	return Job{Key: Key(rec.Key), Type: v.JobType, ProcessInstanceKey: Key(v.ProcessInstanceKey), BpmnProcessID: v.BpmnProcessID,
		ProcessDefinitionVersion: v.Version, ProcessDefinitionKey: Key(v.ProcessDefinitionKey), ElementID: v.ElementID,
		ElementInstanceKey: Key(v.ElementInstanceKey), CustomHeaders: objectOrEmpty(v.CustomHeaders), Worker: v.Worker,
		Retries: v.Retries, Deadline: v.Deadline, Variables: objectOrEmpty(v.Variables)}
}

func objectOrEmpty(doc []byte) json.RawMessage {
	if len(doc) == 0 {
		return json.RawMessage("{}")
	}
	return doc
}

func (s *Server) completeJob(w http.ResponseWriter, r *http.Request) error {
	key, req, err := command[CompleteJobRequest](w, r, "jobKey")
	if err != nil {
		return err
	}
	return noContent(w, s.engine.CompleteJob(r.Context(), key, req.Variables))
}

func (req *CompleteJobRequest) check() error { return checkObject("variables", req.Variables) }

func (s *Server) failJob(w http.ResponseWriter, r *http.Request) error {
	key, req, err := command[FailJobRequest](w, r, "jobKey")
	if err != nil {
		return err
	}
	return noContent(w, s.engine.FailJob(r.Context(), key, req.Retries, req.ErrorMessage, req.RetryBackOff.duration(), req.Variables))
}

func (req *FailJobRequest) check() error {
	if req.Retries < 0 {
		return invalid("retries", `field "retries" must be the retries left (0 or more), got %d`, req.Retries)
	}
	return checkObject("variables", req.Variables)
}

func (s *Server) throwError(w http.ResponseWriter, r *http.Request) error {
	key, req, err := command[ThrowErrorRequest](w, r, "jobKey")
	if err != nil {
		return err
	}
	return noContent(w, s.engine.ThrowError(r.Context(), key, req.ErrorCode, req.ErrorMessage, req.Variables))
}

func (req *ThrowErrorRequest) check() error {
	if req.ErrorCode == "" {
		return invalid("errorCode", `field "errorCode" must be the code of the BPMN error to throw`)
	}
	return checkObject("variables", req.Variables)
}

// updateJob changes retries, then the timeout; with both, a failure of the
// second leaves the first done (the problem says so).
func (s *Server) updateJob(w http.ResponseWriter, r *http.Request) error {
	key, req, err := command[UpdateJobRequest](w, r, "jobKey")
	if err != nil {
		return err
	}
	if req.Retries != nil {
		if err := s.engine.UpdateJobRetries(r.Context(), key, *req.Retries); err != nil {
			return err
		}
	}
	if req.Timeout != nil {
		if err := s.engine.UpdateJobTimeout(r.Context(), key, time.Duration(*req.Timeout)); err != nil {
			if req.Retries != nil {
				p := problemFor(err)
				p.Detail = "the retries were updated, but not the timeout: " + p.Detail
				return p
			}
			return err
		}
	}
	return noContent(w, nil)
}

func (req *UpdateJobRequest) check() error {
	switch {
	case req.Retries == nil && req.Timeout == nil:
		return invalid("retries", `give "retries", "timeout" or both`)
	case req.Retries != nil && *req.Retries < 1:
		return invalid("retries", `field "retries" must be at least 1, got %d`, *req.Retries)
	case req.Timeout != nil && *req.Timeout <= 0:
		return invalid("timeout", `field "timeout" must be a positive duration, counted from now`)
	}
	return nil
}
