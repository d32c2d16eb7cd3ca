package engine

import (
	"encoding/json"
	"fmt"

	"eddy/bpmn"
	"eddy/record"
)

// openEventSubscriptions opens what each catcher waits for (a message
// subscription, a timer, a signal subscription) on behalf of inst. On a
// failure it closes what it opened, raises an incident and returns false.
func (c *Core) openEventSubscriptions(inst *elementInstance, proc *bpmn.Process, catchers []bpmn.ElementIndex) bool {
	if inst.Triggered {
		return true
	}
	for _, i := range catchers {
		ev := proc.Element(i)
		var err error
		switch {
		case ev.Kind == bpmn.KindReceiveTask || ev.Event == bpmn.EventMessage && ev.Message != nil:
			err = c.openMessageSubscription(inst, ev)
		case ev.Event == bpmn.EventTimer && ev.Timer != nil:
			err = c.scheduleTimer(inst, ev, inst.Value.ProcessDefinitionKey)
		case ev.Event == bpmn.EventSignal && ev.Signal != nil:
			err = c.openSignalSubscription(inst, ev, inst.Value.ProcessDefinitionKey)
		}
		if err != nil {
			c.closeSubscriptions(inst)
			c.raise(inst, "EXTRACT_VALUE_ERROR", err.Error())
			return false
		}
	}
	return true
}

// openScopeSubscriptions opens the start events of a scope's event
// subprocesses (errors and escalations need none: they are looked up when
// thrown).
func (c *Core) openScopeSubscriptions(scope *elementInstance, proc *bpmn.Process, scopeIndex bpmn.ElementIndex) {
	el := proc.Element(scopeIndex)
	var starts []bpmn.ElementIndex
	for _, esp := range el.EventSubProcesses {
		starts = append(starts, proc.Element(esp).StartEvents...)
	}
	if len(starts) > 0 {
		c.openEventSubscriptions(scope, proc, starts)
	}
}

// closeSubscriptions closes every message subscription, timer and signal
// subscription held by inst.
func (c *Core) closeSubscriptions(inst *elementInstance) {
	for _, k := range c.st.subsOf[inst.Key] {
		if s := c.st.procSubs.get(k); s != nil {
			c.st.procSubs.del(k)
			v := record.Value{Name: s.Name, CorrelationKey: s.CorrelationKey, ProcessInstanceKey: s.ProcessInstanceKey, ElementInstanceKey: s.ElementInstanceKey, BpmnProcessID: inst.Value.BpmnProcessID}
			c.event(record.ProcessMessageSubscription, record.Deleted, k, &v)
			c.send(c.partitionFor(s.CorrelationKey), record.MessageSubscription, record.Delete, k, &v)
		}
	}
	delete(c.st.subsOf, inst.Key)
	for _, k := range c.st.timersOf[inst.Key] {
		if t := c.st.timers.get(k); t != nil {
			c.st.timers.del(k)
			c.event(record.Timer, record.Canceled, k, c.timerValue(t))
		}
	}
	delete(c.st.timersOf, inst.Key)
	for _, k := range c.st.sigOf[inst.Key] {
		if s := c.st.signalSubs.get(k); s != nil {
			c.removeSignalSubscription(s)
		}
	}
	delete(c.st.sigOf, inst.Key)
}

// trigger runs what happens when catcher, waited for by inst, occurs: a
// catch event or receive task completes, an event-based gateway takes the
// event's flow, a boundary event interrupts or forks, an event subprocess
// starts.
func (c *Core) trigger(inst *elementInstance, catcher bpmn.ElementIndex, payload json.RawMessage) {
	proc := c.model(inst.Value.ProcessDefinitionKey)
	ev := proc.Element(catcher)
	own := inst.Key != inst.Value.ProcessInstanceKey && bpmn.ElementIndex(inst.Value.Element) == catcher
	switch {
	case own && inst.Value.ElementType != multiInstanceBody:
		c.closeSubscriptions(inst)
		inst.Payload = payload
		c.st.elements.touch(inst.Key)
		c.enqueue(action{kind: actComplete, key: inst.Key})
	case inst.Value.ElementType == "EVENT_BASED_GATEWAY":
		c.closeSubscriptions(inst)
		gw := proc.Element(bpmn.ElementIndex(inst.Value.Element))
		for _, f := range gw.Outgoing {
			if proc.Flow(f).Target == catcher {
				inst.Flows = []int32{int32(f)}
			}
		}
		inst.Payload = payload
		c.st.elements.touch(inst.Key)
		c.enqueue(action{kind: actComplete, key: inst.Key})
	case ev.Kind == bpmn.KindBoundaryEvent:
		if ev.Interrupting {
			c.terminate(inst, &pendingActivation{Element: int32(catcher), Variables: payload})
			return
		}
		if scope := c.st.elements.get(inst.Value.FlowScopeKey); scope != nil {
			c.token(scope, catcher, -1, payload)
		}
	case ev.Kind == bpmn.KindStartEvent && ev.Parent != bpmn.NoElement && proc.Element(ev.Parent).Kind == bpmn.KindEventSubProcess:
		if inst.Interrupted {
			return
		}
		c.interruptScope(inst, proc, ev.Parent, payload)
	default:
		c.raise(inst, "UNKNOWN", fmt.Sprintf("event '%s' occurred, but element '%s' does not wait for it", ev.ID, inst.Value.ElementID))
	}
}

// staysOpen reports whether a catcher keeps its subscription after it
// occurred: non-interrupting boundary events and event subprocesses.
func staysOpen(proc *bpmn.Process, catcher bpmn.ElementIndex) bool {
	ev := proc.Element(catcher)
	switch {
	case ev.Kind == bpmn.KindBoundaryEvent:
		return !ev.Interrupting
	case ev.Kind == bpmn.KindStartEvent && ev.Parent != bpmn.NoElement && proc.Element(ev.Parent).Kind == bpmn.KindEventSubProcess:
		return !proc.Element(ev.Parent).Interrupting
	}
	return false
}
