package bpmn

import "fmt"

// checkScope finds the start events and event subprocesses of a scope and
// checks them against the rules of its kind.
func (b *processBuilder) checkScope(s ElementIndex) {
	p, c := b.p, b.c
	scope := &p.Elements[s]
	for _, ch := range scope.Children {
		if c.unsupported[p.Elements[ch].ID] {
			continue
		}
		switch p.Elements[ch].Kind {
		case KindStartEvent:
			scope.StartEvents = append(scope.StartEvents, ch)
		case KindEventSubProcess:
			scope.EventSubProcesses = append(scope.EventSubProcesses, ch)
		}
	}
	n := b.node[s]
	what := kindPhrase(scope.Kind)
	if scope.Kind == KindSubProcess {
		what = "embedded subprocess"
	}
	if len(scope.StartEvents) == 0 {
		c.problem(n, "the %s has no start event", what)
		return
	}
	switch scope.Kind {
	case KindProcess:
		for _, st := range scope.StartEvents {
			e := &p.Elements[st]
			switch e.Event {
			case EventNone:
				if scope.NoneStart != NoElement {
					c.problem(b.node[st], "the process has more than one none start event (%s and %s)", p.Elements[scope.NoneStart].ID, e.ID)
					continue
				}
				scope.NoneStart = st
				p.NoneStart = st
			case EventMessage:
				b.uniqueStart(p.MessageStarts, st, "message")
				p.MessageStarts = append(p.MessageStarts, st)
			case EventTimer:
				p.TimerStarts = append(p.TimerStarts, st)
			case EventSignal:
				b.uniqueStart(p.SignalStarts, st, "signal")
				p.SignalStarts = append(p.SignalStarts, st)
			}
		}
	case KindSubProcess:
		if len(scope.StartEvents) > 1 {
			c.problem(n, "the embedded subprocess has more than one start event")
		}
		for _, st := range scope.StartEvents {
			if p.Elements[st].Event == EventNone {
				scope.NoneStart = st
			}
		}
	case KindEventSubProcess:
		if len(scope.StartEvents) > 1 {
			c.problem(n, "the event subprocess has more than one start event")
		}
		scope.Interrupting = p.Elements[scope.StartEvents[0]].Interrupting
		if len(scope.Incoming) > 0 || len(scope.Outgoing) > 0 {
			c.problem(n, "an event subprocess cannot have sequence flows: its start event starts it")
		}
	}
}

// uniqueStart reports a start event waiting for the same message or signal
// name as an earlier one: which would start the instance is ambiguous.
func (b *processBuilder) uniqueStart(earlier []ElementIndex, st ElementIndex, what string) {
	p := b.p
	name := func(e *Element) *Expression {
		switch {
		case e.Message != nil:
			return &e.Message.Name
		case e.Signal != nil:
			return &e.Signal.Name
		}
		return nil
	}
	n := name(&p.Elements[st])
	if n == nil || !n.Static || n.Source == "" {
		return
	}
	for _, o := range earlier {
		if on := name(&p.Elements[o]); on != nil && on.Static && on.Source == n.Source {
			b.c.problem(b.node[st], "the process has two %s start events for the %s %q (%s and %s)", what, what, n.Source, p.Elements[o].ID, p.Elements[st].ID)
			return
		}
	}
}

