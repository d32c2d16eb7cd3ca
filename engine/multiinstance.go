package engine

import (
	"encoding/json"
	"fmt"
	"strconv"

	"eddy/bpmn"
)

// A multi-instance activity runs as a body (ElementType
// MULTI_INSTANCE_BODY) whose children are the inner instances of the same
// element, one per item of the input collection: all at once (parallel) or
// one after the other (sequential).

func (c *Core) activateMultiInstance(body *elementInstance, proc *bpmn.Process, el *bpmn.Element) {
	mi := el.MultiInstance
	raw, err := c.evalJSON(&mi.InputCollection, body.Key)
	if err != nil {
		c.raise(body, "EXTRACT_VALUE_ERROR", fmt.Sprintf("failed to evaluate the input collection of '%s': %v", el.ID, err))
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		c.raise(body, "EXTRACT_VALUE_ERROR", fmt.Sprintf("Expected the input collection of '%s' to be a list, but it is %s", el.ID, describeJSON(raw)))
		return
	}
	if !c.openEventSubscriptions(body, proc, el.Boundaries) {
		return
	}
	body.Items = raw
	body.Results = make([]json.RawMessage, len(items))
	for i := range body.Results {
		body.Results[i] = json.RawMessage("null")
	}
	c.activated(body)
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

// nextItem starts the inner instance of the next item.
func (c *Core) nextItem(body *elementInstance, el *bpmn.Element, items []json.RawMessage) {
	i := body.Loop
	body.Loop++
	c.st.elements.touch(body.Key)
	vars := map[string]json.RawMessage{"loopCounter": json.RawMessage(strconv.Itoa(int(i) + 1))}
	if el.MultiInstance.InputElement != "" {
		vars[el.MultiInstance.InputElement] = items[i]
	}
	c.token(body, el.Index, -1, mustJSON(vars))
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

// innerCompleted collects an inner instance's output element and checks
// the completion condition.
func (c *Core) innerCompleted(body *elementInstance, inner *elementInstance, el *bpmn.Element) error {
	mi := el.MultiInstance
	if mi.OutputElement != nil && inner.Loop > 0 && int(inner.Loop) <= len(body.Results) {
		v, err := c.evalJSON(mi.OutputElement, inner.Key)
		if err != nil {
			return fmt.Errorf("failed to evaluate the output element of '%s': %v", el.ID, err)
		}
		body.Results[inner.Loop-1] = v
	}
	c.st.elements.touch(body.Key)
	if mi.CompletionCondition != nil {
		done, err := c.evalBool(mi.CompletionCondition, body.Key)
		if err != nil {
			return fmt.Errorf("failed to evaluate the completion condition of '%s': %v", el.ID, err)
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
	return nil
}

// completeMultiInstance sets the output collection when the body completes.
func (c *Core) completeMultiInstance(body *elementInstance, el *bpmn.Element) error {
	if name := el.MultiInstance.OutputCollection; name != "" {
		if scope := c.st.elements.get(body.Value.FlowScopeKey); scope != nil {
			c.propagateVariables(scope, objectOf(name, mustJSON(body.Results)))
		}
	}
	return nil
}
