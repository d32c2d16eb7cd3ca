package bpmn

import (
	"errors"
	"strings"

	"eddy/feel"
)

// compileFEEL parses every FEEL expression of the process, so that a
// syntax error is a problem of the deployment, not an incident at run time.
func (b *processBuilder) compileFEEL() {
	p := b.p
	for i := range p.Elements {
		el := &p.Elements[i]
		for _, e := range elementExpressions(el) {
			b.compileExpression(el.ID, e)
		}
	}
	for i := range p.Flows {
		if c := p.Flows[i].Condition; c != nil {
			b.compileExpression(p.Flows[i].ID, c)
		}
	}
}

// compileExpression compiles e unless it is a literal or was compiled
// already (messages, errors and signals are shared between elements).
func (b *processBuilder) compileExpression(id string, e *Expression) {
	if e == nil || e.Static || e.Compiled != nil || b.c.failedFEEL[e] {
		return
	}
	// A message, error or signal shared by several elements is reported
	// once, not once per element.
	b.c.failedFEEL[e] = true
	if strings.TrimSpace(e.Source) == "" {
		b.c.problemAt(id, e.Line, e.Col, "the expression is empty: write a FEEL expression after '='")
		return
	}
	compiled, err := feel.Compile(e.Source)
	if err == nil {
		e.Compiled = compiled
		delete(b.c.failedFEEL, e)
		return
	}
	var fe *feel.Error
	if !errors.As(err, &fe) {
		b.c.problemAt(id, e.Line, e.Col, "the FEEL expression %q cannot be read: %v", e.Source, err)
		return
	}
	if e.inText {
		line, col := positionIn(b.c.defs.Source, e.offset, e.Line, e.Col, fe.Offset)
		b.c.problemAt(id, line, col, "the FEEL expression %q cannot be read: %s", e.Source, fe.Msg)
		return
	}
	b.c.problemAt(id, e.Line, e.Col, "the FEEL expression %q cannot be read: at %d:%d of the expression: %s", e.Source, fe.Line, fe.Column, fe.Msg)
}

// elementExpressions lists every expression an element carries.
func elementExpressions(el *Element) []*Expression {
	var out []*Expression
	add := func(es ...*Expression) { out = append(out, es...) }
	if td := el.TaskDefinition; td != nil {
		add(&td.Type, &td.Retries)
	}
	for i := range el.Inputs {
		add(&el.Inputs[i].Source)
	}
	for i := range el.Outputs {
		add(&el.Outputs[i].Source)
	}
	if m := el.Message; m != nil {
		add(&m.Name, m.CorrelationKey)
	}
	if t := el.Timer; t != nil {
		add(&t.Value)
	}
	if e := el.Error; e != nil {
		add(&e.Code)
	}
	if e := el.Escalation; e != nil {
		add(&e.Code)
	}
	if s := el.Signal; s != nil {
		add(&s.Name)
	}
	if s := el.Script; s != nil {
		add(&s.Expression)
	}
	if c := el.CalledElement; c != nil {
		add(&c.ProcessID)
	}
	if d := el.CalledDecision; d != nil {
		add(&d.DecisionID)
	}
	if u := el.UserTask; u != nil {
		add(u.Assignee, u.CandidateGroups, u.CandidateUsers, u.DueDate, u.FollowUpDate)
	}
	if mi := el.MultiInstance; mi != nil {
		add(&mi.InputCollection, mi.OutputElement, mi.CompletionCondition)
	}
	return out
}
