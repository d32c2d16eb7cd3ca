package engine

import (
	"encoding/json"
	"fmt"
	"slices"

	"eddy/bpmn"
	"eddy/record"
)

// Message correlation crosses partitions as in Zeebe: a message lives on
// the partition of its correlation key, a waiting element on its instance's
// partition. The element's partition opens a subscription on the message's
// partition (MESSAGE_SUBSCRIPTION CREATE); the message's partition sends
// the message to the element (PROCESS_MESSAGE_SUBSCRIPTION CORRELATE),
// which acknowledges (MESSAGE_SUBSCRIPTION CORRELATE) or refuses when the
// element has moved on (MESSAGE_SUBSCRIPTION REJECT), so that the message
// can go to another waiting instance.

func (c *Core) openMessageSubscription(inst *elementInstance, ev *bpmn.Element) error {
	name, err := c.evalString(&ev.Message.Name, inst.Key)
	if err != nil {
		return fmt.Errorf("message name of '%s': %v", ev.ID, err)
	}
	key := ""
	if ev.Message.CorrelationKey != nil {
		key, err = c.evalCorrelationKey(ev.Message.CorrelationKey, inst.Key)
		if err != nil {
			return fmt.Errorf("Failed to extract the correlation key for '%s': %v", ev.Message.CorrelationKey.Source, err)
		}
	}
	sk := c.newKey()
	interrupting := true
	if ev.Kind == bpmn.KindBoundaryEvent {
		interrupting = ev.Interrupting
	} else if staysOpen(c.model(inst.Value.ProcessDefinitionKey), ev.Index) {
		interrupting = false
	}
	s := &processSubscription{Key: sk, ElementInstanceKey: inst.Key, ProcessInstanceKey: inst.Value.ProcessInstanceKey,
		Element: int32(ev.Index), Name: name, CorrelationKey: key, Interrupting: interrupting}
	c.st.procSubs.put(sk, s)
	c.st.subsOf[inst.Key] = append(c.st.subsOf[inst.Key], sk)
	v := record.Value{Name: name, CorrelationKey: key, ProcessInstanceKey: inst.Value.ProcessInstanceKey,
		ElementInstanceKey: inst.Key, BpmnProcessID: inst.Value.BpmnProcessID, ElementID: ev.ID, Interrupting: interrupting}
	c.event(record.ProcessMessageSubscription, record.Created, sk, &v)
	c.send(c.partitionFor(key), record.MessageSubscription, record.Create, sk, &v)
	return nil
}

func (c *Core) messageCommand(cmd *record.Record) Response {
	if cmd.Intent != record.Publish {
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("unknown message command %s", cmd.Intent))
	}
	v := cmd.Value
	if v.Name == "" {
		return c.reject(cmd, record.InvalidArgument, "Expected to publish a message with a name, but the name is empty")
	}
	if v.TTL < 0 {
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected to publish a message with a time to live of zero or more, but got %d ms", v.TTL))
	}
	if len(v.Variables) > 0 {
		if reason := c.checkDocument(v.Variables); reason != "" {
			return c.reject(cmd, record.InvalidArgument, reason)
		}
	} else {
		v.Variables = nil // an empty document is none (and stays valid JSON in the state)
	}
	idKey := ""
	if v.MessageID != "" {
		idKey = messageIDKey(v.Name, v.CorrelationKey, v.MessageID)
		if mk, ok := c.st.messageIDs[idKey]; ok && c.st.messages.get(mk) != nil {
			return c.reject(cmd, record.AlreadyExists, fmt.Sprintf("Expected to publish a new message with id '%s', but a message with that id was already published", v.MessageID))
		}
	}
	key := c.newKey()
	v.Deadline = c.now + v.TTL
	ev := c.event(record.Message, record.Published, key, &v)
	m := &message{Key: key, Name: v.Name, CorrelationKey: v.CorrelationKey, MessageID: v.MessageID, Variables: v.Variables, Deadline: v.Deadline}
	// Waiting instances first, then start events of the processes none of
	// them belongs to, as Zeebe's message publishing does.
	nk := nameKey(m.Name, m.CorrelationKey)
	for _, sk := range c.st.subsByName[nk] {
		if s := c.st.msgSubs.get(sk); s != nil {
			c.offer(m, s)
		}
	}
	c.correlateStarts(m)
	if v.TTL > 0 {
		c.st.messages.put(key, m)
		c.st.byName[nk] = append(c.st.byName[nk], key)
		if idKey != "" {
			c.st.messageIDs[idKey] = key
		}
		c.st.schedule(m.Deadline, dueMessageTTL, key)
	} else {
		v.Deadline, v.Uncorrelated = c.now, len(m.Correlated) == 0
		c.event(record.Message, record.Expired, key, &v)
	}
	return Response{Record: *ev}
}

