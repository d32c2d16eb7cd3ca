package engine

import (
	"fmt"

	"eddy/bpmn"
	"eddy/record"
)

// createInstance is the PROCESS_INSTANCE_CREATION CREATE command.
func (c *Core) createInstance(cmd *record.Record) Response {
	v := cmd.Value
	def, err := c.findDefinition(&v)
	if err != nil {
		return c.reject(cmd, record.NotFound, err.Error())
	}
	if len(v.Variables) > 0 {
		if reason := c.checkDocument(v.Variables); reason != "" {
			return c.reject(cmd, record.InvalidArgument, reason)
		}
	}
	proc := c.model(def.Key)
	start := proc.NoneStart
	var more []bpmn.ElementIndex
	if v.ElementID != "" {
		// Start instructions: begin at these elements instead.
		ids := []string{v.ElementID}
		for _, in := range v.Instructions {
			ids = append(ids, in.ElementID)
		}
		for i, id := range ids {
			el, ok := proc.Lookup(id)
			if !ok || el.Parent != bpmn.RootIndex {
				return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to create instance of process with start instructions but no element found with id '%s' at the top level of the process", id))
			}
			if i == 0 {
				start = el.Index
			} else {
				more = append(more, el.Index)
			}
		}
	}
	if start == bpmn.NoElement {
		return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to create instance of process with none start event, but there is no such event in process '%s'", def.BpmnProcessID))
	}
	root := c.startInstance(def, proc, start, v.Variables, nil)
	for _, el := range more {
		c.token(root, el, -1, nil)
	}
	out := record.Value{BpmnProcessID: def.BpmnProcessID, Version: def.Version, ProcessDefinitionKey: def.Key,
		ProcessInstanceKey: root.Key, Variables: v.Variables, FetchVariables: v.FetchVariables, RequestTimeout: v.RequestTimeout}
	ev := c.event(record.ProcessInstanceCreation, record.Created, root.Key, &out)
	return Response{Record: *ev}
}

// callActivity starts the called process as a child instance.
func (c *Core) callActivity(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	id, err := c.evalString(&el.CalledElement.ProcessID, inst.Key)
	if err != nil {
		c.raise(inst, "EXTRACT_VALUE_ERROR", fmt.Sprintf("called process id of '%s': %v", el.ID, err))
		return
	}
	def := c.latestDefinition(id)
	if def == nil {
		c.raise(inst, "CALLED_ELEMENT_ERROR", fmt.Sprintf("Expected process with BPMN process id '%s' to be deployed, but not found.", id))
		return
	}
	child := c.model(def.Key)
	if child.NoneStart == bpmn.NoElement {
		c.raise(inst, "CALLED_ELEMENT_ERROR", fmt.Sprintf("Expected process with BPMN process id '%s' to have a none start event, but it has none.", id))
		return
	}
	if inst.State == record.ElementActivating {
		if !c.openEventSubscriptions(inst, proc, c.boundaries(inst, el)) {
			return
		}
		c.activated(inst)
	}
	vars := c.collectVariables(inst.Key)
	if el.CalledElement.PropagateAllParentVariables {
		vars = c.visibleVariables(inst.Key, nil)
	}
	root := c.startInstance(def, child, child.NoneStart, vars, inst)
	inst.Called = root.Key
	c.st.elements.touch(inst.Key)
}
