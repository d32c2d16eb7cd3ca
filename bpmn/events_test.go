package bpmn

import (
	"testing"
	"time"

	"eddy/bpmn/timer"
)

func TestEvents(t *testing.T) {
	p := loadProcess(t, "events.bpmn")
	type check func(t *testing.T, e *Element)
	timerIs := func(kind TimerKind, value string, schedule timer.Kind) check {
		return func(t *testing.T, e *Element) {
			tm := e.Timer
			if tm == nil || tm.Kind != kind || !sameExpr(&tm.Value, value) {
				t.Fatalf("timer %+v, want %s %q", tm, kind, value)
			}
			if schedule == 0 {
				if tm.Schedule != nil {
					t.Errorf("a FEEL timer has a schedule %v", tm.Schedule)
				}
				return
			}
			if tm.Schedule == nil || tm.Schedule.Kind() != schedule {
				t.Errorf("schedule %v, want %s", tm.Schedule, schedule)
			}
		}
	}
	for _, tc := range []struct {
		id           string
		kind         Kind
		event        EventKind
		interrupting bool
		check        check
	}{
		{"start", KindStartEvent, EventNone, true, nil},
		{"msgStart", KindStartEvent, EventMessage, true, func(t *testing.T, e *Element) {
			if e.Message.ID != "Message_order" || !sameExpr(&e.Message.Name, "order-placed") || e.Message.CorrelationKey != nil {
				t.Errorf("message %+v", e.Message)
			}
		}},
		{"cronStart", KindStartEvent, EventTimer, true, timerIs(TimerCycle, "0 0 9 * * MON-FRI", timer.Cron)},
		{"dateStart", KindStartEvent, EventTimer, true, timerIs(TimerDate, "2030-01-01T00:00:00Z", timer.Date)},
		{"signalStart", KindStartEvent, EventSignal, true, func(t *testing.T, e *Element) {
			if e.Signal.ID != "Signal_go" || !sameExpr(&e.Signal.Name, "go") {
				t.Errorf("signal %+v", e.Signal)
			}
		}},
		{"catchMsg", KindIntermediateCatchEvent, EventMessage, false, func(t *testing.T, e *Element) {
			if !sameExpr(&e.Message.Name, "update") || !sameExpr(e.Message.CorrelationKey, "=orderId") {
				t.Errorf("message %+v", e.Message)
			}
			if len(e.Outputs) != 1 || e.Outputs[0].Target != "lastUpdate" {
				t.Errorf("outputs %+v", e.Outputs)
			}
		}},
		{"catchTimer", KindIntermediateCatchEvent, EventTimer, false, timerIs(TimerDuration, "PT5M", timer.Duration)},
		{"catchDate", KindIntermediateCatchEvent, EventTimer, false, timerIs(TimerDate, "=deadline", 0)},
		{"catchSignal", KindIntermediateCatchEvent, EventSignal, false, nil},
		{"throwNone", KindIntermediateThrowEvent, EventNone, false, nil},
		{"throwMsg", KindIntermediateThrowEvent, EventMessage, false, func(t *testing.T, e *Element) {
			if e.Message != nil || !sameExpr(&e.TaskDefinition.Type, "send-message") {
				t.Errorf("message %+v, job %+v", e.Message, e.TaskDefinition)
			}
		}},
		{"throwSignal", KindIntermediateThrowEvent, EventSignal, false, nil},
		{"throwEsc", KindIntermediateThrowEvent, EventEscalation, false, func(t *testing.T, e *Element) {
			if e.Escalation.ID != "Escalation_late" || !sameExpr(&e.Escalation.Code, "LATE") || e.Escalation.Name != "Late" {
				t.Errorf("escalation %+v", e.Escalation)
			}
		}},
		{"linkThrow", KindIntermediateThrowEvent, EventLink, false, func(t *testing.T, e *Element) {
			if e.Link != "jump" || e.LinkTarget != p.ByID["linkCatch"] {
				t.Errorf("link %q to %d", e.Link, e.LinkTarget)
			}
		}},
		{"linkCatch", KindIntermediateCatchEvent, EventLink, false, func(t *testing.T, e *Element) {
			if e.Link != "jump" || e.LinkTarget != NoElement {
				t.Errorf("link %q to %d", e.Link, e.LinkTarget)
			}
		}},
		{"work", KindServiceTask, EventNone, false, func(t *testing.T, e *Element) {
			want := []string{"bMsg", "bCycle", "bTimeout", "bAnyError", "bFail", "bSignal", "bEsc"}
			if got := ids(p, e.Boundaries); !sameStrings(got, want) {
				t.Errorf("boundaries %v, want %v", got, want)
			}
		}},
		{"bMsg", KindBoundaryEvent, EventMessage, true, func(t *testing.T, e *Element) {
			if !sameExpr(&e.Message.Name, `="cancel-" + kind`) {
				t.Errorf("message %+v", e.Message)
			}
		}},
		{"bCycle", KindBoundaryEvent, EventTimer, false, func(t *testing.T, e *Element) {
			timerIs(TimerCycle, "R3/PT1H", timer.Cycle)(t, e)
			if e.Timer.Schedule.Repetitions() != 3 {
				t.Errorf("repetitions %d", e.Timer.Schedule.Repetitions())
			}
		}},
		{"bTimeout", KindBoundaryEvent, EventTimer, true, timerIs(TimerDuration, "=timeout", 0)},
		{"bAnyError", KindBoundaryEvent, EventError, true, func(t *testing.T, e *Element) {
			if e.Error != nil {
				t.Errorf("a catch-all error boundary has error %+v", e.Error)
			}
		}},
		{"bFail", KindBoundaryEvent, EventError, true, func(t *testing.T, e *Element) {
			if e.Error.ID != "Error_fail" || !sameExpr(&e.Error.Code, "FAIL") || e.Error.Name != "Failure" {
				t.Errorf("error %+v", e.Error)
			}
		}},
		{"bSignal", KindBoundaryEvent, EventSignal, false, nil},
		{"bEsc", KindBoundaryEvent, EventEscalation, false, func(t *testing.T, e *Element) {
			if e.Escalation != nil {
				t.Errorf("a catch-all escalation boundary has %+v", e.Escalation)
			}
		}},
		{"endNone", KindEndEvent, EventNone, false, func(t *testing.T, e *Element) {
			if len(e.Incoming) != 5 {
				t.Errorf("incoming %v", flowIDs(p, e.Incoming))
			}
		}},
		{"endError", KindEndEvent, EventError, false, func(t *testing.T, e *Element) {
			if !sameExpr(&e.Error.Code, "=errorCode") {
				t.Errorf("error %+v", e.Error)
			}
		}},
		{"endEsc", KindEndEvent, EventEscalation, false, nil},
		{"endTerminate", KindEndEvent, EventTerminate, false, nil},
		{"endMsg", KindEndEvent, EventMessage, false, func(t *testing.T, e *Element) {
			if !sameExpr(&e.TaskDefinition.Type, "mail") {
				t.Errorf("job %+v", e.TaskDefinition)
			}
		}},
		{"endSignal", KindEndEvent, EventSignal, false, func(t *testing.T, e *Element) {
			if !sameExpr(&e.Signal.Name, "stop") {
				t.Errorf("signal %+v", e.Signal)
			}
		}},
	} {
		t.Run(tc.id, func(t *testing.T) {
			e := element(t, p, tc.id)
			if e.Kind != tc.kind || e.Event != tc.event {
				t.Fatalf("%s %s event, want %s %s", e.Kind, e.Event, tc.kind, tc.event)
			}
			if e.Kind == KindBoundaryEvent || e.Kind == KindStartEvent {
				if e.Interrupting != tc.interrupting {
					t.Errorf("interrupting %v, want %v", e.Interrupting, tc.interrupting)
				}
			}
			if e.Kind == KindBoundaryEvent && e.AttachedTo != p.ByID["work"] {
				t.Errorf("attached to %d", e.AttachedTo)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
	if p.NoneStart != p.ByID["start"] || !sameStrings(ids(p, p.MessageStarts), []string{"msgStart"}) ||
		!sameStrings(ids(p, p.TimerStarts), []string{"cronStart", "dateStart"}) || !sameStrings(ids(p, p.SignalStarts), []string{"signalStart"}) {
		t.Errorf("starts: none %d, message %v, timer %v, signal %v", p.NoneStart, ids(p, p.MessageStarts), ids(p, p.TimerStarts), ids(p, p.SignalStarts))
	}
	if got := ids(p, p.Root().StartEvents); len(got) != 5 {
		t.Errorf("start events %v", got)
	}
	// Elements referring to one message share its compiled form.
	if element(t, p, "bMsg").Message == element(t, p, "catchMsg").Message {
		t.Error("two different messages are one")
	}
	if element(t, p, "catchSignal").Signal != element(t, p, "endSignal").Signal {
		t.Error("the same signal compiled twice")
	}
	// A static timer is ready for the engine.
	due, ok := element(t, p, "catchTimer").Timer.Schedule.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if !ok || !due.Equal(time.Date(2024, 1, 1, 0, 5, 0, 0, time.UTC)) {
		t.Errorf("PT5M due %s", due)
	}
}