// offer sends message m to the element behind subscription s, unless s is
// busy or m was correlated to s's process already.
func (c *Core) offer(m *message, s *messageSubscription) bool {
	if s.Correlating != 0 {
		return false
	}
	for _, id := range m.Correlated {
		if id == s.BpmnProcessID {
			return false
		}
	}
	m.Correlated = append(m.Correlated, s.BpmnProcessID)
	if c.st.messages.get(m.Key) != nil {
		c.st.messages.touch(m.Key)
	}
	s.Correlating = m.Key
	c.st.msgSubs.touch(s.Key)
	v := c.subscriptionValue(s)
	v.MessageKey, v.Variables = m.Key, m.Variables
	c.event(record.MessageSubscription, record.Correlating, s.Key, &v)
	c.send(record.PartitionOf(s.ProcessInstanceKey), record.ProcessMessageSubscription, record.Correlate, s.Key, &v)
	return true
}

func (c *Core) subscriptionValue(s *messageSubscription) record.Value {
	return record.Value{Name: s.Name, CorrelationKey: s.CorrelationKey, ProcessInstanceKey: s.ProcessInstanceKey,
		ElementInstanceKey: s.ElementInstanceKey, BpmnProcessID: s.BpmnProcessID, Interrupting: s.Interrupting}
}

// messageSubscriptionCommand runs on the message's partition.
func (c *Core) messageSubscriptionCommand(cmd *record.Record) Response {
	v := cmd.Value
	switch cmd.Intent {
	case record.Create:
		s := &messageSubscription{Key: cmd.Key, Name: v.Name, CorrelationKey: v.CorrelationKey,
			Partition: record.PartitionOf(v.ProcessInstanceKey), ProcessInstanceKey: v.ProcessInstanceKey,
			ElementInstanceKey: v.ElementInstanceKey, BpmnProcessID: v.BpmnProcessID, Interrupting: v.Interrupting}
		c.st.msgSubs.put(s.Key, s)
		nk := nameKey(s.Name, s.CorrelationKey)
		c.st.subsByName[nk] = append(c.st.subsByName[nk], s.Key)
		c.event(record.MessageSubscription, record.Created, s.Key, &v)
		c.offerBuffered(s)
	case record.Delete:
		if s := c.st.msgSubs.get(cmd.Key); s != nil {
			c.dropMessageSubscription(s)
			c.event(record.MessageSubscription, record.Deleted, s.Key, &v)
		}
	case record.Correlate: // the element took the message
		s := c.st.msgSubs.get(cmd.Key)
		if s == nil {
			break
		}
		c.event(record.MessageSubscription, record.Correlated, s.Key, &v)
		if s.Interrupting {
			c.dropMessageSubscription(s)
			break
		}
		s.Correlating = 0
		c.st.msgSubs.touch(s.Key)
		c.offerBuffered(s)
	case record.Reject: // the element had moved on
		s := c.st.msgSubs.get(cmd.Key)
		if m := c.st.messages.get(v.MessageKey); m != nil {
			for i, id := range m.Correlated {
				if id == v.BpmnProcessID {
					m.Correlated = append(m.Correlated[:i], m.Correlated[i+1:]...)
					break
				}
			}
			c.st.messages.touch(m.Key)
			c.event(record.MessageSubscription, record.Rejected, cmd.Key, &v)
			// Someone else of that process may still wait for it.
			for _, sk := range c.st.subsByName[nameKey(m.Name, m.CorrelationKey)] {
				if other := c.st.msgSubs.get(sk); other != nil && other != s && c.offer(m, other) {
					break
				}
			}
		}
		if s != nil {
			c.dropMessageSubscription(s)
		}
	}
	return Response{}
}

// offerBuffered offers s the oldest buffered message it can take.
func (c *Core) offerBuffered(s *messageSubscription) {
	for _, mk := range c.st.byName[nameKey(s.Name, s.CorrelationKey)] {
		if m := c.st.messages.get(mk); m != nil && m.Deadline > c.now && c.offer(m, s) {
			return
		}
	}
}

func (c *Core) dropMessageSubscription(s *messageSubscription) {
	c.st.msgSubs.del(s.Key)
	nk := nameKey(s.Name, s.CorrelationKey)
	unindex(c.st.subsByName, nk, s.Key)
}

// processSubscriptionCommand runs on the waiting element's partition.
func (c *Core) processSubscriptionCommand(cmd *record.Record) Response {
	if cmd.Intent != record.Correlate {
		return Response{}
	}
	v := cmd.Value
	s := c.st.procSubs.get(cmd.Key)
	var inst *elementInstance
	if s != nil && s.ElementInstanceKey == v.ElementInstanceKey {
		// The subscription, not the command, says which element waits.
		inst = c.st.elements.get(s.ElementInstanceKey)
	}
	if s == nil || inst == nil || inst.State != record.ElementActivated {
		c.event(record.ProcessMessageSubscription, record.Rejected, cmd.Key, &v)
		c.send(c.partitionFor(v.CorrelationKey), record.MessageSubscription, record.Reject, cmd.Key, &v)
		return Response{}
	}
	c.event(record.ProcessMessageSubscription, record.Correlated, cmd.Key, &v)
	c.send(c.partitionFor(v.CorrelationKey), record.MessageSubscription, record.Correlate, cmd.Key, &v)
	if s.Interrupting {
		c.st.procSubs.del(s.Key)
		unindex(c.st.subsOf, inst.Key, s.Key)
	}
	var payload json.RawMessage
	if len(v.Variables) > 0 {
		payload = v.Variables
	}
	c.trigger(inst, bpmn.ElementIndex(s.Element), payload)
	return Response{}
}

