package engine

import (
	"strings"
	"testing"

	"eddy/record"
)

func (cl *cluster) modify(pi int64, ins ...record.Instruction) Response {
	cl.t.Helper()
	return cl.run(record.PartitionOf(pi), record.Record{ValueType: record.ProcessInstanceModification, Intent: record.Modify, Key: pi,
		Value: record.Value{Instructions: ins}})
}

func activate(id string, vars string) record.Instruction {
	return record.Instruction{Activate: true, ElementID: id, Variables: []byte(vars)}
}

func terminate(key int64) record.Instruction { return record.Instruction{ElementInstanceKey: key} }

func TestModifyInstanceActivatesAndTerminates(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(1, "three", `{"n":1}`)
	a := cl.job(pi, "a")
	r := cl.modify(pi, activate("c", `{"skipped":true}`), terminate(a.Value.ElementInstanceKey))
	if r.Rejected() {
		t.Fatal(r.Reason)
	}
	mustEqual(t, "modified records", len(cl.records(func(x *record.Record) bool {
		return x.ValueType == record.ProcessInstanceModification && x.Intent == record.Modified && x.Key == pi
	})), 1)
	mustEqual(t, "a", cl.intents(pi, "a")[len(cl.intents(pi, "a"))-1], record.ElementTerminated)
	if r := cl.complete(a.Key, ""); r.Rejection != record.NotFound {
		t.Fatalf("a's job survived: %s", r.Rejection)
	}
	mustEqual(t, "b", cl.count(pi, "b", record.ElementActivating), 0)
	c := cl.job(pi, "c")
	if v := jobVars(t, c); v["skipped"] != "true" || v["n"] != "1" {
		t.Fatalf("c's job sees %v", v)
	}
	cl.mustComplete(c.Key, "")
	cl.mustBeCompleted(pi)
}

func TestModifyTerminatingTheLastElementTerminatesTheInstance(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("subprocess-variables.bpmn")
	pi := cl.create(0, "subVars", `{"customer":"ann"}`)
	inner := cl.job(pi, "inner")
	if r := cl.modify(pi, terminate(inner.Value.ElementInstanceKey)); r.Rejected() {
		t.Fatal(r.Reason)
	}
	for _, id := range []string{"inner", "sub"} {
		mustEqual(t, id, cl.intents(pi, id)[len(cl.intents(pi, id))-1], record.ElementTerminated)
	}
	cl.mustBeTerminated(pi)
	mustEqual(t, "after", cl.count(pi, "after", record.ElementActivating), 0)
	cl.quiet(pi)
}

func TestModifyActivatesInsideASubprocess(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("subprocess-variables.bpmn")
	pi := cl.create(0, "subVars", `{"customer":"ann"}`)
	sub := cl.one(pi, "sub")
	first := cl.job(pi, "inner")
	if r := cl.modify(pi, activate("inner", `{"extra":1}`)); r.Rejected() {
		t.Fatal(r.Reason)
	}
	second := cl.job(pi, "inner")
	mustEqual(t, "second inner's scope", cl.one(pi, "sub").Key, sub.Key)
	if got := cl.local(sub.Key); got["extra"] != "1" {
		t.Fatalf("activation variables went to %v, want the subprocess's scope", got)
	}
	cl.mustComplete(first.Key, "")
	mustEqual(t, "sub still active", len(cl.active(pi, "sub")), 1)
	cl.mustComplete(second.Key, "")
	cl.mustComplete(cl.job(pi, "after").Key, "")
	cl.mustBeCompleted(pi)
}

func TestModifyRejections(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn", "subprocess-variables.bpmn")
	pi := cl.create(0, "three", "")
	a := cl.job(pi, "a")
	sub := cl.create(0, "subVars", "")
	cl.mustComplete(cl.job(sub, "inner").Key, "")
	cases := []struct {
		name string
		pi   int64
		ins  []record.Instruction
		want record.RejectionType
		text string
	}{
		{"no such instance", record.Key(0, 999_999), []record.Instruction{activate("b", "")}, record.NotFound, "no process instance"},
		{"no such element", pi, []record.Instruction{activate("nope", "")}, record.InvalidArgument, "'nope'"},
		{"no such element instance", pi, []record.Instruction{terminate(record.Key(0, 999_999))}, record.InvalidArgument, "could not be found"},
		{"bad variables", pi, []record.Instruction{activate("b", `[1]`)}, record.InvalidArgument, "JSON object"},
		{"ancestor of another element", sub, []record.Instruction{{Activate: true, ElementID: "inner", AncestorKey: cl.one(sub, "after").Key}}, record.InvalidArgument, "not an ancestor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cl.modify(tc.pi, tc.ins...)
			if r.Rejection != tc.want || !strings.Contains(r.Reason, tc.text) {
				t.Fatalf("got %s %q, want %s containing %q", r.Rejection, r.Reason, tc.want, tc.text)
			}
		})
	}
	// A refused modification changes nothing.
	mustEqual(t, "a still active", len(cl.active(pi, "a")), 1)
	cl.mustComplete(a.Key, "")
}

func TestModifyActivatesAMissingFlowScope(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("subprocess-variables.bpmn")
	pi := cl.create(0, "subVars", `{"customer":"ann"}`)
	cl.mustComplete(cl.job(pi, "inner").Key, `{"result":"first"}`)
	after := cl.job(pi, "after")
	// The subprocess is done: activating an element in it activates a new
	// instance of it first, without its start event.
	r := cl.modify(pi, activate("inner", `{"again":true}`), terminate(after.Value.ElementInstanceKey))
	if r.Rejected() {
		t.Fatal(r.Reason)
	}
	mustEqual(t, "sub activations", cl.count(pi, "sub", record.ElementActivated), 2)
	mustEqual(t, "subStart activations", cl.count(pi, "subStart", record.ElementActivated), 1)
	sub := cl.one(pi, "sub")
	if got := cl.local(sub.Key); got["again"] != "true" || got["who"] != "" {
		t.Fatalf("new subprocess has %v: the instruction's variables, and no input mappings", got)
	}
	inner := cl.job(pi, "inner")
	mustEqual(t, "inner's scope", cl.one(pi, "inner").Value.FlowScopeKey, sub.Key)
	cl.mustComplete(inner.Key, `{"result":"second"}`)
	cl.mustComplete(cl.job(pi, "after").Key, "")
	cl.mustBeCompleted(pi)
	mustEqual(t, "outcome", cl.result(pi)["outcome"], `"second"`)
}
