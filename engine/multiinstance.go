package engine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"eddy/bpmn"
	"eddy/feel"
)

// A multi-instance activity runs as a body (ElementType
// MULTI_INSTANCE_BODY) whose children are the inner instances of the same
// element, one per item of the input collection: all at once (parallel) or
// one after the other (sequential). As in Zeebe, each inner instance has
// the local variables loopCounter (from 1) and the input element; the
// output collection is a local variable of the body, a list with one
// entry per item, propagated to the flow scope when the body completes.

func (c *Core) activateMultiInstance(body *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	mi := el.MultiInstance
	raw, err := c.evalJSON(&mi.InputCollection, body.Key)
	if err != nil {
		c.raise(body, "EXTRACT_VALUE_ERROR", fmt.Sprintf("input collection of '%s': %v", el.ID, err))
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || raw[0] != '[' {
		c.raise(body, "EXTRACT_VALUE_ERROR", fmt.Sprintf("Expected the input collection '%s' of '%s' to be a list, but it is %s", mi.InputCollection.Source, el.ID, describeJSON(raw)))
		return
	}
	if !c.openEventSubscriptions(body, proc, el.Boundaries) {
		return
	}
	body.Items = raw
	c.activated(body)
	if name := mi.OutputCollection; name != "" {
		nulls := make([]json.RawMessage, len(items))
		for i := range nulls {
			nulls[i] = json.RawMessage("null")
		}
		c.setVariable(body, name, mustJSON(nulls))
	}
	if len(items) == 0 {
		c.enqueue(action{kind: actComplete, key: body.Key})
		return
	}
	n := 1
	if !mi.Sequential {
		n = len(items)
	}
	for i := 0; i < n; i++ {
		c.nextItem(body, el, items)
	}
}

// isInner reports whether inst is an inner instance of a multi-instance
// body: its element's boundary events belong to the body, not to it.
func (c *Core) isInner(inst *elementInstance) bool {
	if inst.Key == inst.Value.ProcessInstanceKey || inst.Value.ElementType == multiInstanceBody {
		return false
	}
	body := c.st.elements.get(inst.Value.FlowScopeKey)
	return body != nil && c.isInnerInstance(body, inst.Value.Element)
}

// boundaries returns the boundary events inst opens: none for an inner
// instance of a multi-instance body, whose body opens them.
func (c *Core) boundaries(inst *elementInstance, el *bpmn.Element) []bpmn.ElementIndex {
	if len(el.Boundaries) == 0 || c.isInner(inst) {
		return nil
	}
	return el.Boundaries
}

// plainVariable matches an output element that names a variable (or a
// path into one).
var plainVariable = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)(\.[A-Za-z_][A-Za-z0-9_]*)*\s*$`)

// nextItem starts the inner instance of the next item.
func (c *Core) nextItem(body *elementInstance, el *bpmn.Element, items []json.RawMessage) {
	mi := el.MultiInstance
	i := body.Loop
	body.Loop++
	c.st.elements.touch(body.Key)
	vars := map[string]json.RawMessage{}
	// An output element that is a variable exists locally in each inner
	// instance (null at first), so that what a job or a message sets there
	// stays in that instance instead of being shared through the scope.
	if mi.OutputElement != nil && !mi.OutputElement.Static {
		if m := plainVariable.FindStringSubmatch(mi.OutputElement.Source); m != nil {
			vars[m[1]] = json.RawMessage("null")
		}
	}
	if mi.InputElement != "" {
		vars[mi.InputElement] = items[i]
	}
	vars["loopCounter"] = json.RawMessage(strconv.Itoa(int(i) + 1))
	c.token(body, el.Index, -1, mustJSON(vars))
}

// loopCounterOf reads the loop counter nextItem gave an inner instance (the
// body's own counter has moved on when parallel items are activated).
func loopCounterOf(payload json.RawMessage) int32 {
	var v struct {
		LoopCounter int32 `json:"loopCounter"`
	}
	_ = json.Unmarshal(payload, &v)
	return v.LoopCounter
}

// nextInnerInstance runs when a body has no active inner instance: start
// the next item (sequential) or complete.
func (c *Core) nextInnerInstance(body *elementInstance) {
	proc := c.model(body.Value.ProcessDefinitionKey)
	el := proc.Element(bpmn.ElementIndex(body.Value.Element))
	var items []json.RawMessage
	_ = json.Unmarshal(body.Items, &items)
	if el.MultiInstance.Sequential && int(body.Loop) < len(items) && body.Pending == nil {
		c.nextItem(body, el, items)
		return
	}
	c.enqueue(action{kind: actComplete, key: body.Key})
}

// innerCompleted stores an inner instance's output element in the output
// collection and checks the completion condition, which sees the inner
// instance's variables and the body's counters.
func (c *Core) innerCompleted(body *elementInstance, inner *elementInstance, el *bpmn.Element) error {
	mi := el.MultiInstance
	if mi.OutputCollection != "" && mi.OutputElement != nil {
		v, err := c.evalJSON(mi.OutputElement, inner.Key)
		if err != nil {
			return fmt.Errorf("output element of '%s': %v", el.ID, err)
		}
		var list []json.RawMessage
		if row := c.st.vars.get(body.Key); row != nil {
			_ = json.Unmarshal(row.Vars[mi.OutputCollection], &list)
		}
		i := int(inner.Loop) - 1
		if i < 0 || i >= len(list) {
			return fmt.Errorf("Expected the output collection '%s' of '%s' to have an entry for item %d, but it has %d entries; was it changed while the items ran?", mi.OutputCollection, el.ID, i+1, len(list))
		}
		list[i] = v
		c.setVariable(body, mi.OutputCollection, mustJSON(list))
	}
	if mi.CompletionCondition != nil {
		active := int64(len(c.st.children[body.Key]))
		counters := feel.MapScope{
			"numberOfInstances":           feel.Int(int64(body.Loop)),
			"numberOfActiveInstances":     feel.Int(active - 1),
			"numberOfCompletedInstances":  feel.Int(int64(body.Completed) + 1),
			"numberOfTerminatedInstances": feel.Int(max(0, int64(body.Loop-body.Completed)-active)),
		}
		done, err := c.evalBoolWith(mi.CompletionCondition, inner.Key, counters)
		if err != nil {
			return fmt.Errorf("completion condition of '%s': %v", el.ID, err)
		}
		if done {
			body.Pending = &pendingActivation{Element: -1}
			var items []json.RawMessage
			_ = json.Unmarshal(body.Items, &items)
			body.Loop = int32(len(items))
			for _, k := range sortedKeys(c.st.children[body.Key]) {
				if k != inner.Key {
					if other := c.st.elements.get(k); other != nil {
						c.terminate(other, nil)
					}
				}
			}
		}
	}
	body.Completed++
	c.st.elements.touch(body.Key)
	return nil
}

// completeMultiInstance propagates the output collection when the body
// completes.
func (c *Core) completeMultiInstance(body *elementInstance, el *bpmn.Element) error {
	name := el.MultiInstance.OutputCollection
	if name == "" {
		return nil
	}
	scope := c.st.elements.get(body.Value.FlowScopeKey)
	row := c.st.vars.get(body.Key)
	if scope == nil || row == nil {
		return nil
	}
	if v, ok := row.Vars[name]; ok {
		c.propagateVariables(scope, objectOf(name, v))
	}
	return nil
}
