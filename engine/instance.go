package engine

import (
	"encoding/json"
	"fmt"
	"slices"

	"eddy/bpmn"
	"eddy/record"
)

// elementType is the BPMN element type as Zeebe names it on records.
func elementType(el *bpmn.Element) string {
	switch el.Kind {
	case bpmn.KindProcess:
		return "PROCESS"
	case bpmn.KindStartEvent:
		return "START_EVENT"
	case bpmn.KindEndEvent:
		return "END_EVENT"
	case bpmn.KindIntermediateCatchEvent:
		return "INTERMEDIATE_CATCH_EVENT"
	case bpmn.KindIntermediateThrowEvent:
		return "INTERMEDIATE_THROW_EVENT"
	case bpmn.KindBoundaryEvent:
		return "BOUNDARY_EVENT"
	case bpmn.KindServiceTask:
		return "SERVICE_TASK"
	case bpmn.KindUserTask:
		return "USER_TASK"
	case bpmn.KindReceiveTask:
		return "RECEIVE_TASK"
	case bpmn.KindSendTask:
		return "SEND_TASK"
	case bpmn.KindScriptTask:
		return "SCRIPT_TASK"
	case bpmn.KindBusinessRuleTask:
		return "BUSINESS_RULE_TASK"
	case bpmn.KindManualTask:
		return "MANUAL_TASK"
	case bpmn.KindTask:
		return "TASK"
	case bpmn.KindExclusiveGateway:
		return "EXCLUSIVE_GATEWAY"
	case bpmn.KindParallelGateway:
		return "PARALLEL_GATEWAY"
	case bpmn.KindInclusiveGateway:
		return "INCLUSIVE_GATEWAY"
	case bpmn.KindEventBasedGateway:
		return "EVENT_BASED_GATEWAY"
	case bpmn.KindSubProcess:
		return "SUB_PROCESS"
	case bpmn.KindEventSubProcess:
		return "EVENT_SUB_PROCESS"
	case bpmn.KindCallActivity:
		return "CALL_ACTIVITY"
	}
	return "UNSPECIFIED"
}

const multiInstanceBody = "MULTI_INSTANCE_BODY"

func (c *Core) piEvent(in record.Intent, inst *elementInstance) {
	if inst.Value.CorrelationKey != "" {
		// A root's start message key is bookkeeping, not part of its records.
		v := inst.Value
		v.CorrelationKey = ""
		c.event(record.ProcessInstance, in, inst.Key, &v)
		return
	}
	c.event(record.ProcessInstance, in, inst.Key, &inst.Value)
}

// startInstance creates a process instance of def and starts it at start
// with vars as its variables. parent is the call activity instance that
// called it, nil for a top-level instance.
func (c *Core) startInstance(def *definition, proc *bpmn.Process, start bpmn.ElementIndex, vars json.RawMessage, parent *elementInstance) *elementInstance {
	key := c.newKey()
	root := &elementInstance{Key: key, State: record.ElementActivating, Value: record.Value{
		BpmnProcessID: def.BpmnProcessID, Version: def.Version, ProcessDefinitionKey: def.Key,
		ProcessInstanceKey: key, ElementID: proc.ID, ElementType: "PROCESS", FlowScopeKey: -1,
	}}
	if parent != nil {
		root.Value.ParentProcessInstanceKey = parent.Value.ProcessInstanceKey
		root.Value.ParentElementInstanceKey = parent.Key
	}
	c.st.elements.put(key, root)
	c.piEvent(record.ElementActivating, root)
	if len(vars) > 0 {
		c.setLocalVariables(root, vars)
	}
	root.State = record.ElementActivated
	c.piEvent(record.ElementActivated, root)
	c.openScopeSubscriptions(root, proc, bpmn.RootIndex)
	c.token(root, start, -1, nil)
	return root
}

// token sends a token into scope towards element: the scope counts it as
// active until it is consumed, so that it never completes in between.
func (c *Core) token(scope *elementInstance, element bpmn.ElementIndex, flow bpmn.FlowIndex, payload json.RawMessage) {
	scope.Active++
	c.st.elements.touch(scope.Key)
	c.enqueue(action{kind: actActivate, key: scope.Key, element: int32(element), flow: int32(flow), payload: payload})
}

