package engine

import (
	"strings"
	"testing"

	"eddy/record"
)

func TestExclusiveGatewayTakesFirstTrueFlowElseDefault(t *testing.T) {
	cases := []struct {
		vars string
		end  string
	}{
		{`{"x":20}`, "high"}, // both conditions hold: the first flow wins
		{`{"x":7}`, "mid"},
		{`{"x":1}`, "low"}, // none holds: the default flow
	}
	cl := newCluster(t, 2)
	cl.deploy(gatewayModels...)
	for _, tc := range cases {
		t.Run(tc.vars, func(t *testing.T) {
			pi := cl.create(1, "xor", tc.vars)
			cl.mustBeCompleted(pi)
			got := cl.visited(pi)
			if got[len(got)-1] != tc.end {
				t.Fatalf("visited %v, want to end at %s", got, tc.end)
			}
			taken := 0
			for _, r := range cl.events(pi, record.ProcessInstance, record.SequenceFlowTaken) {
				if strings.HasPrefix(r.Value.ElementID, "to") {
					taken++
				}
			}
			mustEqual(t, "flows taken out of the gateway", taken, 1)
		})
	}
}

func TestExclusiveGatewayWithoutFlowToTakeRaisesIncident(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(gatewayModels...)

	t.Run("no condition holds", func(t *testing.T) {
		pi := cl.create(0, "xorNoDefault", `{"x":5}`)
		inc := cl.incident(pi)
		mustEqual(t, "incident type", inc.Value.ErrorType, "CONDITION_ERROR")
		mustEqual(t, "incident element", inc.Value.ElementID, "gw")
		if !strings.Contains(inc.Value.ErrorMessage, "Expected at least one condition to evaluate to true, or to have a default flow") {
			t.Fatalf("incident message: %s", inc.Value.ErrorMessage)
		}
		mustEqual(t, "gateway state", cl.one(pi, "gw").State, record.ElementActivating)
		// Fixing the variable and resolving evaluates the conditions again.
		if r := cl.setVariables(pi, `{"x":-1}`, false); r.Rejected() {
			t.Fatal(r.Reason)
		}
		if r := cl.resolve(inc.Key); r.Rejected() {
			t.Fatal(r.Reason)
		}
		cl.mustBeCompleted(pi)
		if got := cl.visited(pi); got[len(got)-1] != "negative" {
			t.Fatalf("visited %v", got)
		}
	})

	t.Run("condition fails to evaluate", func(t *testing.T) {
		pi := cl.create(1, "xorNoDefault", `{}`)
		inc := cl.incident(pi)
		mustEqual(t, "incident type", inc.Value.ErrorType, "EXTRACT_VALUE_ERROR")
		for _, want := range []string{"x > 10", `no variable found for name "x"`} {
			if !strings.Contains(inc.Value.ErrorMessage, want) {
				t.Errorf("incident message %q lacks %q", inc.Value.ErrorMessage, want)
			}
		}
		// Resolving without a fix raises the incident again.
		cl.resolve(inc.Key)
		again := cl.incident(pi)
		if again.Key == inc.Key {
			t.Fatal("the incident was not resolved")
		}
		cl.setVariables(pi, `{"x":11}`, false)
		cl.resolve(again.Key)
		cl.mustBeCompleted(pi)
		if got := cl.visited(pi); got[len(got)-1] != "big" {
			t.Fatalf("visited %v", got)
		}
	})
}

func TestParallelGatewayJoinsAllIncomingFlows(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(gatewayModels...)
	pi := cl.create(1, "parallel", "")
	a, b := cl.job(pi, "a"), cl.job(pi, "b")
	cl.mustComplete(a.Key, `{"a":1}`)
	mustEqual(t, "join activations after a", cl.count(pi, "join", record.ElementActivating), 0)
	cl.mustComplete(b.Key, `{"b":1}`)
	mustEqual(t, "join activations after b", cl.count(pi, "join", record.ElementActivating), 0)
	cl.mustBeActive(pi)
	cl.mustComplete(cl.job(pi, "b2").Key, "")
	mustEqual(t, "join activations", cl.count(pi, "join", record.ElementActivating), 1)
	mustEqual(t, "join completions", cl.count(pi, "join", record.ElementCompleted), 1)
	mustEqual(t, "end completions", cl.count(pi, "end", record.ElementCompleted), 1)
	cl.mustBeCompleted(pi)
	res := cl.result(pi)
	if res["a"] != "1" || res["b"] != "1" {
		t.Fatalf("result %v", res)
	}
}

