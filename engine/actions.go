package engine

import (
	"encoding/json"

	"eddy/record"
)

// The core runs follow-ups (activate the next element, complete a scope,
// deliver a command to itself) from a FIFO queue rather than by recursion,
// as Zeebe processes follow-up commands in order: a long chain of elements
// costs no stack, and the order of events is the order of the queue.
type actionKind uint8

const (
	actActivate actionKind = iota + 1
	actComplete
	actTerminate
	actCommand
	actResume // continue an element after its incident is resolved
)

type action struct {
	kind    actionKind
	key     int64 // element instance to complete/terminate/resume; flow scope to activate in
	element int32
	flow    int32 // the flow taken to reach element, -1 when none
	payload json.RawMessage
	cmd     *record.Record
}

func (c *Core) drain() {
	for c.qi < len(c.queue) {
		a := c.queue[c.qi]
		c.qi++
		switch a.kind {
		case actActivate:
			c.activate(a.key, a.element, a.flow, a.payload)
		case actComplete:
			if inst := c.st.elements.get(a.key); inst != nil {
				c.complete(inst)
			}
		case actTerminate:
			if inst := c.st.elements.get(a.key); inst != nil {
				c.terminate(inst, nil)
			}
		case actResume:
			if inst := c.st.elements.get(a.key); inst != nil {
				c.resume(inst)
			}
		case actCommand:
			c.dispatch(a.cmd)
		}
	}
	c.queue, c.qi = c.queue[:0], 0
}

func (c *Core) enqueue(a action) { c.queue = append(c.queue, a) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("engine: " + err.Error())
	}
	return b
}
