package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"eddy/bpmn"
	"eddy/record"
)

// UserTaskJobType is the job type of user tasks, as in Zeebe 8.3.
const UserTaskJobType = "io.camunda.zeebe:userTask"

// createJob creates the job of a job-worker element. false: an incident
// was raised instead.
func (c *Core) createJob(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) bool {
	v := inst.Value
	v.ElementInstanceKey = inst.Key
	v.Retries = 3
	headers := make(map[string]string, len(el.TaskHeaders))
	for _, h := range el.TaskHeaders {
		headers[h.Key] = h.Value
	}
	if el.TaskDefinition != nil {
		t, err := c.evalString(&el.TaskDefinition.Type, inst.Key)
		if err != nil {
			c.raise(inst, "EXTRACT_VALUE_ERROR", fmt.Sprintf("job type of '%s': %v", el.ID, err))
			return false
		}
		v.JobType = t
		if !el.TaskDefinition.Retries.IsZero() {
			r, err := c.evalString(&el.TaskDefinition.Retries, inst.Key)
			n, convErr := strconv.Atoi(r)
			if err == nil && convErr != nil {
				err = fmt.Errorf("%q is not a whole number", r)
			}
			if err != nil {
				c.raise(inst, "EXTRACT_VALUE_ERROR", fmt.Sprintf("job retries of '%s': %v", el.ID, err))
				return false
			}
			v.Retries = int32(n)
		}
	}
	if el.Kind == bpmn.KindUserTask {
		v.JobType = UserTaskJobType
		if ut := el.UserTask; ut != nil {
			// In a fixed order: the first failure is the incident's.
			for _, h := range []struct {
				name string
				e    *bpmn.Expression
				list bool
			}{
				{"io.camunda.zeebe:assignee", ut.Assignee, false},
				{"io.camunda.zeebe:candidateGroups", ut.CandidateGroups, true},
				{"io.camunda.zeebe:candidateUsers", ut.CandidateUsers, true},
				{"io.camunda.zeebe:dueDate", ut.DueDate, false},
				{"io.camunda.zeebe:followUpDate", ut.FollowUpDate, false},
			} {
				if h.e.IsZero() {
					continue
				}
				s, err := c.evalHeader(h.e, inst.Key, h.list)
				if err != nil {
					c.raise(inst, "EXTRACT_VALUE_ERROR", fmt.Sprintf("%s of user task '%s': %v", h.name, el.ID, err))
					return false
				}
				headers[h.name] = s
			}
			if ut.FormKey != "" {
				headers["io.camunda.zeebe:formKey"] = ut.FormKey
			}
		}
	}
	if v.JobType == "" {
		c.raise(inst, "EXTRACT_VALUE_ERROR", fmt.Sprintf("element '%s' has no job type", el.ID))
		return false
	}
	v.CustomHeaders = mustJSON(headers)
	key := c.newKey()
	v.JobKey = 0
	j := &job{Key: key, State: jobActivatable, Value: v}
	c.st.jobs.put(key, j)
	c.st.activatable[v.JobType] = append(c.st.activatable[v.JobType], key)
	inst.JobKey = key
	c.st.elements.touch(inst.Key)
	c.event(record.Job, record.Created, key, &j.Value)
	return true
}