// checkEvent checks an event against the rules of its kind and place.
func (b *processBuilder) checkEvent(el *Element, n *Node) {
	p, c := b.p, b.c
	if c.unsupported[el.ID] {
		return
	}
	scopeKind := p.Elements[el.Parent].Kind
	switch el.Kind {
	case KindStartEvent:
		if len(el.Incoming) > 0 {
			c.problem(n, "a start event cannot have incoming sequence flows")
		}
		switch scopeKind {
		case KindProcess:
			b.allowEvents(el, n, "a start event of a process", EventNone, EventMessage, EventTimer, EventSignal)
			if el.Event == EventTimer {
				b.allowTimers(el, n, "a timer start event", TimerDate, TimerCycle)
			}
			if el.Event == EventMessage {
				b.checkMessageCatch(el, n, false)
				if el.Message != nil && !el.Message.Name.Static {
					c.problem(n, "the message name of a start event must be a literal, not an expression: it is subscribed at deployment")
				}
			}
			if el.Event == EventSignal && el.Signal != nil && !el.Signal.Name.Static {
				c.problem(n, "the signal name of a start event must be a literal, not an expression: it is subscribed at deployment")
			}
		case KindSubProcess:
			if el.Event != EventNone {
				c.problem(n, "the start event of an embedded subprocess must be a none start event, not a %s start event", el.Event)
			}
		case KindEventSubProcess:
			if el.Event == EventNone {
				c.problem(n, "the start event of an event subprocess needs an event definition (message, timer, signal, error or escalation)")
				break
			}
			b.allowEvents(el, n, "a start event of an event subprocess", EventMessage, EventTimer, EventSignal, EventError, EventEscalation)
			b.checkCatch(el, n)
			if el.Event == EventError && !el.Interrupting {
				c.problem(n, "an error start event must be interrupting")
			}
		}
	case KindEndEvent:
		if len(el.Outgoing) > 0 {
			c.problem(n, "an end event cannot have outgoing sequence flows")
		}
		b.allowEvents(el, n, "an end event", EventNone, EventError, EventEscalation, EventTerminate, EventMessage, EventSignal)
		b.checkThrow(el, n)
	case KindIntermediateCatchEvent:
		if el.Event == EventNone {
			c.problem(n, "an intermediate catch event needs an event definition (message, timer, signal or link)")
			break
		}
		b.allowEvents(el, n, "an intermediate catch event", EventMessage, EventTimer, EventSignal, EventLink)
		if el.Event == EventLink && len(el.Incoming) > 0 {
			c.problem(n, "a link catch event cannot have incoming sequence flows: its throw event leads to it")
		}
		if el.Event == EventTimer {
			b.allowTimers(el, n, "an intermediate timer catch event", TimerDuration, TimerDate)
		}
		b.checkCatch(el, n)
	case KindIntermediateThrowEvent:
		b.allowEvents(el, n, "an intermediate throw event", EventNone, EventMessage, EventSignal, EventEscalation, EventLink)
		if el.Event == EventLink && len(el.Outgoing) > 0 {
			c.problem(n, "a link throw event cannot have outgoing sequence flows: it continues at its catch event")
		}
		b.checkThrow(el, n)
	case KindBoundaryEvent:
		if len(el.Incoming) > 0 {
			c.problem(n, "a boundary event cannot have incoming sequence flows")
		}
		if len(el.Outgoing) == 0 {
			c.problem(n, "a boundary event needs an outgoing sequence flow")
		}
		if el.Event == EventNone {
			c.problem(n, "a boundary event needs an event definition (message, timer, signal, error or escalation)")
			break
		}
		b.allowEvents(el, n, "a boundary event", EventMessage, EventTimer, EventSignal, EventError, EventEscalation)
		if el.Event == EventError && !el.Interrupting {
			c.problem(n, "an error boundary event must be interrupting")
		}
		b.checkCatch(el, n)
	}
}

// allowEvents reports an event definition not allowed where el is.
func (b *processBuilder) allowEvents(el *Element, n *Node, where string, allowed ...EventKind) {
	for _, k := range allowed {
		if el.Event == k {
			return
		}
	}
	b.c.problem(n, "%s cannot be %s event", where, withArticle(el.Event.String()))
}

// allowTimers reports a timer kind not allowed where el is.
func (b *processBuilder) allowTimers(el *Element, n *Node, what string, allowed ...TimerKind) {
	if el.Timer == nil {
		return
	}
	for _, k := range allowed {
		if el.Timer.Kind == k {
			return
		}
	}
	names := ""
	for i, k := range allowed {
		if i > 0 {
			names += " or "
		}
		names += k.String()
	}
	b.c.problem(n, "%s needs a %s, not a %s", what, names, el.Timer.Kind)
}

