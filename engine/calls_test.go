package engine

import (
	"strings"
	"testing"

	"eddy/record"
)

// child returns the process instance a call activity instance started.
func (cl *cluster) child(parent int64) int64 {
	cl.t.Helper()
	var kids []int64
	for _, r := range cl.records(func(r *record.Record) bool {
		return r.ValueType == record.ProcessInstance && r.Intent == record.ElementActivating && r.Value.ElementType == "PROCESS" && r.Value.ParentProcessInstanceKey == parent
	}) {
		kids = append(kids, r.Key)
	}
	if len(kids) != 1 {
		cl.t.Fatalf("instance %d called %d instances, want 1", parent, len(kids))
	}
	return kids[0]
}

func TestCallActivityPropagatesVariablesBothWays(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("call-child.bpmn", "call-parent.bpmn")
	pi := cl.create(1, "parent", `{"childId":"child","a":1}`)
	kid := cl.child(pi)
	mustEqual(t, "child's partition", record.PartitionOf(kid), 1)
	ev := cl.events(kid, record.ProcessInstance, record.ElementActivated)[0]
	mustEqual(t, "child's parent element", ev.Value.ParentElementInstanceKey, cl.one(pi, "call").Key)
	job := cl.job(kid, "child-work")
	if v := jobVars(t, job); v["a"] != "1" || v["childId"] != `"child"` {
		t.Fatalf("child job sees %v: want every variable of the parent", v)
	}
	cl.mustComplete(job.Key, `{"b":2,"a":3}`)
	cl.mustBeCompleted(kid)
	after := cl.job(pi, "after")
	if v := jobVars(t, after); v["b"] != "2" || v["a"] != "3" {
		t.Fatalf("parent sees %v after the call: want the child's variables", v)
	}
	cl.mustComplete(after.Key, "")
	cl.mustBeCompleted(pi)
}

func TestCallActivityWithoutPropagation(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("call-child.bpmn", "call-narrow.bpmn", "call-isolated.bpmn")

	t.Run("only mapped variables", func(t *testing.T) {
		pi := cl.create(0, "parentNarrow", `{"a":1,"secret":true}`)
		kid := cl.child(pi)
		job := cl.job(kid, "child-work")
		v := jobVars(t, job)
		if v["a2"] != "1" || v["secret"] != "" || v["a"] != "" {
			t.Fatalf("child sees %v: want only the input mapping's a2", v)
		}
		cl.mustComplete(job.Key, `{"b":2,"c":3}`)
		cl.mustBeCompleted(pi)
		res := cl.result(pi)
		if res["bOut"] != "2" || res["b"] != "" || res["c"] != "" {
			t.Fatalf("parent result %v: want only bOut from the output mapping", res)
		}
	})

	t.Run("nothing back", func(t *testing.T) {
		pi := cl.create(1, "parentIsolated", `{"a":1}`)
		kid := cl.child(pi)
		job := cl.job(kid, "child-work")
		if v := jobVars(t, job); v["a"] != "1" {
			t.Fatalf("child sees %v", v)
		}
		cl.mustComplete(job.Key, `{"b":2}`)
		cl.mustBeCompleted(pi)
		if res := cl.result(pi); res["b"] != "" || res["a"] != "1" {
			t.Fatalf("parent result %v: the child's variables must stay in the child", res)
		}
	})
}

func TestCallActivityMissingProcessIsAnIncident(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("call-parent.bpmn")
	pi := cl.create(0, "parent", `{"childId":"child"}`)
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "CALLED_ELEMENT_ERROR")
	mustEqual(t, "incident element", inc.Value.ElementID, "call")
	if !strings.Contains(inc.Value.ErrorMessage, "'child'") {
		t.Fatalf("incident message: %s", inc.Value.ErrorMessage)
	}
	// Deploy what was missing and resolve: the call goes on.
	cl.deploy("call-child.bpmn")
	if r := cl.resolve(inc.Key); r.Rejected() {
		t.Fatal(r.Reason)
	}
	kid := cl.child(pi)
	cl.mustComplete(cl.job(kid, "child-work").Key, "")
	cl.mustComplete(cl.job(pi, "after").Key, "")
	cl.mustBeCompleted(pi)

	// A process id that does not evaluate is an incident too.
	pi = cl.create(1, "parent", `{}`)
	mustEqual(t, "incident type", cl.incident(pi).Value.ErrorType, "EXTRACT_VALUE_ERROR")
}

func TestCancellingTheParentTerminatesTheChild(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("call-child.bpmn", "call-parent.bpmn")
	pi := cl.create(1, "parent", `{"childId":"child"}`)
	kid := cl.child(pi)
	job := cl.job(kid, "child-work")
	if r := cl.cancel(kid); r.Rejection != record.InvalidState {
		t.Fatalf("cancelling a called instance directly: %s %s", r.Rejection, r.Reason)
	}
	if r := cl.cancel(pi); r.Rejected() {
		t.Fatal(r.Reason)
	}
	cl.mustBeTerminated(kid)
	cl.mustBeTerminated(pi)
	if r := cl.complete(job.Key, ""); r.Rejection != record.NotFound {
		t.Fatalf("the child's job survived: %s", r.Rejection)
	}
	cl.quiet(kid)
	cl.quiet(pi)
}

func TestErrorInChildIsCaughtAtTheCallActivity(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("call-child.bpmn", "call-parent.bpmn")
	pi := cl.create(0, "parent", `{"childId":"child"}`)
	kid := cl.child(pi)
	cl.throwError(cl.job(kid, "child-work").Key, "CHILD_FAIL", "", "")
	cl.mustBeTerminated(kid)
	cl.mustBeCompleted(pi)
	mustEqual(t, "failed", cl.count(pi, "failed", record.ElementCompleted), 1)
	mustEqual(t, "after", cl.count(pi, "after", record.ElementActivating), 0)
	cl.quiet(kid)
}
