package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"eddy/engine"
	"eddy/record"
)

func (s *Server) createInstance(w http.ResponseWriter, r *http.Request) error {
	req, err := body[CreateInstanceRequest](w, r)
	if err != nil {
		return err
	}
	cr := engine.CreateRequest{BpmnProcessID: req.BpmnProcessID, Version: req.Version, ProcessDefinitionKey: int64(req.ProcessDefinitionKey),
		Variables: req.Variables, StartAt: startAt(req.StartAt), FetchVariables: req.FetchVariables}
	if !req.AwaitCompletion {
		created, err := s.engine.CreateInstance(r.Context(), cr)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, createdInstance(created))
	}
	begin, timeout := time.Now(), awaitTimeout(req.Await)
	created, out, err := s.engine.CreateInstanceWithResult(r.Context(), cr, timeout)
	if cutBySwitch(created, err) && leaveWait(r.Context(), laterWait{created: created, begin: begin, timeout: timeout, fetch: req.FetchVariables}) {
		return nil // the caller waits on the next engine and answers
	}
	if err != nil {
		p := problemFor(err)
		if created.Key != 0 {
			p.ProcessInstanceKey = Key(created.Key)
		}
		return p
	}
	return writeJSON(w, http.StatusOK, finishedInstance(out))
}

func (req *CreateInstanceRequest) check() error {
	switch {
	case req.BpmnProcessID == "" && req.ProcessDefinitionKey == 0:
		return invalid("bpmnProcessId", `give "bpmnProcessId" (the process id of the BPMN model, with an optional "version") or "processDefinitionKey"`)
	case req.BpmnProcessID != "" && req.ProcessDefinitionKey != 0:
		return invalid("processDefinitionKey", `give "bpmnProcessId" or "processDefinitionKey", not both`)
	case req.Version < 0:
		return invalid("version", `field "version" must be positive (or absent for the latest), got %d`, req.Version)
	case req.Version != 0 && req.BpmnProcessID == "":
		return invalid("version", `field "version" needs "bpmnProcessId"`)
	}
	if err := checkObject("variables", req.Variables); err != nil {
		return err
	}
	return checkAwait(req.Await)
}

func createdInstance(rec record.Record) InstanceResult {
	return InstanceResult{ProcessInstanceKey: Key(rec.Key), BpmnProcessID: rec.Value.BpmnProcessID,
		Version: rec.Value.Version, ProcessDefinitionKey: Key(rec.Value.ProcessDefinitionKey)}
}

func finishedInstance(out engine.Outcome) *InstanceResult {
	state := "COMPLETED"
	if !out.Completed {
		state = "TERMINATED"
	}
	return &InstanceResult{ProcessInstanceKey: Key(out.ProcessInstanceKey), BpmnProcessID: out.BpmnProcessID,
		Version: out.Version, ProcessDefinitionKey: Key(out.ProcessDefinitionKey), State: state, Variables: objectOrEmpty(out.Variables)}
}

func (s *Server) cancelInstance(w http.ResponseWriter, r *http.Request) error {
	key, err := pathKey(r, "processInstanceKey")
	if err != nil {
		return err
	}
	return noContent(w, s.engine.CancelInstance(r.Context(), key))
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) error {
	key, err := pathKey(r, "processInstanceKey")
	if err != nil {
		return err
	}
	st, err := s.engine.InstanceState(r.Context(), key)
	if err != nil {
		return err
	}
	v := st.Value
	out := Instance{
		ProcessInstanceKey: Key(st.Key), BpmnProcessID: v.BpmnProcessID, Version: v.Version,
		ProcessDefinitionKey: Key(v.ProcessDefinitionKey), State: "ACTIVE",
		ParentProcessInstanceKey: Key(v.ParentProcessInstanceKey), ParentElementInstanceKey: Key(v.ParentElementInstanceKey),
		Variables: st.Variables, ElementInstances: make([]ElementInstance, len(st.Elements)), Incidents: make([]Incident, len(st.Incidents)),
	}
	if out.Variables == nil {
		out.Variables = map[string]json.RawMessage{}
	}
	if st.State == record.ElementTerminating {
		out.State = "TERMINATING"
	}
	for i, el := range st.Elements {
		out.ElementInstances[i] = ElementInstance{Key: Key(el.Key), ElementID: el.Value.ElementID, ElementType: el.Value.ElementType,
			State: strings.TrimPrefix(el.State.String(), "ELEMENT_"), FlowScopeKey: Key(el.Value.FlowScopeKey),
			JobKey: Key(el.JobKey), IncidentKey: Key(el.IncidentKey), Variables: el.Variables}
	}
	for i, in := range st.Incidents {
		out.Incidents[i] = incidentOf(in)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) modifyInstance(w http.ResponseWriter, r *http.Request) error {
	key, req, err := command[ModifyInstanceRequest](w, r, "processInstanceKey")
	if err != nil {
		return err
	}
	var ins []record.Instruction
	for _, a := range req.ActivateInstructions {
		ins = append(ins, record.Instruction{Activate: true, ElementID: a.ElementID, AncestorKey: int64(a.AncestorElementInstanceKey), Variables: a.Variables})
	}
	for _, t := range req.TerminateInstructions {
		ins = append(ins, record.Instruction{ElementInstanceKey: int64(t.ElementInstanceKey)})
	}
	return noContent(w, s.engine.ModifyInstance(r.Context(), key, ins))
}

func (req *ModifyInstanceRequest) check() error {
	if len(req.ActivateInstructions)+len(req.TerminateInstructions) == 0 {
		return invalid("activateInstructions", `give at least one of "activateInstructions" and "terminateInstructions"`)
	}
	for i, a := range req.ActivateInstructions {
		field := fmt.Sprintf("activateInstructions[%d]", i)
		if a.ElementID == "" {
			return invalid(field+".elementId", "field %q must name the element to activate", field+".elementId")
		}
		if err := checkObject(field+".variables", a.Variables); err != nil {
			return err
		}
	}
	for i, t := range req.TerminateInstructions {
		if t.ElementInstanceKey == 0 {
			field := fmt.Sprintf("terminateInstructions[%d].elementInstanceKey", i)
			return invalid(field, "field %q must be the key of the element instance to terminate", field)
		}
	}
	return nil
}

func (s *Server) setVariables(w http.ResponseWriter, r *http.Request) error {
	key, req, err := command[SetVariablesRequest](w, r, "elementInstanceKey")
	if err != nil {
		return err
	}
	_, err = s.engine.SetVariables(r.Context(), key, req.Variables, req.Local)
	return noContent(w, err)
}

func (req *SetVariablesRequest) check() error {
	if len(req.Variables) == 0 || string(req.Variables) == "null" {
		return invalid("variables", `field "variables" must be a JSON object of the variables to set`)
	}
	return checkObject("variables", req.Variables)
}

func startAt(id string) []string {
	if id == "" {
		return nil
	}
	return []string{id}
}
