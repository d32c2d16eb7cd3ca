package engine

import (
	"strings"
	"testing"

	"eddy/record"
)

func TestErrorBoundaryByCodeThenCatchAll(t *testing.T) {
	cases := []struct{ code, end string }{
		{"FAIL", "failed"}, // the boundary with the code wins over the catch-all
		{"OTHER", "other"},
	}
	cl := newCluster(t, 2)
	cl.deploy("error-boundary.bpmn")
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			pi := cl.create(1, "errorBoundary", `{"n":1}`)
			job := cl.job(pi, "work")
			if r := cl.throwError(job.Key, tc.code, "it broke", `{"reason":"card declined"}`); r.Rejected() {
				t.Fatal(r.Reason)
			}
			cl.mustBeCompleted(pi)
			if got := cl.visited(pi); got[len(got)-1] != tc.end {
				t.Fatalf("visited %v, want to end at %s", got, tc.end)
			}
			mustEqual(t, "work", cl.intents(pi, "work")[len(cl.intents(pi, "work"))-1], record.ElementTerminated)
			mustEqual(t, "done reached", cl.count(pi, "done", record.ElementActivating), 0)
			if res := cl.result(pi); res["reason"] != `"card declined"` {
				t.Fatalf("the error's variables did not reach the scope: %v", res)
			}
			if r := cl.complete(job.Key, ""); r.Rejection != record.NotFound {
				t.Fatalf("completing the job after its error: %s %s", r.Rejection, r.Reason)
			}
			cl.quiet(pi)
		})
	}
}

func TestErrorInSubprocessIsCaughtOnItsBoundary(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("error-subprocess.bpmn")

	t.Run("thrown by a job", func(t *testing.T) {
		pi := cl.create(0, "errorSub", "")
		cl.throwError(cl.job(pi, "inner").Key, "BAD", "", "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "sub", cl.intents(pi, "sub")[len(cl.intents(pi, "sub"))-1], record.ElementTerminated)
		mustEqual(t, "recovered", cl.count(pi, "recovered", record.ElementCompleted), 1)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementActivating), 0)
		cl.quiet(pi)
	})

	t.Run("thrown by an end event", func(t *testing.T) {
		pi := cl.create(1, "errorSub", "")
		cl.mustComplete(cl.job(pi, "inner").Key, `{"code":"BAD"}`)
		cl.mustBeCompleted(pi)
		mustEqual(t, "throwErr", cl.intents(pi, "throwErr")[len(cl.intents(pi, "throwErr"))-1], record.ElementTerminated)
		mustEqual(t, "recovered", cl.count(pi, "recovered", record.ElementCompleted), 1)
	})

	t.Run("nothing catches it", func(t *testing.T) {
		pi := cl.create(1, "errorSub", "")
		cl.mustComplete(cl.job(pi, "inner").Key, `{"code":"WORSE"}`)
		inc := cl.incident(pi)
		mustEqual(t, "incident type", inc.Value.ErrorType, "UNHANDLED_ERROR_EVENT")
		mustEqual(t, "incident element", inc.Value.ElementID, "throwErr")
		if !strings.Contains(inc.Value.ErrorMessage, "'WORSE'") {
			t.Fatalf("incident message: %s", inc.Value.ErrorMessage)
		}
		// An error end event cannot be fixed by resolving: it is thrown
		// again, and raises a new incident.
		cl.resolve(inc.Key)
		again := cl.incident(pi)
		if again.Key == inc.Key {
			t.Fatal("the incident was not resolved")
		}
		cl.cancel(pi)
		cl.mustBeTerminated(pi)
		mustEqual(t, "open incidents after cancel", len(cl.openIncidents(pi)), 0)
	})
}

func TestErrorEventSubprocessInterruptsTheScope(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("error-event-subprocess.bpmn")
	pi := cl.create(0, "errorEsp", "")
	work, other := cl.job(pi, "work"), cl.job(pi, "other")
	cl.throwError(work.Key, "E", "", `{"why":"because"}`)
	for _, id := range []string{"work", "other"} {
		mustEqual(t, id, cl.intents(pi, id)[len(cl.intents(pi, id))-1], record.ElementTerminated)
	}
	if r := cl.complete(other.Key, ""); r.Rejection != record.NotFound {
		t.Fatalf("the other branch's job survived: %s", r.Rejection)
	}
	mustEqual(t, "handler activated", cl.count(pi, "handler", record.ElementActivated), 1)
	handle := cl.job(pi, "handle")
	if !strings.Contains(string(handle.Value.Variables), `"why":"because"`) {
		t.Fatalf("handler job variables %s lack the error's variables", handle.Value.Variables)
	}

	// The scope is interrupted already: the same error cannot start the
	// handler again, and is an incident.
	cl.throwError(handle.Key, "E", "", "")
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "UNHANDLED_ERROR_EVENT")
	mustEqual(t, "handler activations", cl.count(pi, "handler", record.ElementActivating), 1)
	cl.resolve(inc.Key)
	cl.mustComplete(cl.job(pi, "handle").Key, "")
	cl.mustBeCompleted(pi)
	mustEqual(t, "done", cl.count(pi, "done", record.ElementActivating), 0)
	cl.quiet(pi)
}

func TestUnhandledErrorFromJobIsAnIncidentThatReenablesTheJob(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(1, "three", "")
	job := cl.job(pi, "a")
	if r := cl.throwError(job.Key, "NOPE", "the card was declined", ""); r.Rejected() {
		t.Fatal(r.Reason)
	}
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "UNHANDLED_ERROR_EVENT")
	mustEqual(t, "incident element", inc.Value.ElementID, "a")
	mustEqual(t, "incident job", inc.Value.JobKey, job.Key)
	for _, want := range []string{"'NOPE'", "the card was declined"} {
		if !strings.Contains(inc.Value.ErrorMessage, want) {
			t.Errorf("incident message %q lacks %q", inc.Value.ErrorMessage, want)
		}
	}
	mustEqual(t, "task state", cl.one(pi, "a").State, record.ElementActivated)
	if len(cl.jobsOf(pi, "a")) != 0 {
		t.Fatal("the job is activatable while its incident is open")
	}
	if r := cl.resolve(inc.Key); r.Rejected() {
		t.Fatal(r.Reason)
	}
	again := cl.job(pi, "a")
	mustEqual(t, "job after resolving", again.Key, job.Key)
	cl.mustComplete(again.Key, "")
	cl.mustComplete(cl.job(pi, "b").Key, "")
	cl.mustComplete(cl.job(pi, "c").Key, "")
	cl.mustBeCompleted(pi)
}

func TestErrorEndEventWithoutCatcher(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("error-end.bpmn")
	pi := cl.create(0, "errorEnd", `{"code":"X"}`)
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "UNHANDLED_ERROR_EVENT")
	mustEqual(t, "incident job", inc.Value.JobKey, int64(0))
	cl.cancel(pi)
	cl.mustBeTerminated(pi)

	// A code that does not evaluate is an incident of its own.
	pi = cl.create(0, "errorEnd", `{}`)
	inc = cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "EXTRACT_VALUE_ERROR")
	if !strings.Contains(inc.Value.ErrorMessage, "code") {
		t.Fatalf("incident message: %s", inc.Value.ErrorMessage)
	}
}
