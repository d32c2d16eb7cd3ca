package engine

import (
	"slices"
	"strings"
	"testing"

	"eddy/record"
)

func TestEscalation(t *testing.T) {
	models := []string{"escalation-boundary.bpmn", "escalation-interrupting.bpmn", "escalation-end.bpmn", "escalation-event-subprocess.bpmn", "escalation-uncaught.bpmn"}

	t.Run("non-interrupting boundary", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(models...)
		pi := cl.create(1, "escBoundary", "")
		mustEqual(t, "noticed", cl.count(pi, "noticed", record.ElementCompleted), 1)
		mustEqual(t, "raise completed", cl.count(pi, "raise", record.ElementCompleted), 1)
		esc := cl.events(pi, record.Escalation, record.Escalated)
		if len(esc) != 1 || esc[0].Value.ErrorCode != "LATE" {
			t.Fatalf("escalation records: %+v", esc)
		}
		// The subprocess goes on.
		cl.mustComplete(cl.job(pi, "after").Key, "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementCompleted), 1)
	})

	t.Run("interrupting boundary", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(models...)
		pi := cl.create(0, "escInterrupt", "")
		cl.mustBeCompleted(pi)
		for _, id := range []string{"sub", "work", "raise"} {
			if got := cl.intents(pi, id); got[len(got)-1] != record.ElementTerminated || slices.Contains(got, record.ElementCompleting) {
				t.Errorf("%s: %v, want terminated without completing", id, got)
			}
		}
		mustEqual(t, "raised", cl.count(pi, "raised", record.ElementActivating), 0)
		mustEqual(t, "stopped", cl.count(pi, "stopped", record.ElementCompleted), 1)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementActivating), 0)
		mustEqual(t, "jobs cancelled", len(cl.events(pi, record.Job, record.Canceled)), 1)
		cl.quiet(pi)
	})

	t.Run("end event with a computed code", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(models...)
		pi := cl.create(0, "escEnd", `{"code":"LATE"}`)
		cl.mustBeCompleted(pi)
		mustEqual(t, "stopped", cl.count(pi, "stopped", record.ElementCompleted), 1)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementActivating), 0)

		// Another code is not caught: the end event completes as usual.
		pi = cl.create(0, "escEnd", `{"code":"OTHER"}`)
		cl.mustBeCompleted(pi)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementCompleted), 1)
		mustEqual(t, "not escalated", len(cl.events(pi, record.Escalation, record.NotEscalated)), 1)
	})

	t.Run("non-interrupting event subprocess", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(models...)
		pi := cl.create(1, "escEsp", "")
		handle, after := cl.job(pi, "handle"), cl.job(pi, "after")
		cl.mustComplete(after.Key, "")
		cl.mustBeActive(pi) // the event subprocess still runs
		cl.mustComplete(handle.Key, "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "handled", cl.count(pi, "handled", record.ElementCompleted), 1)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementCompleted), 1)
	})

	t.Run("from a called process", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy("escalation-call.bpmn")
		pi := cl.create(1, "escCall", "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "noticed", cl.count(pi, "noticed", record.ElementCompleted), 1)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementCompleted), 1)
		cl.mustBeCompleted(cl.child(pi))
	})

	t.Run("uncaught", func(t *testing.T) {
		cl := newCluster(t, 1)
		cl.deploy(models...)
		pi := cl.create(0, "escUncaught", "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "not escalated", len(cl.events(pi, record.Escalation, record.NotEscalated)), 1)
		mustEqual(t, "incidents", len(cl.events(pi, record.Incident, record.Created)), 0)
	})
}