// checkCatch checks what a catching event (boundary, event subprocess
// start, intermediate catch) refers to.
func (b *processBuilder) checkCatch(el *Element, n *Node) {
	c := b.c
	switch el.Event {
	case EventMessage:
		b.checkMessageCatch(el, n, true)
	case EventTimer:
		if el.Kind == KindIntermediateCatchEvent {
			break // checked by its caller
		}
		if el.Interrupting {
			b.allowTimers(el, n, fmt.Sprintf("an interrupting timer %s", kindPhrase(el.Kind)), TimerDuration, TimerDate)
		} else {
			b.allowTimers(el, n, fmt.Sprintf("a non-interrupting timer %s", kindPhrase(el.Kind)), TimerDuration, TimerDate, TimerCycle)
		}
	case EventSignal:
		b.checkSignal(el, n)
	case EventError:
		if el.Error != nil && !el.Error.Code.Static {
			c.problem(n, "the error code that a catch event catches must be a literal, not an expression")
		}
	case EventEscalation:
		if el.Escalation != nil && !el.Escalation.Code.Static {
			c.problem(n, "the escalation code that a catch event catches must be a literal, not an expression")
		}
	case EventLink:
		if el.Link == "" {
			c.problem(n, "the link catch event has no link name")
		}
	}
}

// checkThrow checks what a throwing event (end, intermediate throw) needs.
func (b *processBuilder) checkThrow(el *Element, n *Node) {
	c := b.c
	switch el.Event {
	case EventMessage:
		// Zeebe runs message throw events like send tasks: a worker sends.
		if el.TaskDefinition == nil || el.TaskDefinition.Type.IsZero() {
			c.problem(n, "the message %s has no job type: add zeebe:taskDefinition with a type (a job worker sends the message)", kindPhrase(el.Kind))
		}
	case EventSignal:
		b.checkSignal(el, n)
	case EventError:
		switch {
		case el.Error == nil && b.definitionRef(n, "errorEventDefinition", "errorRef") == "":
			c.problem(n, "the error end event throws no error: set its errorRef to an error with an error code")
		case el.Error != nil && el.Error.Code.IsZero():
			c.problem(n, "the error %q thrown by the end event has no error code", el.Error.ID)
		}
	case EventEscalation:
		switch {
		case el.Escalation == nil && b.definitionRef(n, "escalationEventDefinition", "escalationRef") == "":
			c.problem(n, "the escalation %s throws no escalation: set its escalationRef to an escalation with a code", kindPhrase(el.Kind))
		case el.Escalation != nil && el.Escalation.Code.IsZero():
			c.problem(n, "the escalation %q thrown by the %s has no escalation code", el.Escalation.ID, kindPhrase(el.Kind))
		}
	case EventLink:
		if el.Link == "" {
			c.problem(n, "the link throw event has no link name")
		}
	}
}

// definitionRef returns the attribute attr of n's event definition def.
func (b *processBuilder) definitionRef(n *Node, def, attr string) string {
	for _, ch := range n.Children {
		if ch.Space == nsBPMN && ch.Local == def {
			return ch.Attr(attr)
		}
	}
	return ""
}

// checkMessageCatch checks the message an element waits for: it needs a
// name and, unless it starts a process, a correlation key.
func (b *processBuilder) checkMessageCatch(el *Element, n *Node, needsKey bool) {
	c := b.c
	if el.Message == nil {
		ref := n.Attr("messageRef")
		if el.Kind != KindReceiveTask {
			ref = b.definitionRef(n, "messageEventDefinition", "messageRef")
		}
		if ref == "" { // a dangling ref was reported when read
			c.problem(n, "the %s waits for no message: set its messageRef to a message with a name", kindPhrase(el.Kind))
		}
		return
	}
	m := el.Message
	if m.Name.IsZero() {
		c.problem(n, "the message %q has no name", m.ID)
	}
	if needsKey && m.CorrelationKey.IsZero() {
		c.problem(n, "the message %q has no correlation key (zeebe:subscription correlationKey): %s needs one to find its process instance", m.ID, withArticle(kindPhrase(el.Kind)))
	}
}

