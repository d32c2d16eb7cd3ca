package engine

import (
	"fmt"

	"eddy/record"
)

// raise opens an incident on inst: the element stops where it is until the
// incident is resolved, then the step that failed runs again.
func (c *Core) raise(inst *elementInstance, errorType, message string) {
	if inst.IncidentKey != 0 {
		return
	}
	key := c.newKey()
	v := record.Value{
		ErrorType: errorType, ErrorMessage: message,
		BpmnProcessID: inst.Value.BpmnProcessID, ProcessDefinitionKey: inst.Value.ProcessDefinitionKey,
		ProcessInstanceKey: inst.Value.ProcessInstanceKey, ElementID: inst.Value.ElementID,
		ElementInstanceKey: inst.Key, ScopeKey: inst.Key,
	}
	c.st.incidents.put(key, &incident{Key: key, Value: v})
	inst.IncidentKey = key
	c.st.elements.touch(inst.Key)
	c.event(record.Incident, record.Created, key, &v)
}

// jobIncident opens an incident for a job: out of retries, or an error it
// threw that nothing caught. Resolving it makes the job activatable again.
func (c *Core) jobIncident(j *job, errorType, msg string) {
	key := c.newKey()
	v := record.Value{
		ErrorType: errorType, ErrorMessage: msg, JobKey: j.Key,
		BpmnProcessID: j.Value.BpmnProcessID, ProcessDefinitionKey: j.Value.ProcessDefinitionKey,
		ProcessInstanceKey: j.Value.ProcessInstanceKey, ElementID: j.Value.ElementID,
		ElementInstanceKey: j.Value.ElementInstanceKey, ScopeKey: j.Value.ElementInstanceKey,
	}
	c.st.incidents.put(key, &incident{Key: key, Value: v})
	if inst := c.st.elements.get(j.Value.ElementInstanceKey); inst != nil {
		inst.IncidentKey = key
		c.st.elements.touch(inst.Key)
	}
	c.event(record.Incident, record.Created, key, &v)
}

// resolveIncident is the RESOLVE command.
func (c *Core) resolveIncident(cmd *record.Record) Response {
	if cmd.Intent != record.Resolve {
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("unknown incident command %s", cmd.Intent))
	}
	in := c.st.incidents.get(cmd.Key)
	if in == nil {
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to resolve incident with key '%d', but no such incident was found", cmd.Key))
	}
	var j *job
	if in.Value.JobKey != 0 {
		j = c.st.jobs.get(in.Value.JobKey)
		if j != nil && j.Value.Retries <= 0 {
			return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to resolve incident with key '%d', but job with key '%d' has no retries left; update its retries first", cmd.Key, j.Key))
		}
	}
	c.st.incidents.del(in.Key)
	ev := c.event(record.Incident, record.Resolved, in.Key, &in.Value)
	if inst := c.st.elements.get(in.Value.ElementInstanceKey); inst != nil {
		inst.IncidentKey = 0
		c.st.elements.touch(inst.Key)
		if in.Value.JobKey == 0 {
			// The step that failed runs again.
			c.enqueue(action{kind: actResume, key: inst.Key})
		}
	}
	if j != nil {
		c.makeActivatable(j)
	}
	return Response{Record: *ev}
}

// resolveOpenIncident closes inst's incident when inst goes away.
func (c *Core) resolveOpenIncident(inst *elementInstance) {
	if inst.IncidentKey == 0 {
		return
	}
	if in := c.st.incidents.get(inst.IncidentKey); in != nil {
		c.st.incidents.del(in.Key)
		c.event(record.Incident, record.Resolved, in.Key, &in.Value)
	}
	inst.IncidentKey = 0
}
