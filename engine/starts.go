package engine

import "eddy/bpmn"

// startRef is a message or signal start event of a latest process version.
type startRef struct {
	def     int64
	element bpmn.ElementIndex
}

// startIndex finds the start events a published message or a broadcast
// signal triggers, by name, in process id order. It is built when first
// needed after the deployed processes change, so that publishing does not
// walk every process.
type startIndex struct {
	messages map[string][]startRef
	signals  map[string][]startRef
}

func (c *Core) starts() *startIndex {
	if c.startIdx != nil {
		return c.startIdx
	}
	idx := &startIndex{messages: map[string][]startRef{}, signals: map[string][]startRef{}}
	for _, id := range sortedStringKeys(c.st.latest) {
		def := c.latestDefinition(id)
		if def == nil {
			continue
		}
		proc := c.model(def.Key)
		for _, i := range proc.MessageStarts {
			// Start events have no instance yet: their names are static or
			// evaluate without variables.
			if name, err := c.evalString(&proc.Element(i).Message.Name, 0); err == nil {
				idx.messages[name] = append(idx.messages[name], startRef{def.Key, i})
			}
		}
		for _, i := range proc.SignalStarts {
			if name, err := c.evalString(&proc.Element(i).Signal.Name, 0); err == nil {
				idx.signals[name] = append(idx.signals[name], startRef{def.Key, i})
			}
		}
	}
	c.startIdx = idx
	return idx
}

// definitionsChanged drops what was derived from the deployed processes.
func (c *Core) definitionsChanged() { c.startIdx = nil }
