package engine

import (
	"fmt"

	"eddy/bpmn"
	"eddy/record"
)

func (c *Core) openSignalSubscription(inst *elementInstance, ev *bpmn.Element, def int64) error {
	scope := int64(0)
	if inst != nil {
		scope = inst.Key
	}
	name, err := c.evalString(&ev.Signal.Name, scope)
	if err != nil {
		return fmt.Errorf("signal name of '%s': %v", ev.ID, err)
	}
	s := &signalSubscription{Key: c.newKey(), Name: name, Definition: def, Element: int32(ev.Index)}
	if inst != nil {
		s.ElementInstanceKey, s.ProcessInstanceKey = inst.Key, inst.Value.ProcessInstanceKey
		c.st.sigOf[inst.Key] = append(c.st.sigOf[inst.Key], s.Key)
	}
	c.st.signalSubs.put(s.Key, s)
	c.st.signalsOf[name] = append(c.st.signalsOf[name], s.Key)
	v := record.Value{Name: name, ProcessInstanceKey: s.ProcessInstanceKey, ElementInstanceKey: s.ElementInstanceKey, ProcessDefinitionKey: def, ElementID: ev.ID}
	c.event(record.SignalSubscription, record.Created, s.Key, &v)
	return nil
}

func (c *Core) removeSignalSubscription(s *signalSubscription) {
	c.st.signalSubs.del(s.Key)
	unindex(c.st.signalsOf, s.Name, s.Key)
	v := record.Value{Name: s.Name, ProcessInstanceKey: s.ProcessInstanceKey, ElementInstanceKey: s.ElementInstanceKey, ProcessDefinitionKey: s.Definition}
	c.event(record.SignalSubscription, record.Deleted, s.Key, &v)
}

// broadcastSignal is the BROADCAST command. The partition that receives it
// from a client starts processes with a signal start event and forwards the
// signal to the other partitions (Local set), where only waiting instances
// catch it.
func (c *Core) broadcastSignal(cmd *record.Record) Response {
	v := cmd.Value
	if v.Name == "" {
		return c.reject(cmd, record.InvalidArgument, "Expected to broadcast a signal with a name, but the name is empty")
	}
	if len(v.Variables) > 0 {
		if reason := c.checkDocument(v.Variables); reason != "" {
			return c.reject(cmd, record.InvalidArgument, reason)
		}
	}
	key := cmd.Key
	if !v.Local {
		key = c.newKey()
	}
	ev := c.event(record.Signal, record.Broadcasted, key, &v)
	c.deliverSignal(v.Name, &v)
	if !v.Local {
		fwd := v
		fwd.Local = true
		for p := 0; p < c.partitions; p++ {
			if p != c.partition {
				c.send(p, record.Signal, record.Broadcast, key, &fwd)
			}
		}
		c.startBySignal(v.Name, &v)
	}
	return Response{Record: *ev}
}

func (c *Core) deliverSignal(name string, v *record.Value) {
	keys := append([]int64(nil), c.st.signalsOf[name]...)
	for _, k := range keys {
		s := c.st.signalSubs.get(k)
		if s == nil || s.ElementInstanceKey == 0 {
			continue
		}
		inst := c.st.elements.get(s.ElementInstanceKey)
		if inst == nil || inst.State != record.ElementActivated {
			continue
		}
		proc := c.model(inst.Value.ProcessDefinitionKey)
		if !staysOpen(proc, bpmn.ElementIndex(s.Element)) {
			c.removeSignalSubscription(s)
			unindex(c.st.sigOf, inst.Key, s.Key)
		}
		c.trigger(inst, bpmn.ElementIndex(s.Element), v.Variables)
	}
}

func (c *Core) startBySignal(name string, v *record.Value) {
	for _, ref := range c.starts().signals[name] {
		if def := c.st.definitions.get(ref.def); def != nil {
			c.startInstance(def, c.model(def.Key), ref.element, v.Variables, nil)
		}
	}
}

// signalFromInstance broadcasts a signal thrown by a process.
func (c *Core) signalFromInstance(inst *elementInstance, name string) {
	cmd := record.Record{Kind: record.Command, ValueType: record.Signal, Intent: record.Broadcast, Value: record.Value{Name: name}}
	c.queue = append(c.queue, action{kind: actCommand, cmd: &cmd})
}
