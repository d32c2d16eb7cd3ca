package bpmn

import "testing"

func TestSubprocesses(t *testing.T) {
	p := loadProcess(t, "subprocesses.bpmn")
	root := p.Root()
	if got := ids(p, root.EventSubProcesses); !sameStrings(got, []string{"onError", "onNote", "everyHour"}) {
		t.Errorf("event subprocesses of the process %v", got)
	}
	if got := ids(p, root.StartEvents); !sameStrings(got, []string{"start"}) || root.NoneStart != p.ByID["start"] {
		t.Errorf("start events of the process %v, none start %d", got, root.NoneStart)
	}
	for _, tc := range []struct {
		id           string
		kind         Kind
		parent       string
		children     []string
		start        string
		interrupting bool
	}{
		{"outer", KindSubProcess, "subprocesses", []string{"outerStart", "inner", "outerEnd", "onEscalation"}, "outerStart", false},
		{"inner", KindSubProcess, "outer", []string{"innerStart", "innerEnd"}, "innerStart", false},
		{"onEscalation", KindEventSubProcess, "outer", []string{"escStart", "escEnd"}, "escStart", true},
		{"onError", KindEventSubProcess, "subprocesses", []string{"errorStart", "errorEnd"}, "errorStart", true},
		{"onNote", KindEventSubProcess, "subprocesses", []string{"noteStart", "noteEnd"}, "noteStart", false},
		{"everyHour", KindEventSubProcess, "subprocesses", []string{"hourStart", "hourEnd"}, "hourStart", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			e := element(t, p, tc.id)
			if e.Kind != tc.kind || !e.Kind.IsScope() || !e.Kind.IsActivity() {
				t.Fatalf("kind %s, want %s", e.Kind, tc.kind)
			}
			if p.Elements[e.Parent].ID != tc.parent {
				t.Errorf("parent %s, want %s", p.Elements[e.Parent].ID, tc.parent)
			}
			if got := ids(p, e.Children); !sameStrings(got, tc.children) {
				t.Errorf("children %v, want %v", got, tc.children)
			}
			if got := ids(p, e.StartEvents); !sameStrings(got, []string{tc.start}) {
				t.Errorf("start events %v, want %s", got, tc.start)
			}
			if tc.kind == KindSubProcess && p.Elements[e.NoneStart].ID != tc.start {
				t.Errorf("none start %d", e.NoneStart)
			}
			if tc.kind == KindEventSubProcess && e.Interrupting != tc.interrupting {
				t.Errorf("interrupting %v, want %v", e.Interrupting, tc.interrupting)
			}
			for _, c := range e.Children {
				if !p.IsInScope(c, e.Index) || !p.IsInScope(c, RootIndex) {
					t.Errorf("%s is not in scope %s", p.Elements[c].ID, e.ID)
				}
			}
		})
	}
	if got := ids(p, element(t, p, "outer").EventSubProcesses); !sameStrings(got, []string{"onEscalation"}) {
		t.Errorf("event subprocesses of outer %v", got)
	}
	if p.IsInScope(p.ByID["innerEnd"], p.ByID["onError"]) {
		t.Error("innerEnd is in onError")
	}
	if !p.IsInScope(p.ByID["innerEnd"], p.ByID["outer"]) {
		t.Error("innerEnd is not nested in outer")
	}
	if mi := element(t, p, "inner").MultiInstance; mi == nil || !sameExpr(&mi.InputCollection, "=lines") {
		t.Errorf("multi-instance subprocess %+v", mi)
	}
	in := element(t, p, "outer").Inputs
	if len(in) != 2 || in[1].Target != "scratch" || !in[1].Source.IsZero() {
		t.Errorf("inputs %+v (an input without source maps null)", in)
	}
	if e := element(t, p, "errorStart"); e.Event != EventError || e.Error != nil {
		t.Errorf("errorStart catches %s %+v", e.Event, e.Error)
	}
	if e := element(t, p, "noteStart"); !sameExpr(e.Message.CorrelationKey, "=caseId") {
		t.Errorf("noteStart message %+v", e.Message)
	}
}

func TestCollaboration(t *testing.T) {
	d := loadFile(t, "testdata/valid/collaboration.bpmn")
	if len(d.Processes) != 1 || d.Processes[0].ID != "shop" {
		t.Fatalf("processes %v: only the executable one compiles", d.Processes)
	}
	p := d.Processes[0]
	if got := ids(p, p.Root().Children); !sameStrings(got, []string{"start", "receive", "end"}) {
		t.Errorf("children %v: lanes, data and groups are not elements", got)
	}
	if e := element(t, p, "receive"); e.Message == nil || !sameExpr(&e.Message.Name, "order") {
		t.Errorf("receive %+v", e.Message)
	}
}
