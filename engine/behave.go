package engine

import (
	"fmt"

	"eddy/bpmn"
	"eddy/record"
)

// behave runs what an element of each kind does once its input mappings
// are applied.
func (c *Core) behave(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	if inst.Triggered {
		// Reached through an event-based gateway: its event has occurred.
		c.activated(inst)
		c.complete(inst)
		return
	}
	switch el.Kind {
	case bpmn.KindStartEvent, bpmn.KindBoundaryEvent, bpmn.KindManualTask, bpmn.KindTask, bpmn.KindParallelGateway:
		c.activated(inst)
		c.complete(inst)

	case bpmn.KindEndEvent, bpmn.KindIntermediateThrowEvent:
		c.throwEvent(inst, proc, el)

	case bpmn.KindIntermediateCatchEvent:
		if el.Event == bpmn.EventLink {
			c.activated(inst)
			c.complete(inst)
			return
		}
		if !c.openEventSubscriptions(inst, proc, []bpmn.ElementIndex{el.Index}) {
			return
		}
		c.activated(inst)

	case bpmn.KindExclusiveGateway, bpmn.KindInclusiveGateway:
		flows, errType, err := c.chooseFlows(inst, proc, el)
		if err != nil {
			c.raise(inst, errType, err.Error())
			return
		}
		inst.Flows = flows
		c.activated(inst)
		c.complete(inst)

	case bpmn.KindEventBasedGateway:
		targets := make([]bpmn.ElementIndex, 0, len(el.Outgoing))
		for _, f := range el.Outgoing {
			targets = append(targets, proc.Flow(f).Target)
		}
		if !c.openEventSubscriptions(inst, proc, targets) {
			return
		}
		c.activated(inst)

	case bpmn.KindScriptTask, bpmn.KindBusinessRuleTask, bpmn.KindServiceTask, bpmn.KindSendTask, bpmn.KindUserTask, bpmn.KindReceiveTask:
		c.behaveTask(inst, proc, el)

	case bpmn.KindSubProcess:
		if !c.openEventSubscriptions(inst, proc, c.boundaries(inst, el)) {
			return
		}
		c.activated(inst)
		c.openScopeSubscriptions(inst, proc, el.Index)
		if el.NoneStart == bpmn.NoElement {
			c.raise(inst, "UNKNOWN", fmt.Sprintf("subprocess '%s' has no none start event", el.ID))
			return
		}
		c.token(inst, el.NoneStart, -1, nil)

	case bpmn.KindEventSubProcess:
		c.activated(inst)
		c.openScopeSubscriptions(inst, proc, el.Index)
		if len(el.StartEvents) == 0 {
			c.raise(inst, "UNKNOWN", fmt.Sprintf("event subprocess '%s' has no start event", el.ID))
			return
		}
		payload := inst.Payload
		inst.Payload = nil
		c.token(inst, el.StartEvents[0], -1, payload)

	case bpmn.KindCallActivity:
		c.callActivity(inst, proc, el)

	default:
		c.raise(inst, "UNKNOWN", fmt.Sprintf("element '%s' of kind %s is not supported", el.ID, el.Kind))
	}
}

// behaveAgain retries the part of an activated element's behaviour that
// raised an incident.
func (c *Core) behaveAgain(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	switch {
	case el.Kind == bpmn.KindEndEvent && el.Event == bpmn.EventError:
		c.throwEvent(inst, proc, el)
	case inst.Called == 0 && el.Kind == bpmn.KindCallActivity:
		c.callActivity(inst, proc, el)
	}
}

func (c *Core) behaveTask(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	switch {
	case el.Kind == bpmn.KindScriptTask && el.Script != nil:
		val, err := c.evalJSON(&el.Script.Expression, inst.Key)
		if err != nil {
			c.raise(inst, "EXTRACT_VALUE_ERROR", err.Error())
			return
		}
		if el.Script.ResultVariable != "" {
			inst.Payload = objectOf(el.Script.ResultVariable, val)
		}
		c.activated(inst)
		c.complete(inst)
		return
	case el.Kind == bpmn.KindBusinessRuleTask && el.CalledDecision != nil:
		c.raise(inst, "CALLED_DECISION_ERROR", fmt.Sprintf("business rule task '%s' calls a decision, and Eddy does not evaluate DMN decisions yet; give it a zeebe:taskDefinition to have a job worker evaluate it", el.ID))
		return
	}
	var subs []bpmn.ElementIndex
	if el.Kind == bpmn.KindReceiveTask {
		subs = append(subs, el.Index)
	}
	subs = append(subs, c.boundaries(inst, el)...)
	if !c.openEventSubscriptions(inst, proc, subs) {
		return
	}
	if el.Kind != bpmn.KindReceiveTask {
		if !c.createJob(inst, proc, el) {
			c.closeSubscriptions(inst)
			return
		}
	}
	c.activated(inst)
}

// throwEvent runs end and intermediate throw events.
func (c *Core) throwEvent(inst *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	switch el.Event {
	case bpmn.EventError:
		code, err := c.evalString(&el.Error.Code, inst.Key)
		if err != nil {
			c.raise(inst, "EXTRACT_VALUE_ERROR", err.Error())
			return
		}
		if inst.State == record.ElementActivating {
			c.activated(inst)
		}
		if !c.catchError(inst, code, nil) {
			c.raise(inst, "UNHANDLED_ERROR_EVENT", uncaughtError(code, ""))
		}
	case bpmn.EventEscalation:
		code, err := c.evalString(&el.Escalation.Code, inst.Key)
		if err != nil {
			c.raise(inst, "EXTRACT_VALUE_ERROR", err.Error())
			return
		}
		c.activated(inst)
		c.throwEscalation(inst, code)
		// An interrupting catcher around the event terminated it.
		if inst.State == record.ElementActivated {
			c.complete(inst)
		}
	case bpmn.EventSignal:
		name, err := c.evalString(&el.Signal.Name, inst.Key)
		if err != nil {
			c.raise(inst, "EXTRACT_VALUE_ERROR", err.Error())
			return
		}
		c.activated(inst)
		c.signalFromInstance(inst, name)
		c.complete(inst)
	case bpmn.EventMessage:
		if el.TaskDefinition != nil {
			if !c.createJob(inst, proc, el) {
				return
			}
			c.activated(inst)
			return
		}
		c.activated(inst)
		c.complete(inst)
	default:
		c.activated(inst)
		c.complete(inst)
	}
}
