package bpmn_test

import (
	"errors"
	"fmt"
	"time"

	"eddy/bpmn"
)

const model = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d">
  <bpmn:process id="order" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="charge">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="payment" retries="=maxRetries" />
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:boundaryEvent id="slow" attachedToRef="charge">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT10M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="done" />
    <bpmn:endEvent id="gaveUp" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="charge" />
    <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="done" />
    <bpmn:sequenceFlow id="f3" sourceRef="slow" targetRef="gaveUp" />
  </bpmn:process>
</bpmn:definitions>`

// The engine loads a deployment once, then walks the compiled graph by
// index: from the none start event along the outgoing flows.
func ExampleLoad() {
	d, err := bpmn.Load([]byte(model))
	if err != nil {
		fmt.Println(err)
		return
	}
	p := d.Processes[0]
	for i := p.NoneStart; ; {
		e := p.Element(i)
		fmt.Println(e.Kind, e.ID)
		if e.TaskDefinition != nil {
			fmt.Printf("  job type %q, retries %s (FEEL: %v)\n", e.TaskDefinition.Type.Source, e.TaskDefinition.Retries.Source, e.TaskDefinition.Retries.Compiled != nil)
		}
		for _, b := range e.Boundaries {
			due, _ := p.Element(b).Timer.Schedule.Next(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
			fmt.Printf("  boundary %s due at %s\n", p.Element(b).ID, due.Format(time.TimeOnly))
		}
		if len(e.Outgoing) == 0 {
			break
		}
		i = p.Flow(e.Outgoing[0]).Target
	}
	// Output:
	// startEvent start
	// serviceTask charge
	//   job type "payment", retries maxRetries (FEEL: true)
	//   boundary slow due at 12:10:00
	// endEvent done
}

// A model with problems is refused with all of them, each with the element,
// its line and column, and a sentence.
func ExampleError() {
	_, err := bpmn.Load([]byte(`<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <process id="p" isExecutable="true">
    <startEvent id="s" />
    <serviceTask id="t" />
    <complexGateway id="g" />
    <sequenceFlow id="f" sourceRef="s" targetRef="x" />
  </process>
</definitions>`))
	var e *bpmn.Error
	if errors.As(err, &e) {
		for _, p := range e.Problems {
			fmt.Println(p)
		}
	}
	// Output:
	// 4:5: t: the service task has no job type: add zeebe:taskDefinition with a type
	// 5:5: g: not supported: complexGateway g
	// 6:5: f: the sequence flow's target "x" does not exist
}