// checkSignal checks the signal an event throws or catches.
func (b *processBuilder) checkSignal(el *Element, n *Node) {
	switch {
	case el.Signal == nil && b.definitionRef(n, "signalEventDefinition", "signalRef") == "":
		b.c.problem(n, "the signal %s refers to no signal: set its signalRef", kindPhrase(el.Kind))
	case el.Signal != nil && el.Signal.Name.IsZero():
		b.c.problem(n, "the signal %q has no name", el.Signal.ID)
	}
}

// attachBoundary resolves attachedToRef of boundary event i.
func (b *processBuilder) attachBoundary(i ElementIndex) {
	p, c := b.p, b.c
	el, n := &p.Elements[i], b.node[i]
	ref := n.Attr("attachedToRef")
	if ref == "" {
		c.problem(n, "the boundary event is attached to nothing (attachedToRef is missing)")
		return
	}
	a, ok := p.ByID[ref]
	switch {
	case !ok && c.unsupported[ref]:
		return
	case !ok:
		c.problem(n, "the boundary event is attached to %q, which does not exist in this process", ref)
		return
	case !p.Elements[a].Kind.IsActivity() || p.Elements[a].Kind == KindEventSubProcess:
		c.problem(n, "the boundary event is attached to %q, which is %s: only tasks, subprocesses and call activities can have boundary events", ref, withArticle(kindPhrase(p.Elements[a].Kind)))
		return
	case p.Elements[a].Parent != el.Parent:
		c.problem(n, "the boundary event is attached to %q, which is in another scope", ref)
		return
	}
	el.AttachedTo = a
	act := &p.Elements[a]
	// Two boundary events catching the same error, escalation or message
	// would race; Zeebe refuses them.
	for _, other := range act.Boundaries {
		o := &p.Elements[other]
		if o.Event != el.Event {
			continue
		}
		if key, same := sameCatch(o, el); same {
			c.problem(n, "the activity %s already has a boundary event catching %s (%s)", ref, key, o.ID)
		}
	}
	act.Boundaries = append(act.Boundaries, i)
}

// sameCatch reports whether two catch events of the same kind catch the
// same thing, and names it.
func sameCatch(a, b *Element) (string, bool) {
	switch a.Event {
	case EventError:
		ca, cb := catchCode(a.Error), catchCode(b.Error)
		return codeName("error", ca), ca == cb
	case EventEscalation:
		var ea, eb string
		if a.Escalation != nil {
			ea = a.Escalation.Code.Source
		}
		if b.Escalation != nil {
			eb = b.Escalation.Code.Source
		}
		return codeName("escalation", ea), ea == eb
	case EventMessage:
		if a.Message != nil && b.Message != nil && a.Message.Name.Static && b.Message.Name.Static {
			return fmt.Sprintf("the message %q", a.Message.Name.Source), a.Message.Name.Source == b.Message.Name.Source
		}
	}
	return "", false
}

func catchCode(e *BPMNError) string {
	if e == nil {
		return ""
	}
	return e.Code.Source
}

func codeName(what, code string) string {
	if code == "" {
		return "every " + what
	}
	return fmt.Sprintf("the %s %q", what, code)
}

// checkLinks pairs link throw events with the catch event of the same name
// in the same scope.
func (b *processBuilder) checkLinks() {
	p, c := b.p, b.c
	type key struct {
		scope ElementIndex
		name  string
	}
	catches := map[key]ElementIndex{}
	for i := range p.Elements {
		el := &p.Elements[i]
		if el.Kind != KindIntermediateCatchEvent || el.Event != EventLink || el.Link == "" {
			continue
		}
		k := key{el.Parent, el.Link}
		if other, dup := catches[k]; dup {
			c.problem(b.node[i], "the link name %q is used by two link catch events in the same scope (%s and %s)", el.Link, p.Elements[other].ID, el.ID)
			continue
		}
		catches[k] = el.Index
	}
	for i := range p.Elements {
		el := &p.Elements[i]
		if el.Kind != KindIntermediateThrowEvent || el.Event != EventLink || el.Link == "" {
			continue
		}
		t, ok := catches[key{el.Parent, el.Link}]
		if !ok {
			c.problem(b.node[i], "there is no link catch event named %q in the same scope as this link throw event", el.Link)
			continue
		}
		el.LinkTarget = t
	}
}
