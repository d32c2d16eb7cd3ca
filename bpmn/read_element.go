package bpmn

import (
	"strings"

	"eddy/bpmn/timer"
)

// readElement reads what element i carries: extensions, loop
// characteristics, event definitions and the attributes of its kind.
// References to other elements of the process are resolved by check.
func (b *processBuilder) readElement(i ElementIndex, n *Node) {
	kind := b.p.Elements[i].Kind
	if n.Attr("isForCompensation") == "true" {
		b.c.notSupported(n, "compensation activity")
	}
	b.readExtensions(i, n)
	for _, ch := range n.Children {
		if ch.Space != nsBPMN {
			continue
		}
		switch ch.Local {
		case "multiInstanceLoopCharacteristics":
			b.readMultiInstance(i, n, ch)
		case "standardLoopCharacteristics":
			b.c.notSupportedIn(ch, n, "standardLoopCharacteristics")
		}
	}
	if kind.IsEvent() {
		b.readEventDefinition(i, n)
		if n.Attr("parallelMultiple") == "true" {
			b.c.notSupported(n, "parallel multiple "+n.Local)
		}
	}
	el := &b.p.Elements[i]
	switch kind {
	case KindReceiveTask:
		if ref := n.Attr("messageRef"); ref != "" {
			el.Message = b.c.message(n, ref)
		}
	case KindBoundaryEvent:
		el.Interrupting = n.Attr("cancelActivity") != "false"
	case KindStartEvent:
		el.Interrupting = n.Attr("isInterrupting") != "false"
	}
}

// readEventDefinition reads the one event definition of event i.
func (b *processBuilder) readEventDefinition(i ElementIndex, n *Node) {
	var defs []*Node
	for _, ch := range n.Children {
		if ch.Space != nsBPMN {
			continue
		}
		if ch.Local == "eventDefinitionRef" {
			b.c.notSupportedIn(ch, n, "eventDefinitionRef")
		} else if strings.HasSuffix(ch.Local, "EventDefinition") {
			defs = append(defs, ch)
		}
	}
	if len(defs) == 0 {
		return
	}
	if len(defs) > 1 {
		b.c.notSupported(n, "multiple event definitions on "+n.Local)
		return
	}
	el := &b.p.Elements[i]
	d := defs[0]
	switch d.Local {
	case "messageEventDefinition":
		el.Event = EventMessage
		// Throw events may name no message; check reports the catch
		// events that need one.
		if ref := d.Attr("messageRef"); ref != "" {
			el.Message = b.c.message(n, ref)
		}
	case "timerEventDefinition":
		el.Event = EventTimer
		el.Timer = b.c.readTimer(n, d)
	case "errorEventDefinition":
		el.Event = EventError
		el.Error = b.c.errorRef(n, d.Attr("errorRef"))
	case "escalationEventDefinition":
		el.Event = EventEscalation
		el.Escalation = b.c.escalationRef(n, d.Attr("escalationRef"))
	case "signalEventDefinition":
		el.Event = EventSignal
		if ref := d.Attr("signalRef"); ref != "" {
			el.Signal = b.c.signal(n, ref)
		}
	case "terminateEventDefinition":
		el.Event = EventTerminate
	case "linkEventDefinition":
		el.Event = EventLink
		el.Link = d.Attr("name")
	default: // compensate, conditional, cancel
		b.c.notSupportedIn(n, n, d.Local)
	}
}

// readTimer reads a timerEventDefinition of event n.
func (c *compiler) readTimer(n, d *Node) *Timer {
	var t *Timer
	for _, ch := range d.Children {
		if ch.Space != nsBPMN {
			continue
		}
		var kind TimerKind
		switch ch.Local {
		case "timeDate":
			kind = TimerDate
		case "timeDuration":
			kind = TimerDuration
		case "timeCycle":
			kind = TimerCycle
		default:
			continue
		}
		if t != nil {
			c.problem(n, "the timer has more than one of timeDate, timeDuration and timeCycle")
			return t
		}
		line, col := ch.TextLine, ch.TextCol
		if line == 0 {
			line, col = ch.Line, ch.Col
		}
		text := strings.TrimSpace(ch.Text)
		t = &Timer{Kind: kind, Value: textValue(ch)}
		switch {
		case !t.Value.Static:
		case text == "":
			c.problemAt(n.ID(), line, col, "the timer's %s is empty", kind)
		default:
			s, err := timer.Parse(timerKinds[kind], text)
			if err != nil {
				c.problemAt(n.ID(), line, col, "the timer's %s cannot be read: %v", kind, err)
			}
			t.Schedule = s
		}
	}
	if t == nil {
		c.problem(n, "the timer event has no timeDate, timeDuration or timeCycle")
	}
	return t
}

var timerKinds = map[TimerKind]timer.Kind{TimerDate: timer.Date, TimerDuration: timer.Duration, TimerCycle: timer.Cycle}

// message returns the compiled message ref, used by element n.
func (c *compiler) message(n *Node, ref string) *Message {
	return compileGlobal(c, c.messages, n, "message", "messageRef", ref, func(g *Node) *Message {
		m := &Message{ID: ref, Name: attrValue(g, "name")}
		for _, x := range extensionElements(g) {
			if x.Local == "subscription" {
				m.CorrelationKey = optionalAttrValue(x, "correlationKey")
			} else {
				c.notSupportedIn(x, g, "zeebe:"+x.Local)
			}
		}
		return m
	})
}

// errorRef returns the compiled error ref, nil when ref is empty (a catch
// event that catches every error).
func (c *compiler) errorRef(n *Node, ref string) *BPMNError {
	if ref == "" {
		return nil
	}
	return compileGlobal(c, c.errors, n, "error", "errorRef", ref, func(g *Node) *BPMNError {
		return &BPMNError{ID: ref, Name: g.Attr("name"), Code: attrValue(g, "errorCode")}
	})
}

// escalationRef is errorRef for escalations.
func (c *compiler) escalationRef(n *Node, ref string) *Escalation {
	if ref == "" {
		return nil
	}
	return compileGlobal(c, c.escalations, n, "escalation", "escalationRef", ref, func(g *Node) *Escalation {
		return &Escalation{ID: ref, Name: g.Attr("name"), Code: attrValue(g, "escalationCode")}
	})
}

// signal returns the compiled signal ref.
func (c *compiler) signal(n *Node, ref string) *Signal {
	return compileGlobal(c, c.signals, n, "signal", "signalRef", ref, func(g *Node) *Signal {
		return &Signal{ID: ref, Name: attrValue(g, "name")}
	})
}

// compileGlobal returns the compiled form of the root element ref of the
// given kind, compiling it with build the first time: elements referring to
// one message share one (immutable) *Message.
func compileGlobal[T any](c *compiler, cache map[string]*T, n *Node, kind, attr, ref string, build func(g *Node) *T) *T {
	g := c.global(n, kind, attr, ref)
	if g == nil {
		return nil
	}
	if v, ok := cache[ref]; ok {
		return v
	}
	v := build(g)
	cache[ref] = v
	return v
}

// global finds the root element of the given kind that n refers to by
// attr, reporting a missing or dangling reference.
func (c *compiler) global(n *Node, kind, attr, ref string) *Node {
	if ref == "" {
		c.problem(n, "the %s refers to no %s (%s is missing)", nodePhrase(n), kind, attr)
		return nil
	}
	g := c.globals[kind][ref]
	if g == nil {
		c.problem(n, "the %s %q that the %s refers to does not exist", kind, ref, nodePhrase(n))
	}
	return g
}
