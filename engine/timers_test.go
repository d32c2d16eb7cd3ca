package engine

import (
	"strings"
	"testing"
	"time"

	"eddy/record"
)

func TestIntermediateTimerCatchFiresWhenDueNeverEarly(t *testing.T) {
	for _, restart := range []bool{false, true} {
		cl := newCluster(t, 2)
		cl.deploy("timer-catch.bpmn")
		pi := cl.create(1, "timerCatch", "")
		created := cl.events(pi, record.Timer, record.Created)
		if len(created) != 1 || created[0].Value.Deadline != cl.now+10_000 || created[0].Value.TargetElementID != "wait" {
			t.Fatalf("timer created: %+v", created)
		}
		cl.advance(9_999)
		cl.mustBeActive(pi)
		if restart {
			cl.restart()
		}
		cl.advance(1)
		cl.mustBeCompleted(pi)
		mustEqual(t, "timers triggered", len(cl.events(pi, record.Timer, record.Triggered)), 1)
		cl.quiet(pi)
	}
}

func TestTimerDateFromExpression(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("timer-date.bpmn")
	due := time.UnixMilli(cl.now + 5_000).UTC().Format(time.RFC3339)
	pi := cl.create(0, "timerDate", `{"deadline":"`+due+`"}`)
	cl.advance(4_999)
	cl.mustBeActive(pi)
	cl.advance(1)
	cl.mustBeCompleted(pi)

	// A value that is no date is an incident naming the expression; with
	// the variable fixed, resolving schedules the timer.
	pi = cl.create(0, "timerDate", `{"deadline":"soon"}`)
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "EXTRACT_VALUE_ERROR")
	if !strings.Contains(inc.Value.ErrorMessage, "wait") || !strings.Contains(inc.Value.ErrorMessage, "soon") {
		t.Fatalf("incident message: %s", inc.Value.ErrorMessage)
	}
	due = time.UnixMilli(cl.now + 1_000).UTC().Format(time.RFC3339)
	cl.setVariables(pi, `{"deadline":"`+due+`"}`, false)
	cl.resolve(inc.Key)
	cl.mustBeActive(pi)
	cl.advance(1_000)
	cl.mustBeCompleted(pi)
}

func TestBoundaryTimers(t *testing.T) {
	t.Run("cycle repeats, then the interrupting one fires", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy("timer-boundary.bpmn")
		pi := cl.create(0, "timerBoundary", "")
		mustEqual(t, "timers created", len(cl.events(pi, record.Timer, record.Created)), 2)
		for i := 1; i <= 3; i++ {
			cl.advance(9_999)
			mustEqual(t, "reminders before they are due", cl.count(pi, "reminded", record.ElementCompleted), i-1)
			if i == 2 {
				cl.restart()
			}
			cl.advance(1)
			mustEqual(t, "reminders", cl.count(pi, "reminded", record.ElementCompleted), i)
			mustEqual(t, "work still active", len(cl.active(pi, "work")), 1)
		}
		cl.advance(29_999) // R3: no fourth reminder
		mustEqual(t, "reminders after the cycle", cl.count(pi, "reminded", record.ElementCompleted), 3)
		cl.mustBeActive(pi)
		cl.advance(1)
		mustEqual(t, "work", cl.intents(pi, "work")[len(cl.intents(pi, "work"))-1], record.ElementTerminated)
		mustEqual(t, "jobs cancelled", len(cl.events(pi, record.Job, record.Canceled)), 1)
		mustEqual(t, "timed out", cl.count(pi, "timedOut", record.ElementCompleted), 1)
		mustEqual(t, "done", cl.count(pi, "done", record.ElementActivating), 0)
		cl.mustBeCompleted(pi)
		cl.quiet(pi)
	})

	t.Run("completing the task cancels its timers", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy("timer-boundary.bpmn")
		pi := cl.create(1, "timerBoundary", "")
		job := cl.job(pi, "work")
		cl.advance(15_000)
		mustEqual(t, "reminders", cl.count(pi, "reminded", record.ElementCompleted), 1)
		cl.mustComplete(job.Key, "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "timers cancelled", len(cl.events(pi, record.Timer, record.Canceled)), 2)
		cl.advance(120_000)
		mustEqual(t, "timers triggered", len(cl.events(pi, record.Timer, record.Triggered)), 1)
		cl.quiet(pi)
	})
}

// started lists the process instances of process id, in order.
func (cl *cluster) started(id string) []int64 {
	var out []int64
	for _, r := range cl.records(func(r *record.Record) bool {
		return r.ValueType == record.ProcessInstance && r.Intent == record.ElementActivated && r.Value.ElementType == "PROCESS" && r.Value.BpmnProcessID == id
	}) {
		out = append(out, r.Key)
	}
	return out
}

func TestTimerStartEventWithCycle(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("timer-start.bpmn")
	mustEqual(t, "instances at deployment", len(cl.started("ticker")), 0)
	cl.advance(59_999)
	mustEqual(t, "instances before due", len(cl.started("ticker")), 0)
	cl.advance(1)
	mustEqual(t, "instances after 1 min", len(cl.started("ticker")), 1)
	cl.restart()
	cl.advance(60_000)
	mustEqual(t, "instances after 2 min", len(cl.started("ticker")), 2)
	cl.advance(600_000)
	mustEqual(t, "instances after the cycle", len(cl.started("ticker")), 2)
	for _, pi := range cl.started("ticker") {
		cl.mustBeCompleted(pi)
		mustEqual(t, "partition of a timer-started instance", record.PartitionOf(pi), 0)
	}

	// A new version replaces the schedule of the old one.
	cl = newCluster(t, 2)
	cl.deploy("timer-start.bpmn")
	cl.advance(30_000)
	v2 := cl.run(1, record.Record{ValueType: record.Deployment, Intent: record.Create, Value: record.Value{Resources: []record.Resource{{Name: "timer-start.bpmn", Content: mustRead(t, "timer-start-v2.bpmn")}}}})
	if v2.Rejected() || v2.Record.Value.Processes[0].Version != 2 {
		t.Fatalf("deploy v2: %+v %s", v2.Record.Value.Processes, v2.Reason)
	}
	cl.advance(30_000) // v1 would fire now
	mustEqual(t, "instances of v1 after v2 was deployed", len(cl.started("ticker")), 0)
	cl.advance(90_000) // v2 fires 2 min after its deployment, and again
	cl.advance(120_000)
	ids := cl.started("ticker")
	mustEqual(t, "instances of v2", len(ids), 2)
	for _, pi := range ids {
		mustEqual(t, "version", cl.events(pi, record.ProcessInstance, record.ElementActivated)[0].Value.Version, int32(2))
		mustEqual(t, "partition of a timer-started instance", record.PartitionOf(pi), 1)
	}
}