// evalHeader evaluates a user task attribute to the string Zeebe puts in
// the job's headers: lists as JSON arrays, a static list (candidate groups
// or users written as "a, b") included.
func (c *Core) evalHeader(e *bpmn.Expression, scope int64, list bool) (string, error) {
	if e.Static {
		if !list {
			return e.Source, nil
		}
		items := []string{}
		for _, item := range strings.Split(e.Source, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		return string(mustJSON(items)), nil
	}
	raw, err := c.evalJSON(e, scope)
	if err != nil {
		return "", err
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	return string(raw), nil
}

func (c *Core) cancelJob(inst *elementInstance) {
	if inst.JobKey == 0 {
		return
	}
	if j := c.st.jobs.get(inst.JobKey); j != nil {
		c.st.jobs.del(j.Key)
		c.event(record.Job, record.Canceled, j.Key, &j.Value)
	}
	inst.JobKey = 0
}

func (c *Core) jobCommand(cmd *record.Record) Response {
	if cmd.Intent == record.Activate {
		return c.activateJobs(cmd)
	}
	j := c.st.jobs.get(cmd.Key)
	if j == nil {
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to %s job with key '%d', but no such job was found", verb(cmd.Intent), cmd.Key))
	}
	switch cmd.Intent {
	case record.Complete:
		if j.State != jobActivated && j.State != jobActivatable {
			return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to complete job with key '%d', but it is in state '%s'", cmd.Key, jobStateName(j.State)))
		}
		if len(cmd.Value.Variables) > 0 {
			if reason := c.checkDocument(cmd.Value.Variables); reason != "" {
				return c.reject(cmd, record.InvalidArgument, reason)
			}
		}
		c.st.jobs.del(j.Key)
		v := j.Value
		v.Variables = cmd.Value.Variables
		ev := c.event(record.Job, record.Completed, j.Key, &v)
		if inst := c.st.elements.get(v.ElementInstanceKey); inst != nil {
			inst.JobKey = 0
			inst.Payload = cmd.Value.Variables
			c.st.elements.touch(inst.Key)
			c.enqueue(action{kind: actComplete, key: inst.Key})
		}
		return Response{Record: *ev}
	case record.Fail:
		if j.State != jobActivated {
			return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to fail job with key '%d', but it is in state '%s'", cmd.Key, jobStateName(j.State)))
		}
		if len(cmd.Value.Variables) > 0 {
			if reason := c.checkDocument(cmd.Value.Variables); reason != "" {
				return c.reject(cmd, record.InvalidArgument, reason)
			}
		}
		j.Value.Retries = cmd.Value.Retries
		j.Value.ErrorMessage = cmd.Value.ErrorMessage
		j.Value.RetryBackoff = cmd.Value.RetryBackoff
		j.Value.Worker, j.Value.Deadline = "", 0
		if len(cmd.Value.Variables) > 0 {
			// As in Zeebe: local variables of the job's task, which the next
			// attempt sees and which end with the task.
			c.setLocalVariables(c.st.elements.get(j.Value.ElementInstanceKey), cmd.Value.Variables)
		}
		ev := c.event(record.Job, record.Failed, j.Key, &j.Value)
		switch {
		case j.Value.Retries <= 0:
			j.State = jobFailed
			msg := j.Value.ErrorMessage
			if msg == "" {
				msg = "No more retries left."
			}
			c.jobIncident(j, "JOB_NO_RETRIES", msg)
		case j.Value.RetryBackoff > 0:
			j.State = jobBackoff
			j.Value.Deadline = c.now + j.Value.RetryBackoff
			c.st.schedule(j.Value.Deadline, dueJobBackoff, j.Key)
		default:
			c.makeActivatable(j)
		}
		c.st.jobs.touch(j.Key)
		return Response{Record: *ev}
	case record.ThrowError:
		if j.State != jobActivated && j.State != jobActivatable {
			return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to throw an error for job with key '%d', but it is in state '%s'", cmd.Key, jobStateName(j.State)))
		}
		if len(cmd.Value.Variables) > 0 {
			if reason := c.checkDocument(cmd.Value.Variables); reason != "" {
				return c.reject(cmd, record.InvalidArgument, reason)
			}
		}
		inst := c.st.elements.get(j.Value.ElementInstanceKey)
		v := j.Value
		v.ErrorCode, v.ErrorMessage, v.Variables = cmd.Value.ErrorCode, cmd.Value.ErrorMessage, cmd.Value.Variables
		ev := c.event(record.Job, record.ErrorThrown, j.Key, &v)
		c.st.jobs.del(j.Key)
		if inst == nil {
			return Response{Record: *ev}
		}
		inst.JobKey = 0
		c.st.elements.touch(inst.Key)
		if !c.catchError(inst, v.ErrorCode, v.Variables) {
			// Uncaught: the job waits for the incident to be resolved, then
			// a worker may take it again (Zeebe's ERROR_THROWN job).
			j.State = jobFailed
			j.Value.ErrorMessage, j.Value.Worker, j.Value.Deadline = cmd.Value.ErrorMessage, "", 0
			c.st.jobs.put(j.Key, j)
			inst.JobKey = j.Key
			c.jobIncident(j, "UNHANDLED_ERROR_EVENT", uncaughtError(v.ErrorCode, v.ErrorMessage))
		}
		return Response{Record: *ev}
	case record.UpdateRetries:
		if cmd.Value.Retries < 1 {
			return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to update retries of job with key '%d' with a positive amount of retries, but got %d", cmd.Key, cmd.Value.Retries))
		}
		j.Value.Retries = cmd.Value.Retries
		c.st.jobs.touch(j.Key)
		ev := c.event(record.Job, record.RetriesUpdated, j.Key, &j.Value)
		return Response{Record: *ev}
	case record.UpdateTimeout:
		if j.State != jobActivated {
			return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to update the timeout of job with key '%d', but it is not activated", cmd.Key))
		}
		j.Value.Deadline = c.now + cmd.Value.Timeout
		c.st.jobs.touch(j.Key)
		c.st.schedule(j.Value.Deadline, dueJobTimeout, j.Key)
		ev := c.event(record.Job, record.TimeoutUpdated, j.Key, &j.Value)
		return Response{Record: *ev}
	}
	return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("unknown job command %s", cmd.Intent))
}

func (c *Core) makeActivatable(j *job) {
	j.State = jobActivatable
	j.Value.Worker, j.Value.Deadline = "", 0
	c.st.jobs.touch(j.Key)
	c.st.activatable[j.Value.JobType] = append(c.st.activatable[j.Value.JobType], j.Key)
}

// activateJobs hands up to MaxJobs activatable jobs of a type to a worker,
// oldest first, each with the variables it asked for.
func (c *Core) activateJobs(cmd *record.Record) Response {
	v := &cmd.Value
	if v.JobType == "" {
		return c.reject(cmd, record.InvalidArgument, "Expected to activate jobs with a non-empty type")
	}
	if v.MaxJobs < 1 {
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to activate at least one job, but max jobs was %d", v.MaxJobs))
	}
	if v.Timeout < 1 {
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to activate jobs with a positive timeout, but it was %d ms", v.Timeout))
	}
	maxJobs := int(v.MaxJobs)
	if maxJobs > c.limits.MaxActivateJobs {
		maxJobs = c.limits.MaxActivateJobs
	}
	queue := c.st.activatable[v.JobType]
	var resp Response
	if len(queue) > 0 {
		resp.Jobs = make([]record.Record, 0, min(maxJobs, len(queue)))
	}
	n := 0
	for n < len(queue) && len(resp.Jobs) < maxJobs {
		key := queue[n]
		n++
		j := c.st.jobs.get(key)
		if j == nil || j.State != jobActivatable {
			continue // stale entry: the job moved on
		}
		j.State = jobActivated
		j.Value.Worker = v.Worker
		j.Value.Deadline = c.now + v.Timeout
		c.st.jobs.touch(key)
		c.st.schedule(j.Value.Deadline, dueJobTimeout, key)
		jv := j.Value
		jv.Variables = c.visibleVariables(jv.ElementInstanceKey, v.FetchVariables)
		resp.Jobs = append(resp.Jobs, *c.event(record.Job, record.Activated, key, &jv))
	}
	if n == len(queue) {
		delete(c.st.activatable, v.JobType)
	} else {
		c.st.activatable[v.JobType] = queue[n:]
	}
	return resp
}

// jobTimedOut makes an activated job whose deadline passed activatable again.
func (c *Core) jobTimedOut(j *job) {
	c.event(record.Job, record.TimedOut, j.Key, &j.Value)
	c.makeActivatable(j)
}

func (c *Core) jobBackedOff(j *job) {
	c.event(record.Job, record.RecurredAfterBackoff, j.Key, &j.Value)
	c.makeActivatable(j)
}

func jobStateName(s int) string {
	switch s {
	case jobActivatable:
		return "ACTIVATABLE"
	case jobActivated:
		return "ACTIVATED"
	case jobFailed:
		return "FAILED"
	case jobBackoff:
		return "FAILED"
	}
	return "UNKNOWN"
}

func verb(in record.Intent) string {
	switch in {
	case record.Complete:
		return "complete"
	case record.Fail:
		return "fail"
	case record.ThrowError:
		return "throw an error for"
	case record.UpdateRetries:
		return "update retries of"
	case record.UpdateTimeout:
		return "update the timeout of"
	}
	return "process"
}
