package bpmn

import (
	"reflect"
	"testing"
)

func TestTasks(t *testing.T) {
	p := loadProcess(t, "tasks.bpmn")
	for _, tc := range []struct {
		id    string
		kind  Kind
		check func(t *testing.T, e *Element)
	}{
		{"charge", KindServiceTask, func(t *testing.T, e *Element) {
			if !sameExpr(&e.TaskDefinition.Type, `="payment-" + region`) || !sameExpr(&e.TaskDefinition.Retries, "=retryCount") {
				t.Errorf("task definition %+v", e.TaskDefinition)
			}
			if want := []Header{{"z", "last"}, {"a", "first"}}; !reflect.DeepEqual(e.TaskHeaders, want) {
				t.Errorf("headers %v, want %v (in document order)", e.TaskHeaders, want)
			}
			if len(e.Inputs) != 2 || !sameExpr(&e.Inputs[0].Source, "=order.total") || e.Inputs[0].Target != "amount" ||
				!sameExpr(&e.Inputs[1].Source, "EUR") || e.Inputs[1].Target != "currency" {
				t.Errorf("inputs %+v", e.Inputs)
			}
			if len(e.Outputs) != 1 || !sameExpr(&e.Outputs[0].Source, "=receipt.id") || e.Outputs[0].Target != "receiptId" {
				t.Errorf("outputs %+v", e.Outputs)
			}
			if !reflect.DeepEqual(e.Properties, []Property{{"team", "payments"}}) {
				t.Errorf("properties %v", e.Properties)
			}
		}},
		{"review", KindUserTask, func(t *testing.T, e *Element) {
			u := e.UserTask
			if !sameExpr(u.Assignee, "=initiator") || !sameExpr(u.CandidateGroups, "managers, auditors") ||
				!sameExpr(u.CandidateUsers, "=reviewers") || !sameExpr(u.DueDate, `=now() + duration("P2D")`) ||
				!sameExpr(u.FollowUpDate, "2024-05-01T10:00:00Z") {
				t.Errorf("user task %+v", u)
			}
			if u.FormKey != "camunda-forms:bpmn:UserTaskForm_review" || u.FormID != "" {
				t.Errorf("form %q %q", u.FormKey, u.FormID)
			}
			if e.TaskDefinition == nil || e.TaskDefinition.Type.Source != "io.camunda.zeebe:userTask" {
				t.Errorf("a user task is a job of Zeebe's user task type, got %+v", e.TaskDefinition)
			}
		}},
		{"approve", KindUserTask, func(t *testing.T, e *Element) {
			if e.UserTask.FormID != "approval-form" || e.UserTask.Assignee != nil {
				t.Errorf("user task %+v", e.UserTask)
			}
		}},
		{"wait", KindReceiveTask, func(t *testing.T, e *Element) {
			if e.Message == nil || !sameExpr(&e.Message.Name, "payment-received") || !sameExpr(e.Message.CorrelationKey, "=orderId") {
				t.Errorf("message %+v", e.Message)
			}
		}},
		{"notify", KindSendTask, func(t *testing.T, e *Element) {
			if !sameExpr(&e.TaskDefinition.Type, "notify") || !sameExpr(&e.TaskDefinition.Retries, "5") {
				t.Errorf("task definition %+v", e.TaskDefinition)
			}
		}},
		{"total", KindScriptTask, func(t *testing.T, e *Element) {
			if e.Script == nil || !sameExpr(&e.Script.Expression, "=sum(items.price)") || e.Script.ResultVariable != "total" || e.TaskDefinition != nil {
				t.Errorf("script %+v, job %+v", e.Script, e.TaskDefinition)
			}
		}},
		{"legacyScript", KindScriptTask, func(t *testing.T, e *Element) {
			if e.Script != nil || !sameExpr(&e.TaskDefinition.Type, "script") || !sameExpr(&e.TaskDefinition.Retries, "3") {
				t.Errorf("script %+v, job %+v (retries default to 3)", e.Script, e.TaskDefinition)
			}
		}},
		{"decide", KindBusinessRuleTask, func(t *testing.T, e *Element) {
			if d := e.CalledDecision; d == nil || !sameExpr(&d.DecisionID, "discount") || d.ResultVariable != "discount" {
				t.Errorf("called decision %+v", d)
			}
		}},
		{"decideRemote", KindBusinessRuleTask, func(t *testing.T, e *Element) {
			if e.CalledDecision != nil || !sameExpr(&e.TaskDefinition.Type, "dmn-worker") {
				t.Errorf("decision %+v, job %+v", e.CalledDecision, e.TaskDefinition)
			}
		}},
		{"pack", KindManualTask, nil},
		{"think", KindTask, nil},
		{"ship", KindCallActivity, func(t *testing.T, e *Element) {
			c := e.CalledElement
			if !sameExpr(&c.ProcessID, "=shippingProcess") || c.PropagateAllChildVariables || !c.PropagateAllParentVariables {
				t.Errorf("called element %+v (parent variables propagate by default)", c)
			}
		}},
		{"each", KindServiceTask, func(t *testing.T, e *Element) {
			mi := e.MultiInstance
			if mi == nil || mi.Sequential || !sameExpr(&mi.InputCollection, "=items") || mi.InputElement != "item" ||
				mi.OutputCollection != "results" || !sameExpr(mi.OutputElement, "=result") {
				t.Fatalf("multi-instance %+v", mi)
			}
			if c := mi.CompletionCondition; c == nil || c.Source != "numberOfCompletedInstances >= 3" || c.Static {
				t.Errorf("completion condition %+v", c)
			}
		}},
		{"eachInTurn", KindCallActivity, func(t *testing.T, e *Element) {
			mi := e.MultiInstance
			if mi == nil || !mi.Sequential || !sameExpr(&mi.InputCollection, "=[1,2,3]") || mi.OutputElement != nil || mi.CompletionCondition != nil {
				t.Errorf("multi-instance %+v", mi)
			}
			if c := e.CalledElement; c.PropagateAllChildVariables || c.PropagateAllParentVariables {
				t.Errorf("called element %+v", c)
			}
		}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			e := element(t, p, tc.id)
			if e.Kind != tc.kind {
				t.Fatalf("kind %s, want %s", e.Kind, tc.kind)
			}
			if !e.Kind.IsActivity() || !e.Kind.IsTask() && tc.kind != KindCallActivity {
				t.Errorf("%s: IsActivity %v IsTask %v", e.Kind, e.Kind.IsActivity(), e.Kind.IsTask())
			}
			if e.Parent != RootIndex || len(e.Incoming) != 1 || len(e.Outgoing) != 1 {
				t.Errorf("parent %d, incoming %v, outgoing %v", e.Parent, e.Incoming, e.Outgoing)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
	if p.Forms["UserTaskForm_review"] != `{"components":[{"key":"approved","type":"checkbox"}]}` {
		t.Errorf("embedded forms %v", p.Forms)
	}
	if !reflect.DeepEqual(p.Root().Properties, []Property{{"owner", "billing"}}) {
		t.Errorf("process properties %v", p.Root().Properties)
	}
	if p.Name != "Every task" || p.Root().Kind != KindProcess || p.Root().Parent != NoElement {
		t.Errorf("process %q, root %+v", p.Name, p.Root())
	}
}

// TestGraph follows the chain of tasks.bpmn from its start event through
// the Outgoing and Incoming indexes.
func TestGraph(t *testing.T) {
	p := loadProcess(t, "tasks.bpmn")
	var path []string
	i := p.NoneStart
	for steps := 0; i != NoElement && steps < 100; steps++ {
		e := p.Element(i)
		path = append(path, e.ID)
		if len(e.Outgoing) == 0 {
			break
		}
		f := p.Flow(e.Outgoing[0])
		if f.Source != i || p.Element(f.Target).Incoming[0] != f.Index {
			t.Fatalf("flow %s: source %d target %d, incoming of target %v", f.ID, f.Source, f.Target, p.Element(f.Target).Incoming)
		}
		i = f.Target
	}
	want := []string{"start", "charge", "review", "approve", "wait", "notify", "total", "legacyScript", "decide",
		"decideRemote", "pack", "think", "ship", "each", "eachInTurn", "end"}
	if !sameStrings(path, want) {
		t.Errorf("path %v, want %v", path, want)
	}
	if got := ids(p, p.Root().Children); len(got) != len(want) {
		t.Errorf("root children %v", got)
	}
	for i, e := range p.Elements {
		if e.Index != ElementIndex(i) || p.ByID[e.ID] != e.Index {
			t.Errorf("element %d: index %d, ByID %d", i, e.Index, p.ByID[e.ID])
		}
	}
	for i, f := range p.Flows {
		if f.Index != FlowIndex(i) || p.FlowByID[f.ID] != f.Index {
			t.Errorf("flow %d: index %d, FlowByID %d", i, f.Index, p.FlowByID[f.ID])
		}
	}
}