func TestInclusiveGateway(t *testing.T) {
	cases := []struct {
		name  string
		vars  string
		order []string // job types to complete, in order
		wait  int      // how many completions leave the join waiting
	}{
		{"one branch", `{"wantA":true,"wantB":false}`, []string{"a"}, 0},
		{"both, a first", `{"wantA":true,"wantB":true}`, []string{"a", "b", "b2"}, 2},
		{"both, b first", `{"wantA":true,"wantB":true}`, []string{"b", "b2", "a"}, 2},
		{"default", `{"wantA":false,"wantB":false}`, []string{"c"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl := newCluster(t, 2)
			cl.deploy(gatewayModels...)
			pi := cl.create(0, "inclusive", tc.vars)
			for i, typ := range tc.order {
				cl.mustComplete(cl.job(pi, typ).Key, "")
				if i < tc.wait {
					mustEqual(t, "join activations after "+typ, cl.count(pi, "join", record.ElementActivating), 0)
					cl.mustBeActive(pi)
				}
			}
			cl.mustBeCompleted(pi)
			mustEqual(t, "join activations", cl.count(pi, "join", record.ElementActivating), 1)
			for _, typ := range []string{"a", "b", "c"} {
				want := 0
				for _, o := range tc.order {
					if o == typ {
						want = 1
					}
				}
				mustEqual(t, "activations of "+typ, cl.count(pi, typ, record.ElementActivated), want)
			}
		})
	}
}

func TestInclusiveGatewayWithoutFlowRaisesIncident(t *testing.T) {
	// The fork has a default flow, so make the conditions fail instead.
	cl := newCluster(t, 1)
	cl.deploy(gatewayModels...)
	pi := cl.create(0, "inclusive", `{"wantA":1}`)
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "EXTRACT_VALUE_ERROR")
	if !strings.Contains(inc.Value.ErrorMessage, "wantA") {
		t.Fatalf("incident message %q does not name the expression", inc.Value.ErrorMessage)
	}
	cl.setVariables(pi, `{"wantA":true,"wantB":false}`, false)
	cl.resolve(inc.Key)
	cl.mustComplete(cl.job(pi, "a").Key, "")
	cl.mustBeCompleted(pi)
}

func TestEventBasedGateway(t *testing.T) {
	t.Run("message first", func(t *testing.T) {
		cl := newCluster(t, 3)
		cl.deploy(gatewayModels...)
		pi := cl.create(1, "eventGw", `{"id":"order-1"}`)
		mustEqual(t, "gateway state", cl.one(pi, "gw").State, record.ElementActivated)
		mustEqual(t, "timers", len(cl.events(pi, record.Timer, record.Created)), 1)
		cl.advance(30_000)
		if r := cl.publish("go", "order-1", `{"amount":5,"other":1}`, 0); r.Rejected() {
			t.Fatal(r.Reason)
		}
		cl.mustBeCompleted(pi)
		got := cl.visited(pi)
		if got[len(got)-1] != "gone" || cl.count(pi, "onTimeout", record.ElementActivating) != 0 {
			t.Fatalf("visited %v", got)
		}
		mustEqual(t, "timers cancelled", len(cl.events(pi, record.Timer, record.Canceled)), 1)
		// The catch event's output mapping decides what the message leaves.
		res := cl.result(pi)
		if res["paid"] != "5" || res["amount"] != "" || res["other"] != "" {
			t.Fatalf("result %v: want paid only", res)
		}
		cl.advance(60_000)
		mustEqual(t, "timers triggered", len(cl.events(pi, record.Timer, record.Triggered)), 0)
		cl.quiet(pi)
	})

	t.Run("timer first", func(t *testing.T) {
		cl := newCluster(t, 3)
		cl.deploy(gatewayModels...)
		pi := cl.create(2, "eventGw", `{"id":"order-2"}`)
		cl.advance(59_999)
		cl.mustBeActive(pi)
		cl.advance(1)
		cl.mustBeCompleted(pi)
		got := cl.visited(pi)
		if got[len(got)-1] != "timedOut" {
			t.Fatalf("visited %v", got)
		}
		if n := len(cl.events(pi, record.ProcessMessageSubscription, record.Deleted)); n != 1 {
			t.Fatalf("%d message subscriptions closed, want 1", n)
		}
		cl.quiet(pi)
		// A message published later finds no one waiting and stays buffered.
		cl.publish("go", "order-2", `{}`, 60_000)
		mustEqual(t, "message correlations", len(cl.events(pi, record.ProcessMessageSubscription, record.Correlated)), 0)
	})
}

var gatewayModels = []string{"xor.bpmn", "xor-no-default.bpmn", "parallel.bpmn", "inclusive.bpmn", "event-gateway.bpmn"}
