package bpmn

import "testing"

func TestGateways(t *testing.T) {
	p := loadProcess(t, "gateways.bpmn")
	for _, tc := range []struct {
		id       string
		kind     Kind
		outgoing []string
		def      string // the default flow
	}{
		{"xor", KindExclusiveGateway, []string{"big", "small"}, "small"},
		{"fork", KindParallelGateway, []string{"p1", "p2"}, ""},
		{"join", KindParallelGateway, []string{"p3"}, ""},
		{"xorJoin", KindExclusiveGateway, []string{"f2"}, ""},
		{"or", KindInclusiveGateway, []string{"i1", "i2", "i3"}, "i3"},
		{"orJoin", KindInclusiveGateway, []string{"f3"}, ""},
		{"race", KindEventBasedGateway, []string{"e1", "e2", "e3"}, ""},
	} {
		t.Run(tc.id, func(t *testing.T) {
			e := element(t, p, tc.id)
			if e.Kind != tc.kind || !e.Kind.IsGateway() {
				t.Fatalf("kind %s, want %s", e.Kind, tc.kind)
			}
			if got := flowIDs(p, e.Outgoing); !sameStrings(got, tc.outgoing) {
				t.Errorf("outgoing %v, want %v", got, tc.outgoing)
			}
			if tc.def == "" {
				if e.DefaultFlow != NoFlow {
					t.Errorf("default flow %s", p.Flows[e.DefaultFlow].ID)
				}
				return
			}
			if e.DefaultFlow == NoFlow || p.Flows[e.DefaultFlow].ID != tc.def || !p.Flows[e.DefaultFlow].Default {
				t.Errorf("default flow %d, want %s", e.DefaultFlow, tc.def)
			}
		})
	}
	for _, tc := range []struct {
		flow      string
		condition string // FEEL source, "" for none
		line, col int
	}{
		{"big", "amount > 1000", 14, 68},
		{"small", "", 0, 0},
		{"i1", " express", 43, 68},
		{"i2", "insured = true", 47, 9}, // written without '=', on its own line
		{"i3", "", 0, 0},
		{"p1", "", 0, 0},
	} {
		f := p.Flow(p.FlowByID[tc.flow])
		switch {
		case tc.condition == "" && f.Condition != nil:
			t.Errorf("%s: condition %+v, want none", tc.flow, f.Condition)
		case tc.condition != "" && (f.Condition == nil || f.Condition.Source != tc.condition || f.Condition.Static):
			t.Errorf("%s: condition %+v, want the expression %q", tc.flow, f.Condition, tc.condition)
		case tc.condition != "" && (f.Condition.Line != tc.line || f.Condition.Col != tc.col):
			t.Errorf("%s: condition at %d:%d, want %d:%d", tc.flow, f.Condition.Line, f.Condition.Col, tc.line, tc.col)
		}
	}
}