// expireMessage drops a buffered message whose TTL ran out.
func (c *Core) expireMessage(m *message) {
	c.st.messages.del(m.Key)
	nk := nameKey(m.Name, m.CorrelationKey)
	unindex(c.st.byName, nk, m.Key)
	if m.MessageID != "" {
		delete(c.st.messageIDs, messageIDKey(m.Name, m.CorrelationKey, m.MessageID))
	}
	// Correlated holds the offers still pending too: a message offered
	// whose instance has yet to take it is not said to be uncorrelated.
	v := record.Value{Name: m.Name, CorrelationKey: m.CorrelationKey, MessageID: m.MessageID, Variables: m.Variables, Deadline: m.Deadline,
		Uncorrelated: len(m.Correlated) == 0}
	c.event(record.Message, record.Expired, m.Key, &v)
}

// correlateStarts starts an instance of each process whose latest version
// has a message start event for m, once per process. As in Zeebe, a
// message with a correlation key starts no instance of a process while
// another instance of it started by that key is active: the message stays
// buffered (if its TTL allows) until that instance ends.
func (c *Core) correlateStarts(m *message) {
	for _, ref := range c.starts().messages[m.Name] {
		def := c.st.definitions.get(ref.def)
		if def == nil || slices.Contains(m.Correlated, def.BpmnProcessID) {
			continue
		}
		if m.CorrelationKey != "" && c.startedBy(def.BpmnProcessID, m.CorrelationKey) != nil {
			continue
		}
		c.startByMessage(def, ref.element, m)
	}
}

func (c *Core) startByMessage(def *definition, element bpmn.ElementIndex, m *message) {
	m.Correlated = append(m.Correlated, def.BpmnProcessID)
	if c.st.messages.get(m.Key) != nil {
		c.st.messages.touch(m.Key)
	}
	proc := c.model(def.Key)
	root := c.startInstance(def, proc, element, m.Variables, nil)
	if m.CorrelationKey != "" {
		// Kept on the root's state (not on its records) so that the next
		// message with this key waits for the instance to end.
		root.Value.CorrelationKey = m.CorrelationKey
		c.st.elements.touch(root.Key)
		c.st.startedBy[nameKey(def.BpmnProcessID, m.CorrelationKey)] = root.Key
	}
	cv := record.Value{MessageKey: m.Key, Name: m.Name, CorrelationKey: m.CorrelationKey, ProcessInstanceKey: root.Key,
		BpmnProcessID: def.BpmnProcessID, ProcessDefinitionKey: def.Key, ElementID: proc.Element(element).ID, Variables: m.Variables}
	c.event(record.MessageStartEventSubscription, record.Correlated, def.Key, &cv)
}

// startedBy returns the active instance of process id that a message with
// correlation key started, if any. Such instances live on the partition
// of the key, this one.
func (c *Core) startedBy(id, key string) *elementInstance {
	k := nameKey(id, key)
	rk, ok := c.st.startedBy[k]
	if !ok {
		return nil
	}
	// The index is checked against the row: an entry whose instance is
	// gone (however it ended) is dropped here.
	if e := c.st.elements.get(rk); e != nil && e.Value.CorrelationKey == key && e.Value.BpmnProcessID == id {
		return e
	}
	delete(c.st.startedBy, k)
	return nil
}

// startBuffered runs when an instance a message with correlation key
// started ends: the oldest buffered message with that key for one of the
// process's message start events starts the next instance.
func (c *Core) startBuffered(id, key string) {
	def := c.latestDefinition(id)
	if def == nil {
		return
	}
	proc := c.model(def.Key)
	type candidate struct {
		m       *message
		element bpmn.ElementIndex
	}
	var first *candidate
	for _, i := range proc.MessageStarts {
		name, err := c.evalString(&proc.Element(i).Message.Name, 0)
		if err != nil {
			continue
		}
		for _, mk := range c.st.byName[nameKey(name, key)] {
			m := c.st.messages.get(mk)
			if m == nil || m.Deadline <= c.now || slices.Contains(m.Correlated, id) {
				continue
			}
			if first == nil || m.Key < first.m.Key {
				first = &candidate{m, i}
			}
			break
		}
	}
	if first != nil {
		c.startByMessage(def, first.element, first.m)
	}
}