func TestSignals(t *testing.T) {
	models := []string{"signal-catch.bpmn", "signal-boundary.bpmn", "signal-start.bpmn", "signal-throw.bpmn"}

	t.Run("catch event on every partition", func(t *testing.T) {
		cl := newCluster(t, 3)
		cl.deploy(models...)
		cl.broadcast(0, "go", "") // nobody waits yet: signals are not buffered
		var pis []int64
		for p := 0; p < 3; p++ {
			pis = append(pis, cl.create(p, "signalCatch", ""))
		}
		for _, pi := range pis {
			cl.mustBeActive(pi)
		}
		if r := cl.broadcast(1, "go", `{"by":"ops"}`); r.Rejected() {
			t.Fatal(r.Reason)
		}
		for _, pi := range pis {
			cl.mustBeCompleted(pi)
			if res := cl.result(pi); res["by"] != `"ops"` {
				t.Fatalf("instance %d result %v lacks the signal's variables", pi, res)
			}
			cl.quiet(pi)
		}
	})

	t.Run("boundary events", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(models...)
		pi := cl.create(1, "signalBoundary", "")
		cl.broadcast(0, "ping", "")
		cl.broadcast(1, "ping", "")
		mustEqual(t, "pinged", cl.count(pi, "pinged", record.ElementCompleted), 2)
		mustEqual(t, "work still active", len(cl.active(pi, "work")), 1)
		cl.broadcast(0, "stop", "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "work", cl.intents(pi, "work")[len(cl.intents(pi, "work"))-1], record.ElementTerminated)
		mustEqual(t, "stopped", cl.count(pi, "stopped", record.ElementCompleted), 1)
		cl.quiet(pi)
	})

	t.Run("start event", func(t *testing.T) {
		cl := newCluster(t, 3)
		cl.deploy(models...)
		cl.broadcast(2, "kick", `{"a":1}`)
		pis := cl.started("signalStart")
		if len(pis) != 1 {
			t.Fatalf("%d instances started by one signal, want 1", len(pis))
		}
		job := cl.job(pis[0], "work")
		if !strings.Contains(string(job.Value.Variables), `"a":1`) {
			t.Fatalf("job variables %s lack the signal's", job.Value.Variables)
		}
		cl.broadcast(0, "kick", "")
		mustEqual(t, "instances after a second signal", len(cl.started("signalStart")), 2)
	})

	t.Run("throw event", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(models...)
		waiting := cl.create(0, "signalCatch", "")
		thrower := cl.create(1, "signalThrow", "")
		cl.mustBeCompleted(thrower)
		cl.mustBeCompleted(waiting)
	})
}

func TestTerminateEndEvent(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("terminate.bpmn", "terminate-subprocess.bpmn")

	t.Run("in the process", func(t *testing.T) {
		pi := cl.create(1, "terminate", "")
		work := cl.job(pi, "work")
		cl.mustComplete(cl.job(pi, "quick").Key, "")
		cl.mustBeCompleted(pi) // the instance completes: it is not terminated
		mustEqual(t, "work", cl.intents(pi, "work")[len(cl.intents(pi, "work"))-1], record.ElementTerminated)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementActivating), 0)
		if r := cl.complete(work.Key, ""); r.Rejection != record.NotFound {
			t.Fatalf("completing a terminated task's job: %s", r.Rejection)
		}
		cl.quiet(pi)
	})

	t.Run("in a subprocess", func(t *testing.T) {
		pi := cl.create(0, "terminateSub", "")
		mustEqual(t, "sub", cl.intents(pi, "sub")[len(cl.intents(pi, "sub"))-1], record.ElementCompleted)
		mustEqual(t, "work", cl.intents(pi, "work")[len(cl.intents(pi, "work"))-1], record.ElementTerminated)
		cl.mustComplete(cl.job(pi, "after").Key, "")
		cl.mustBeCompleted(pi)
		cl.quiet(pi)
	})
}

func TestLinkEvents(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("link.bpmn")
	pi := cl.create(0, "link", "")
	cl.mustComplete(cl.job(pi, "work").Key, "")
	cl.mustBeCompleted(pi)
	want := []string{"start", "jump", "land", "work", "end"}
	if got := cl.visited(pi); !slices.Equal(got, want) {
		t.Fatalf("visited %v, want %v", got, want)
	}
}
