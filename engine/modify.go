package engine

import (
	"fmt"

	"eddy/bpmn"
	"eddy/record"
)

// modifyInstance runs a process instance modification: terminate the given
// element instances and activate the given elements. An element is
// activated inside the active instance of its flow scope; when there is
// none, the missing (sub)process scopes are activated first, without their
// start events, as Zeebe does. The command is checked whole before anything
// changes.
func (c *Core) modifyInstance(cmd *record.Record) Response {
	root := c.st.elements.get(cmd.Key)
	if root == nil || root.Key != root.Value.ProcessInstanceKey {
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to modify process instance but no process instance found with key '%d'", cmd.Key))
	}
	proc := c.model(root.Value.ProcessDefinitionKey)
	type activation struct {
		scope   *elementInstance
		missing []bpmn.ElementIndex // scopes to activate inside scope first, outermost first
		el      *bpmn.Element
		vars    []byte
	}
	var acts []activation
	for _, in := range cmd.Value.Instructions {
		if in.Activate {
			el, ok := proc.Lookup(in.ElementID)
			if !ok || el.Index == bpmn.RootIndex {
				return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more activate instructions with an element that could not be found: '%s'", root.Value.BpmnProcessID, in.ElementID))
			}
			if len(in.Variables) > 0 {
				if reason := c.checkDocument(in.Variables); reason != "" {
					return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to modify instance of process '%s' but the variables of the activate instruction for '%s' are invalid: %s", root.Value.BpmnProcessID, in.ElementID, reason))
				}
			}
			scope, missing, reason := c.modificationScope(root, proc, el, in.AncestorKey)
			if scope == nil {
				return c.reject(cmd, record.InvalidArgument, reason)
			}
			acts = append(acts, activation{scope, missing, el, in.Variables})
			continue
		}
		inst := c.st.elements.get(in.ElementInstanceKey)
		if inst == nil || inst.Value.ProcessInstanceKey != root.Key {
			return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more terminate instructions with an element instance that could not be found: '%d'", root.Value.BpmnProcessID, in.ElementInstanceKey))
		}
	}
	// Instructions that need the same missing scope share one instance of it.
	created := map[[2]int64]*elementInstance{}
	for _, a := range acts {
		scope := a.scope
		for _, s := range a.missing {
			id := [2]int64{scope.Key, int64(s)}
			if made := created[id]; made != nil {
				scope = made
				continue
			}
			scope = c.activateScope(scope, proc, proc.Element(s))
			created[id] = scope
		}
		if len(a.vars) > 0 {
			c.setLocalVariables(scope, a.vars)
		}
		c.token(scope, a.el.Index, -1, nil)
	}
	for _, in := range cmd.Value.Instructions {
		if !in.Activate {
			if inst := c.st.elements.get(in.ElementInstanceKey); inst != nil {
				scope := c.st.elements.get(inst.Value.FlowScopeKey)
				c.terminate(inst, nil)
				c.terminateEmptyScopes(scope)
			}
		}
	}
	ev := c.event(record.ProcessInstanceModification, record.Modified, root.Key, &cmd.Value)
	return Response{Record: *ev}
}

// modificationScope finds where to activate el: the instance of its flow
// scope (or, given an ancestor, the instance under that ancestor), or the
// nearest active ancestor instance and the scopes missing below it.
func (c *Core) modificationScope(root *elementInstance, proc *bpmn.Process, el *bpmn.Element, ancestor int64) (*elementInstance, []bpmn.ElementIndex, string) {
	pid := root.Value.BpmnProcessID
	// The chain of scopes from the process down to el's flow scope.
	var chain []bpmn.ElementIndex
	for s := el.Parent; s != bpmn.RootIndex; s = proc.Element(s).Parent {
		chain = append([]bpmn.ElementIndex{s}, chain...)
	}
	var at *elementInstance
	start := 0
	if ancestor > 0 {
		a := c.st.elements.get(ancestor)
		if a == nil || a.Value.ProcessInstanceKey != root.Key || a.State != record.ElementActivated {
			return nil, nil, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more activate instructions with an ancestor scope key that does not exist, or is not in an active state: '%d'", pid, ancestor)
		}
		at, start = a, -1
		if a.Key == root.Key {
			start = 0
		}
		for i, s := range chain {
			if a.Value.Element == int32(s) && a.Key != root.Key {
				start = i + 1
			}
		}
		if start < 0 {
			return nil, nil, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more activate instructions with an ancestor scope key that is not an ancestor of the element to activate: '%d' is not a flow scope of '%s'", pid, ancestor, el.ID)
		}
	} else {
		at = root
		// Follow the active instances down as long as there is exactly one.
		for start < len(chain) {
			var found *elementInstance
			for _, k := range sortedKeys(c.st.children[at.Key]) {
				inst := c.st.elements.get(k)
				if inst != nil && inst.Value.Element == int32(chain[start]) && inst.State == record.ElementActivated && inst.Value.ElementType != multiInstanceBody {
					if found != nil {
						return nil, nil, fmt.Sprintf("Expected to modify instance of process '%s' but it contains one or more activate instructions for an element that has a flow scope with more than one active instance: '%s'. Give an ancestor element instance key.", pid, proc.Element(chain[start]).ID)
					}
					found = inst
				}
			}
			if found == nil {
				break
			}
			at = found
			start++
		}
	}
	missing := chain[start:]
	for _, s := range missing {
		if proc.Element(s).MultiInstance != nil {
			return nil, nil, fmt.Sprintf("Expected to modify instance of process '%s' but the flow scope '%s' of element '%s' is a multi-instance activity with no active instance; activate '%s' itself instead", pid, proc.Element(s).ID, el.ID, proc.Element(s).ID)
		}
	}
	return at, missing, ""
}

// activateScope activates an instance of subprocess el inside scope
// without starting it: the elements the modification activates run in it.
// As in Zeebe, its input mappings are not applied; its boundary and event
// subprocess events are subscribed to.
func (c *Core) activateScope(scope *elementInstance, proc *bpmn.Process, el *bpmn.Element) *elementInstance {
	key := c.newKey()
	inst := &elementInstance{Key: key, State: record.ElementActivating, Value: scope.Value}
	v := &inst.Value
	v.ElementID, v.ElementType, v.FlowScopeKey, v.Element = el.ID, elementType(el), scope.Key, int32(el.Index)
	v.ParentProcessInstanceKey, v.ParentElementInstanceKey, v.CorrelationKey = 0, 0, ""
	scope.Active++
	c.st.elements.touch(scope.Key)
	c.st.elements.put(key, inst)
	c.addChild(scope.Key, key)
	c.piEvent(record.ElementActivating, inst)
	if el.Kind == bpmn.KindSubProcess && !c.openEventSubscriptions(inst, proc, el.Boundaries) {
		return inst // an incident; what is activated in it waits with it
	}
	c.activated(inst)
	c.openScopeSubscriptions(inst, proc, el.Index)
	return inst
}

// terminateEmptyScopes terminates scope, and the scopes around it, when a
// terminate instruction left it with nothing active: as in Zeebe, a scope
// emptied by a modification is terminated, not completed (terminating the
// last element of an instance terminates the instance).
func (c *Core) terminateEmptyScopes(scope *elementInstance) {
	for scope != nil && scope.State == record.ElementActivated && scope.Active == 0 && c.completesWhenEmpty(scope) {
		parent := c.st.elements.get(scope.Value.FlowScopeKey)
		if scope.Key == scope.Value.ProcessInstanceKey {
			parent = nil
		}
		c.terminate(scope, nil)
		scope = parent
	}
}
