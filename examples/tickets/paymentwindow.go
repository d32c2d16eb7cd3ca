package main

import (
	"time"

	"eddy/bpmn"
)

// paymentWindow is how long the model waits for a payment before it times
// the reservation out: the duration of an interrupting timer on a receive
// task (the "Payment Sent" task of v2 to v4). It is 0 for a model with
// none (v1), where the tickets service's hold decides. The page shows the
// sooner of the two.
func paymentWindow(xml []byte) (time.Duration, error) {
	dep, err := bpmn.Load(xml)
	if err != nil {
		return 0, err
	}
	var window time.Duration
	t0 := time.Unix(0, 0).UTC()
	for _, p := range dep.Processes {
		for _, el := range p.Elements {
			t := el.Timer
			if el.Kind != bpmn.KindBoundaryEvent || !el.Interrupting || t == nil || t.Kind != bpmn.TimerDuration || t.Schedule == nil ||
				p.Elements[el.AttachedTo].Kind != bpmn.KindReceiveTask {
				continue
			}
			due, ok := t.Schedule.Next(t0)
			if d := due.Sub(t0); ok && d > 0 && (window == 0 || d < window) {
				window = d
			}
		}
	}
	return window, nil
}
