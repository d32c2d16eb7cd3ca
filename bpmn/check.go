package bpmn

import (
	"strconv"
	"strings"
)

// check resolves the references between elements of the process and
// reports what Zeebe would refuse to deploy.
func (b *processBuilder) check() {
	p := b.p
	for i := range p.Elements {
		if p.Elements[i].Kind == KindBoundaryEvent {
			b.attachBoundary(ElementIndex(i))
		}
	}
	for i := range p.Elements {
		el, n := &p.Elements[i], b.node[i]
		switch {
		case el.Kind.IsScope():
			b.checkScope(el.Index)
		case el.Kind.IsEvent():
			b.checkEvent(el, n)
		case el.Kind.IsGateway():
			b.checkGateway(el, n)
		}
		if el.Kind.IsActivity() {
			b.checkActivity(el, n)
		}
	}
	b.checkFlows()
	b.checkLinks()
}

// checkActivity checks tasks, subprocesses and call activities.
func (b *processBuilder) checkActivity(el *Element, n *Node) {
	c := b.c
	switch el.Kind {
	case KindServiceTask, KindSendTask:
		if el.TaskDefinition == nil || el.TaskDefinition.Type.IsZero() {
			c.problem(n, "the %s has no job type: add zeebe:taskDefinition with a type", kindPhrase(el.Kind))
		}
	case KindScriptTask:
		b.checkEitherOr(el, n, el.Script != nil, "zeebe:script (a FEEL expression and a result variable)")
		if s := el.Script; s != nil {
			// A script is always an expression, like a condition.
			if src := strings.TrimPrefix(strings.TrimSpace(s.Expression.Source), "="); src == "" {
				c.problem(n, "the script task's zeebe:script has no expression")
			} else if s.Expression.Static {
				s.Expression.Source, s.Expression.Static = src, false
			}
			if s.ResultVariable == "" {
				c.problem(n, "the script task's zeebe:script has no result variable")
			}
		}
	case KindBusinessRuleTask:
		b.checkEitherOr(el, n, el.CalledDecision != nil, "zeebe:calledDecision (a decision id and a result variable)")
		if d := el.CalledDecision; d != nil {
			if d.DecisionID.IsZero() {
				c.problem(n, "the business rule task's zeebe:calledDecision has no decision id")
			}
			if d.ResultVariable == "" {
				c.problem(n, "the business rule task's zeebe:calledDecision has no result variable")
			}
		}
	case KindCallActivity:
		if el.CalledElement == nil || el.CalledElement.ProcessID.IsZero() {
			c.problem(n, "the call activity has no process to call: add zeebe:calledElement with a processId")
		}
	case KindReceiveTask:
		b.checkMessageCatch(el, n, true)
	case KindUserTask:
		const embedded = "camunda-forms:bpmn:"
		if key := el.UserTask.FormKey; strings.HasPrefix(key, embedded) {
			if _, ok := b.p.Forms[strings.TrimPrefix(key, embedded)]; !ok {
				c.problem(n, "the user task's form %q is not embedded in the process (no zeebe:userTaskForm with that id)", key)
			}
		}
	}
	if td := el.TaskDefinition; td != nil && td.Retries.Static {
		if r, err := strconv.Atoi(strings.TrimSpace(td.Retries.Source)); err != nil || r < 0 {
			c.problem(n, "the job retries %q are not a whole number", td.Retries.Source)
		}
	}
}

// checkEitherOr checks a task that Zeebe runs either by itself (own) or by
// a job worker (a task definition), but not both.
func (b *processBuilder) checkEitherOr(el *Element, n *Node, own bool, ownWhat string) {
	hasJob := el.TaskDefinition != nil
	switch {
	case own && hasJob:
		b.c.problem(n, "the %s has both %s and zeebe:taskDefinition: keep one", kindPhrase(el.Kind), ownWhat)
	case !own && !hasJob:
		b.c.problem(n, "the %s needs either %s or zeebe:taskDefinition (a job type)", kindPhrase(el.Kind), ownWhat)
	case hasJob && el.TaskDefinition.Type.IsZero():
		b.c.problem(n, "the %s has no job type: add a type to zeebe:taskDefinition", kindPhrase(el.Kind))
	}
}

// checkGateway checks default flows and event-based gateways' targets.
func (b *processBuilder) checkGateway(el *Element, n *Node) {
	p, c := b.p, b.c
	if def := n.Attr("default"); def != "" && (el.Kind == KindExclusiveGateway || el.Kind == KindInclusiveGateway) {
		f, ok := p.FlowByID[def]
		switch {
		case !ok:
			c.problem(n, "the default flow %q does not exist", def)
		case p.Flows[f].Source != el.Index:
			c.problem(n, "the default flow %q does not leave this gateway", def)
		case p.Flows[f].Condition != nil:
			c.problem(b.flowNode[f], "the sequence flow is the default flow of %s, so it must not have a condition", el.ID)
		default:
			el.DefaultFlow = f
			p.Flows[f].Default = true
		}
	}
	switch el.Kind {
	case KindExclusiveGateway, KindInclusiveGateway:
		if len(el.Outgoing) < 2 {
			return // a joining gateway, or one with a single way out
		}
		for _, f := range el.Outgoing {
			if fl := &p.Flows[f]; fl.Condition == nil && f != el.DefaultFlow {
				c.problem(b.flowNode[f], "the sequence flow leaves the %s %s without a condition and is not its default flow", kindPhrase(el.Kind), el.ID)
			}
		}
	case KindEventBasedGateway:
		if len(el.Outgoing) < 2 {
			c.problem(n, "the event-based gateway needs at least two outgoing sequence flows")
		}
		names := map[string]string{}
		for _, f := range el.Outgoing {
			if p.Flows[f].Target == NoElement {
				continue // reported by resolveFlows
			}
			t := &p.Elements[p.Flows[f].Target]
			ok := t.Kind == KindIntermediateCatchEvent && (t.Event == EventMessage || t.Event == EventTimer || t.Event == EventSignal)
			if !ok {
				c.problem(n, "the event-based gateway leads to %s, which is not an intermediate message, timer or signal catch event", t.ID)
				continue
			}
			if t.Event == EventMessage && t.Message != nil && t.Message.Name.Static {
				if other, dup := names[t.Message.Name.Source]; dup {
					c.problem(n, "the event-based gateway waits twice for the message %q (%s and %s)", t.Message.Name.Source, other, t.ID)
				}
				names[t.Message.Name.Source] = t.ID
			}
		}
	}
}

// checkFlows reports conditions where Zeebe does not evaluate them.
func (b *processBuilder) checkFlows() {
	p := b.p
	for i := range p.Flows {
		f := &p.Flows[i]
		if f.Condition == nil || f.Source == NoElement {
			continue
		}
		if k := p.Elements[f.Source].Kind; k != KindExclusiveGateway && k != KindInclusiveGateway {
			b.c.problem(b.flowNode[i], "the sequence flow has a condition, but only flows leaving an exclusive or inclusive gateway may have one (it leaves the %s %s)", kindPhrase(k), p.Elements[f.Source].ID)
		}
	}
}

// kindPhrase names a kind in a sentence ("service task").
func kindPhrase(k Kind) string { return phrase(k.String()) }

// nodePhrase names an XML element in a sentence.
func nodePhrase(n *Node) string { return phrase(n.Local) }

// withArticle puts "a" or "an" before a phrase.
func withArticle(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// phrase splits a BPMN camel-case name into words: eventSubProcess is
// "event subprocess".
func phrase(name string) string {
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte(' ')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return strings.ReplaceAll(b.String(), "sub process", "subprocess")
}
