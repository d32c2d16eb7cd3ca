package engine

import (
	"encoding/json"
	"fmt"

	"eddy/bpmn"
	"eddy/record"
)

// catchError looks for the catcher of a BPMN error thrown at inst: a
// boundary event of inst or of an enclosing activity, or an error event
// subprocess of an enclosing scope, up through calling process instances.
// The closest catcher with the error's code wins over a catch-all at the
// same level. It reports whether a catcher was found (and triggered);
// nothing changes when none was.
func (c *Core) catchError(inst *elementInstance, code string, vars json.RawMessage) bool {
	for at := inst; at != nil; {
		proc := c.model(at.Value.ProcessDefinitionKey)
		el := proc.Root()
		if at.Key != at.Value.ProcessInstanceKey {
			el = proc.Element(bpmn.ElementIndex(at.Value.Element))
		}
		if !c.isInner(at) && at.State != record.ElementTerminating {
			if b := c.matchCatch(proc, el.Boundaries, bpmn.EventError, code); b != bpmn.NoElement {
				c.terminate(at, &pendingActivation{Element: int32(b), Variables: vars})
				return true
			}
		}
		// A scope an interrupting event subprocess took over cannot be
		// interrupted again (Zeebe raises an incident then too).
		if el.Kind.IsScope() && !at.Interrupted {
			if esp := c.matchCatch(proc, el.EventSubProcesses, bpmn.EventError, code); esp != bpmn.NoElement {
				c.interruptScope(at, proc, esp, vars)
				return true
			}
		}
		if at.Key == at.Value.ProcessInstanceKey {
			at = c.st.elements.get(at.Value.ParentElementInstanceKey)
			continue
		}
		at = c.st.elements.get(at.Value.FlowScopeKey)
	}
	return false
}

// uncaughtError is the message of the incident of an error nothing caught.
func uncaughtError(code, message string) string {
	msg := fmt.Sprintf("Expected to throw an error event with the code '%s', but it was not caught.", code)
	if message != "" {
		msg += " " + message
	}
	return msg
}

// matchCatch returns the catch event of the given kind among candidates
// (boundary events or event subprocesses) that catches code: an exact code
// first, else a catch-all (no code).
func (c *Core) matchCatch(proc *bpmn.Process, candidates []bpmn.ElementIndex, kind bpmn.EventKind, code string) bpmn.ElementIndex {
	catchAll := bpmn.NoElement
	for _, i := range candidates {
		ev := proc.Element(i)
		if ev.Kind == bpmn.KindEventSubProcess {
			if len(ev.StartEvents) == 0 {
				continue
			}
			ev = proc.Element(ev.StartEvents[0])
		}
		if ev.Event != kind {
			continue
		}
		var want string
		switch {
		case kind == bpmn.EventError && ev.Error != nil:
			want = ev.Error.Code.Source
		case kind == bpmn.EventEscalation && ev.Escalation != nil:
			want = ev.Escalation.Code.Source
		}
		if want == "" {
			if catchAll == bpmn.NoElement {
				catchAll = i
			}
			continue
		}
		if want == code {
			return i
		}
	}
	return catchAll
}

// interruptScope starts event subprocess esp in scope: interrupting ones
// terminate the scope's other children first.
func (c *Core) interruptScope(scope *elementInstance, proc *bpmn.Process, esp bpmn.ElementIndex, vars json.RawMessage) {
	if proc.Element(esp).Interrupting {
		scope.Interrupted = true
		scope.Pending = &pendingActivation{Element: int32(esp), Variables: vars}
		c.st.elements.touch(scope.Key)
		c.closeSubscriptions(scope)
		c.terminateChildren(scope)
		if scope.Active == 0 {
			c.afterChildGone(scope)
		}
		return
	}
	c.token(scope, esp, -1, vars)
}

// throwEscalation looks for a catcher of an escalation thrown at inst. An
// interrupting one terminates the scope around inst, and inst with it;
// without a catcher the escalation is only recorded, and the flow goes on.
func (c *Core) throwEscalation(inst *elementInstance, code string) {
	v := inst.Value
	v.ErrorCode = code
	for at := c.st.elements.get(inst.Value.FlowScopeKey); at != nil; {
		proc := c.model(at.Value.ProcessDefinitionKey)
		el := proc.Root()
		if at.Key != at.Value.ProcessInstanceKey {
			el = proc.Element(bpmn.ElementIndex(at.Value.Element))
		}
		catcher := bpmn.NoElement
		if !c.isInner(at) {
			catcher = c.matchCatch(proc, el.Boundaries, bpmn.EventEscalation, code)
		}
		if catcher != bpmn.NoElement {
			c.event(record.Escalation, record.Escalated, c.newKey(), &v)
			if proc.Element(catcher).Interrupting {
				c.terminate(at, &pendingActivation{Element: int32(catcher)})
				return
			}
			if scope := c.st.elements.get(at.Value.FlowScopeKey); scope != nil {
				c.token(scope, catcher, -1, nil)
			}
			return
		}
		if el.Kind.IsScope() {
			if esp := c.matchCatch(proc, el.EventSubProcesses, bpmn.EventEscalation, code); esp != bpmn.NoElement {
				c.event(record.Escalation, record.Escalated, c.newKey(), &v)
				c.interruptScope(at, proc, esp, nil)
				return
			}
		}
		if at.Key == at.Value.ProcessInstanceKey {
			at = c.st.elements.get(at.Value.ParentElementInstanceKey)
			continue
		}
		at = c.st.elements.get(at.Value.FlowScopeKey)
	}
	c.event(record.Escalation, record.NotEscalated, c.newKey(), &v)
}
