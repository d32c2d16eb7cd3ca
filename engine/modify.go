package engine

import (
	"fmt"

	"eddy/bpmn"
	"eddy/record"
)

// modifyInstance runs a process instance modification: terminate the given
// element instances and activate the given elements, inside an existing
// instance of their flow scope.
func (c *Core) modifyInstance(cmd *record.Record) Response {
	root := c.st.elements.get(cmd.Key)
	if root == nil || root.Key != root.Value.ProcessInstanceKey {
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to modify process instance but no process instance found with key '%d'", cmd.Key))
	}
	proc := c.model(root.Value.ProcessDefinitionKey)
	type activation struct {
		scope *elementInstance
		el    *bpmn.Element
		vars  []byte
	}
	var acts []activation
	for _, in := range cmd.Value.Instructions {
		if in.Activate {
			el, ok := proc.Lookup(in.ElementID)
			if !ok {
				return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more activate instructions with an element that could not be found: '%s'", root.Value.BpmnProcessID, in.ElementID))
			}
			scope, reason := c.modificationScope(root, proc, el, in.AncestorKey)
			if scope == nil {
				return c.reject(cmd, record.InvalidArgument, reason)
			}
			acts = append(acts, activation{scope, el, in.Variables})
			continue
		}
		inst := c.st.elements.get(in.ElementInstanceKey)
		if inst == nil || inst.Value.ProcessInstanceKey != root.Key {
			return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more terminate instructions with an element instance that could not be found: '%d'", root.Value.BpmnProcessID, in.ElementInstanceKey))
		}
	}
	for _, a := range acts {
		if len(a.vars) > 0 {
			c.setLocalVariables(a.scope, a.vars)
		}
		c.token(a.scope, a.el.Index, -1, nil)
	}
	for _, in := range cmd.Value.Instructions {
		if !in.Activate {
			if inst := c.st.elements.get(in.ElementInstanceKey); inst != nil {
				c.terminate(inst, nil)
			}
		}
	}
	ev := c.event(record.ProcessInstanceModification, record.Modified, root.Key, &cmd.Value)
	return Response{Record: *ev}
}

// modificationScope finds the instance of el's flow scope to activate it in.
func (c *Core) modificationScope(root *elementInstance, proc *bpmn.Process, el *bpmn.Element, ancestor int64) (*elementInstance, string) {
	if el.Parent == bpmn.RootIndex {
		return root, ""
	}
	if ancestor != 0 {
		if a := c.st.elements.get(ancestor); a != nil && a.Value.Element == int32(el.Parent) && a.Value.ProcessInstanceKey == root.Key {
			return a, ""
		}
		return nil, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more activate instructions with an ancestor scope key that does not exist, or is not in an active state: '%d'", root.Value.BpmnProcessID, ancestor)
	}
	var found *elementInstance
	for _, inst := range c.st.elements.rows {
		if inst.Value.ProcessInstanceKey == root.Key && inst.Value.Element == int32(el.Parent) && inst.Key != root.Key && inst.State == record.ElementActivated {
			if found != nil {
				return nil, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more activate instructions for an element that has a flow scope with more than one active instance: '%s'. Give an ancestor element instance key.", root.Value.BpmnProcessID, el.ID)
			}
			found = inst
		}
	}
	if found == nil {
		return nil, fmt.Sprintf("Expected to modify instance of process '%s' but the flow scope of element '%s' has no active instance", root.Value.BpmnProcessID, el.ID)
	}
	return found, ""
}