// activate consumes a token in scope and activates element.
func (c *Core) activate(scopeKey int64, idx int32, flow int32, payload json.RawMessage) {
	scope := c.st.elements.get(scopeKey)
	if scope == nil {
		return
	}
	if scope.State != record.ElementActivated {
		// The scope is being terminated: the token dies with it.
		c.release(scope)
		return
	}
	proc := c.model(scope.Value.ProcessDefinitionKey)
	el := proc.Element(bpmn.ElementIndex(idx))
	if flow >= 0 && c.isJoin(el) {
		if !c.join(scope, proc, el, flow) {
			return
		}
	}
	key := c.newKey()
	inst := &elementInstance{Key: key, State: record.ElementActivating, Value: scope.Value}
	v := &inst.Value
	v.ElementID, v.ElementType, v.FlowScopeKey, v.Element = el.ID, elementType(el), scopeKey, idx
	v.ParentProcessInstanceKey, v.ParentElementInstanceKey, v.CorrelationKey = 0, 0, ""
	inner := el.MultiInstance != nil && c.isInnerInstance(scope, idx)
	if el.MultiInstance != nil && !inner {
		v.ElementType = multiInstanceBody
	}
	inst.Payload = payload
	if inner {
		inst.Payload = nil
		inst.Loop = loopCounterOf(payload)
	}
	if flow >= 0 && proc.Element(proc.Flow(bpmn.FlowIndex(flow)).Source).Kind == bpmn.KindEventBasedGateway {
		inst.Triggered = true
	}
	c.st.elements.put(key, inst)
	c.addChild(scopeKey, key)
	c.piEvent(record.ElementActivating, inst)
	if inner {
		c.setLocalVariables(inst, payload)
	}
	c.onActivating(inst, proc, el)
}

// isInnerInstance reports whether element idx activated in scope is one
// instance of a multi-instance body (the scope being that body).
func (c *Core) isInnerInstance(scope *elementInstance, idx int32) bool {
	return scope.Value.ElementType == multiInstanceBody && scope.Value.Element == idx
}

func (c *Core) addChild(scope, child int64) {
	m := c.st.children[scope]
	if m == nil {
		m = map[int64]struct{}{}
		c.st.children[scope] = m
	}
	m[child] = struct{}{}
}

// release gives back a token a dying scope will not use.
func (c *Core) release(scope *elementInstance) {
	scope.Active--
	c.st.elements.touch(scope.Key)
	c.afterChildGone(scope)
}

// activated marks inst active.
func (c *Core) activated(inst *elementInstance) {
	inst.State = record.ElementActivated
	c.st.elements.touch(inst.Key)
	c.piEvent(record.ElementActivated, inst)
}

// onActivating runs an element's activation: input mappings, then its
// kind's behaviour. It runs again when an incident on it is resolved.
func (c *Core) onActivating(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	if inst.Value.ElementType == multiInstanceBody {
		c.activateMultiInstance(inst, proc, el)
		return
	}
	if len(el.Inputs) > 0 {
		if err := c.applyMappings(inst, el.Inputs, inst.Key, inst.Key, true); err != nil {
			c.raise(inst, "IO_MAPPING_ERROR", err.Error())
			return
		}
	}
	c.behave(inst, proc, el)
}

// complete finishes inst: output mappings, then the flow goes on.
func (c *Core) complete(inst *elementInstance) {
	switch inst.State {
	case record.ElementCompleted, record.ElementTerminating, record.ElementTerminated:
		// Terminated meanwhile (an interrupting event, a terminate end
		// event): it does not complete.
		return
	}
	proc := c.model(inst.Value.ProcessDefinitionKey)
	el := proc.Element(bpmn.ElementIndex(inst.Value.Element))
	if inst.Key == inst.Value.ProcessInstanceKey {
		el = proc.Root()
	}
	if inst.State != record.ElementCompleting {
		inst.State = record.ElementCompleting
		c.st.elements.touch(inst.Key)
		c.piEvent(record.ElementCompleting, inst)
	}
	var carried json.RawMessage
	if el.Kind == bpmn.KindEventBasedGateway {
		// The variables belong to the event that occurred: its output
		// mappings decide what they leave in the scope.
		carried, inst.Payload = inst.Payload, nil
	}
	if inst.Value.ElementType == multiInstanceBody {
		if err := c.completeMultiInstance(inst, el); err != nil {
			c.raise(inst, "IO_MAPPING_ERROR", err.Error())
			return
		}
	} else if err := c.completionVariables(inst, el); err != nil {
		c.raise(inst, "IO_MAPPING_ERROR", err.Error())
		return
	}
	flows, err := c.outgoing(inst, proc, el)
	if err != nil {
		c.raise(inst, "CONDITION_ERROR", err.Error())
		return
	}
	if body := c.st.elements.get(inst.Value.FlowScopeKey); body != nil && c.isInnerInstance(body, inst.Value.Element) {
		if err := c.innerCompleted(body, inst, el); err != nil {
			c.raise(inst, "EXTRACT_VALUE_ERROR", err.Error())
			return
		}
	}
	inst.State = record.ElementCompleted
	if inst.Key == inst.Value.ProcessInstanceKey {
		// The end of an instance carries its variables: whoever waits for
		// its outcome reads them from the log.
		done := inst.Value
		done.Variables, done.CorrelationKey = c.collectVariables(inst.Key), ""
		c.event(record.ProcessInstance, record.ElementCompleted, inst.Key, &done)
	} else {
		c.piEvent(record.ElementCompleted, inst)
	}
	c.closeSubscriptions(inst)
	if inst.Key == inst.Value.ProcessInstanceKey {
		c.instanceEnded(inst, proc, true)
		return
	}
	scope := c.st.elements.get(inst.Value.FlowScopeKey)
	c.remove(inst)
	for _, f := range flows {
		c.takeFlow(scope, proc, f, carried)
	}
	if el.Kind == bpmn.KindIntermediateThrowEvent && el.Event == bpmn.EventLink && el.LinkTarget != bpmn.NoElement {
		c.token(scope, el.LinkTarget, -1, nil)
	}
	if el.Kind == bpmn.KindEndEvent && el.Event == bpmn.EventTerminate {
		c.terminateScopeThenComplete(scope)
	}
	scope.Active--
	c.st.elements.touch(scope.Key)
	c.afterChildGone(scope)
}

