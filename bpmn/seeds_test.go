package bpmn

import (
	"path/filepath"
	"testing"
)

// TestSeedModels loads the tickets models (copies of ../shared/bpmn) and
// checks what each holds.
func TestSeedModels(t *testing.T) {
	type counts struct{ elements, flows, receive, service, boundary, conditions int }
	for _, tc := range []struct {
		file    string
		process string
		want    counts
	}{
		{"emit-and-continue-receive-task.bpmn", "EMIT_AND_CONTINUE", counts{5, 3, 1, 1, 0, 0}},
		{"emit-and-continue.bpmn", "EMIT_AND_CONTINUE", counts{5, 3, 0, 1, 0, 0}},
		{"emit-wait.bpmn", "EMIT_WAIT", counts{4, 2, 0, 1, 0, 0}},
		{"tickets-catch-event.bpmn", "TICKETS_CATCH", counts{17, 12, 0, 5, 2, 0}},
		{"tickets-v1.bpmn", "TICKETS", counts{7, 5, 4, 0, 0, 0}},
		{"tickets-v2.bpmn", "TICKETS", counts{12, 8, 4, 2, 2, 0}},
		{"tickets-v3.bpmn", "TICKETS", counts{20, 14, 4, 5, 3, 0}},
		{"tickets-v4.bpmn", "TICKETS", counts{15, 11, 5, 2, 2, 2}},
		{"tickets-with-queue.bpmn", "TICKETS", counts{13, 9, 2, 4, 2, 0}},
		{"tickets-without-boundary.bpmn", "TICKETS", counts{8, 6, 4, 1, 0, 0}},
		{"tickets.bpmn", "TICKETS", counts{17, 12, 4, 3, 2, 0}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d := loadFile(t, filepath.Join("testdata", "seed-tickets", tc.file))
			if len(d.Processes) != 1 || d.Processes[0].ID != tc.process {
				t.Fatalf("processes %v, want %s", d.Processes, tc.process)
			}
			p := d.Processes[0]
			got := counts{elements: len(p.Elements), flows: len(p.Flows)}
			for _, e := range p.Elements {
				switch e.Kind {
				case KindReceiveTask:
					got.receive++
				case KindServiceTask:
					got.service++
					if e.TaskDefinition == nil || e.TaskDefinition.Type.IsZero() {
						t.Errorf("%s has no job type", e.ID)
					}
				case KindBoundaryEvent:
					got.boundary++
				}
			}
			for _, f := range p.Flows {
				if f.Condition != nil {
					got.conditions++
				}
			}
			if got != tc.want {
				t.Errorf("counts %+v, want %+v", got, tc.want)
			}
			if len(d.Definitions.Diagrams) != 1 || len(d.Definitions.Diagrams[0].Shapes) == 0 {
				t.Errorf("diagrams %+v", d.Definitions.Diagrams)
			}
		})
	}
}

// TestTicketsV4 checks the model seed 003 ends with, element by element.
func TestTicketsV4(t *testing.T) {
	d := loadFile(t, "testdata/seed-tickets/tickets-v4.bpmn")
	p := d.Processes[0]
	if d.Definitions.Exporter != "Zeebe Modeler" || d.Definitions.ExporterVersion != "0.10.0" || d.Definitions.ID != "Definitions_0l5dth7" {
		t.Errorf("header %+v", d.Definitions)
	}
	start := element(t, p, "Event_1am8qa2")
	if p.NoneStart != NoElement || !sameStrings(ids(p, p.MessageStarts), []string{"Event_1am8qa2"}) ||
		!sameExpr(&start.Message.Name, "Queue.CustomerJoined") || start.Name != "Customer Joined Queue" {
		t.Errorf("start: none %d, message starts %v, message %+v", p.NoneStart, ids(p, p.MessageStarts), start.Message)
	}
	reserved := element(t, p, "Activity_0nzh2ra")
	if !sameExpr(reserved.Message.CorrelationKey, "=sessionId") || len(reserved.Outputs) != 3 || reserved.Outputs[2].Target != "ticketsType" {
		t.Errorf("Tickets Reserved: %+v %+v", reserved.Message, reserved.Outputs)
	}
	payment := element(t, p, "Activity_1qktir3")
	if got := ids(p, payment.Boundaries); !sameStrings(got, []string{"Event_0gyayoj", "Event_0w1lr1o"}) {
		t.Errorf("boundaries of Payment Sent %v", got)
	}
	reminder := element(t, p, "Event_0gyayoj")
	if reminder.Interrupting || reminder.Timer.Kind != TimerCycle || reminder.Timer.Schedule.Repetitions() != -1 {
		t.Errorf("reminder: interrupting %v, timer %+v", reminder.Interrupting, reminder.Timer)
	}
	timeout := element(t, p, "Event_0w1lr1o")
	if !timeout.Interrupting || timeout.Timer.Kind != TimerDuration || timeout.Timer.Schedule.Period().Time.Minutes() != 2 {
		t.Errorf("timeout: interrupting %v, timer %+v", timeout.Interrupting, timeout.Timer)
	}
	timedOut := element(t, p, "Activity_03gzjqi")
	if len(timedOut.TaskHeaders) != 3 || timedOut.TaskHeaders[0] != (Header{"Mode", "EMIT_ONLY"}) || !sameExpr(&timedOut.TaskDefinition.Type, "cloudevents") {
		t.Errorf("Reservation Timed Out: %+v %+v", timedOut.TaskHeaders, timedOut.TaskDefinition)
	}
	gw := element(t, p, "Gateway_0541qfn")
	want := map[string]string{"Flow_1f4cn6x": "ticketsQuantity < 10", "Flow_1hrbf1f": "ticketsQuantity >= 10"}
	for _, f := range gw.Outgoing {
		fl := p.Flow(f)
		if fl.Condition == nil || fl.Condition.Static || fl.Condition.Source != want[fl.ID] {
			t.Errorf("%s: condition %+v, want the expression %q", fl.ID, fl.Condition, want[fl.ID])
		}
	}
	if gw.DefaultFlow != NoFlow {
		t.Errorf("default flow %d", gw.DefaultFlow)
	}
}