func (c *Core) takeFlow(scope *elementInstance, proc *bpmn.Process, f bpmn.FlowIndex, payload json.RawMessage) {
	flow := proc.Flow(f)
	v := scope.Value
	v.ElementID, v.ElementType, v.FlowScopeKey, v.Element = flow.ID, "SEQUENCE_FLOW", scope.Key, int32(f)
	v.ParentProcessInstanceKey, v.ParentElementInstanceKey, v.CorrelationKey = 0, 0, ""
	c.event(record.ProcessInstance, record.SequenceFlowTaken, c.newKey(), &v)
	c.token(scope, flow.Target, f, payload)
}

// remove deletes a finished element instance and its local variables.
func (c *Core) remove(inst *elementInstance) {
	c.st.elements.del(inst.Key)
	if m := c.st.children[inst.Value.FlowScopeKey]; m != nil {
		delete(m, inst.Key)
		if len(m) == 0 {
			delete(c.st.children, inst.Value.FlowScopeKey)
		}
	}
	delete(c.st.children, inst.Key)
	if c.st.vars.get(inst.Key) != nil {
		c.st.vars.del(inst.Key)
	}
}

// afterChildGone decides what a scope does once one of its children (or a
// token) is gone: complete when nothing is left, finish terminating, or
// activate what an interrupting event waited for.
func (c *Core) afterChildGone(scope *elementInstance) {
	if scope.Active > 0 {
		return
	}
	switch scope.State {
	case record.ElementTerminating:
		c.finishTerminate(scope)
	case record.ElementActivated:
		if p := scope.Pending; p != nil {
			scope.Pending = nil
			c.st.elements.touch(scope.Key)
			if p.Element < 0 {
				c.enqueue(action{kind: actComplete, key: scope.Key})
				return
			}
			c.token(scope, bpmn.ElementIndex(p.Element), -1, p.Variables)
			return
		}
		if scope.Value.ElementType == multiInstanceBody {
			c.nextInnerInstance(scope)
			return
		}
		if c.completesWhenEmpty(scope) {
			c.enqueue(action{kind: actComplete, key: scope.Key})
		}
	}
}

// completesWhenEmpty: processes and subprocesses complete when their last
// child is done; other elements wait for their own trigger.
func (c *Core) completesWhenEmpty(scope *elementInstance) bool {
	switch scope.Value.ElementType {
	case "PROCESS", "SUB_PROCESS", "EVENT_SUB_PROCESS":
		return true
	}
	return false
}

// terminate stops inst and everything in it; pending, if set, is activated
// in inst's flow scope once inst is gone (an interrupting boundary event).
func (c *Core) terminate(inst *elementInstance, pending *pendingActivation) {
	if inst.State == record.ElementTerminating || inst.State == record.ElementCompleted {
		return
	}
	if pending != nil {
		inst.Pending = pending
	}
	inst.State = record.ElementTerminating
	c.st.elements.touch(inst.Key)
	c.piEvent(record.ElementTerminating, inst)
	c.closeSubscriptions(inst)
	c.cancelJob(inst)
	c.resolveOpenIncident(inst)
	if inst.Called != 0 {
		if child := c.st.elements.get(inst.Called); child != nil {
			inst.Active++
			c.terminate(child, nil)
			return
		}
	}
	c.terminateChildren(inst)
	// Children that end at once finish inst through afterChildGone; only
	// a childless inst is finished here.
	if inst.Active == 0 && inst.State == record.ElementTerminating {
		c.finishTerminate(inst)
	}
}

func (c *Core) terminateChildren(inst *elementInstance) {
	// Tokens waiting at joins die here.
	for _, n := range inst.Joins {
		inst.Active -= n
	}
	inst.Joins = nil
	for _, k := range sortedKeys(c.st.children[inst.Key]) {
		if child := c.st.elements.get(k); child != nil {
			c.terminate(child, nil)
		}
	}
}

func (c *Core) finishTerminate(inst *elementInstance) {
	if inst.State == record.ElementTerminated {
		return
	}
	inst.State = record.ElementTerminated
	c.piEvent(record.ElementTerminated, inst)
	if inst.Key == inst.Value.ProcessInstanceKey {
		c.instanceEnded(inst, c.model(inst.Value.ProcessDefinitionKey), false)
		return
	}
	scope := c.st.elements.get(inst.Value.FlowScopeKey)
	c.remove(inst)
	if inst.Pending != nil && scope != nil && scope.State == record.ElementActivated {
		c.token(scope, bpmn.ElementIndex(inst.Pending.Element), -1, inst.Pending.Variables)
	}
	if scope != nil {
		scope.Active--
		c.st.elements.touch(scope.Key)
		c.afterChildGone(scope)
	}
}

// terminateScopeThenComplete implements the terminate end event: every
// other element of the scope is terminated, then the scope completes.
func (c *Core) terminateScopeThenComplete(scope *elementInstance) {
	scope.Pending = &pendingActivation{Element: -1}
	c.st.elements.touch(scope.Key)
	c.terminateChildren(scope)
}

// instanceEnded cleans up a finished process instance and tells its caller.
func (c *Core) instanceEnded(root *elementInstance, proc *bpmn.Process, completed bool) {
	var vars json.RawMessage
	if completed && root.Value.ParentElementInstanceKey != 0 {
		vars = c.collectVariables(root.Key)
	}
	c.remove(root)
	c.drained(root.Value.ProcessDefinitionKey)
	if root.Value.CorrelationKey != "" {
		c.startBuffered(root.Value.BpmnProcessID, root.Value.CorrelationKey)
	}
	parent := c.st.elements.get(root.Value.ParentElementInstanceKey)
	if parent == nil {
		return
	}
	parent.Called = 0
	c.st.elements.touch(parent.Key)
	if parent.State == record.ElementTerminating {
		parent.Active--
		c.afterChildGone(parent)
		return
	}
	if completed {
		pel := c.model(parent.Value.ProcessDefinitionKey).Element(bpmn.ElementIndex(parent.Value.Element))
		// Output mappings read the child's variables even when they are not
		// all propagated (Zeebe passes them whenever either applies).
		if pel.CalledElement == nil || pel.CalledElement.PropagateAllChildVariables || len(pel.Outputs) > 0 {
			parent.Payload = vars
		}
		c.st.elements.touch(parent.Key)
		c.enqueue(action{kind: actComplete, key: parent.Key})
	}
}

// processInstanceCommand runs CANCEL, the one process instance command.
func (c *Core) processInstanceCommand(cmd *record.Record) Response {
	if cmd.Intent != record.Cancel {
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("unknown process instance command %s", cmd.Intent))
	}
	root := c.st.elements.get(cmd.Key)
	if root == nil || root.Key != root.Value.ProcessInstanceKey {
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to cancel a process instance with key '%d', but no such process was found", cmd.Key))
	}
	if root.Value.ParentProcessInstanceKey != 0 {
		return c.reject(cmd, record.InvalidState, fmt.Sprintf("Expected to cancel a process instance with key '%d', but it is created by a parent process instance. Cancel the root process instance '%d' instead.", cmd.Key, root.Value.ParentProcessInstanceKey))
	}
	c.terminate(root, nil)
	return Response{Record: record.Record{Key: root.Key, Value: root.Value}}
}

// resume continues an element after its incident was resolved.
func (c *Core) resume(inst *elementInstance) {
	proc := c.model(inst.Value.ProcessDefinitionKey)
	el := proc.Element(bpmn.ElementIndex(inst.Value.Element))
	if inst.Key == inst.Value.ProcessInstanceKey {
		el = proc.Root()
	}
	switch inst.State {
	case record.ElementActivating:
		c.onActivating(inst, proc, el)
	case record.ElementCompleting:
		c.complete(inst)
	case record.ElementActivated:
		c.behaveAgain(inst, proc, el)
	}
}

func sortedKeys(m map[int64]struct{}) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
