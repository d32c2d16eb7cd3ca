package bpmn

// Kind is what an element is: its BPMN element type.
type Kind uint8

// Element kinds. KindProcess is the root scope of every compiled process
// (Elements[0]); the others are the BPMN elements Eddy executes.
const (
	KindInvalid Kind = iota
	KindProcess
	KindStartEvent
	KindEndEvent
	KindIntermediateCatchEvent
	KindIntermediateThrowEvent
	KindBoundaryEvent
	KindServiceTask
	KindUserTask
	KindReceiveTask
	KindSendTask
	KindScriptTask
	KindBusinessRuleTask
	KindManualTask
	KindTask // an undefined task: it completes at once
	KindExclusiveGateway
	KindParallelGateway
	KindInclusiveGateway
	KindEventBasedGateway
	KindSubProcess
	KindEventSubProcess
	KindCallActivity
	kindCount
)

var kindNames = [kindCount]string{
	KindInvalid:                "invalid",
	KindProcess:                "process",
	KindStartEvent:             "startEvent",
	KindEndEvent:               "endEvent",
	KindIntermediateCatchEvent: "intermediateCatchEvent",
	KindIntermediateThrowEvent: "intermediateThrowEvent",
	KindBoundaryEvent:          "boundaryEvent",
	KindServiceTask:            "serviceTask",
	KindUserTask:               "userTask",
	KindReceiveTask:            "receiveTask",
	KindSendTask:               "sendTask",
	KindScriptTask:             "scriptTask",
	KindBusinessRuleTask:       "businessRuleTask",
	KindManualTask:             "manualTask",
	KindTask:                   "task",
	KindExclusiveGateway:       "exclusiveGateway",
	KindParallelGateway:        "parallelGateway",
	KindInclusiveGateway:       "inclusiveGateway",
	KindEventBasedGateway:      "eventBasedGateway",
	KindSubProcess:             "subProcess",
	KindEventSubProcess:        "eventSubProcess",
	KindCallActivity:           "callActivity",
}

// String returns the BPMN XML name of the kind (serviceTask, ...).
func (k Kind) String() string {
	if k < kindCount {
		return kindNames[k]
	}
	return "invalid"
}

// IsActivity reports tasks, subprocesses and call activities: the elements
// that may carry boundary events, multi-instance and input/output mappings.
func (k Kind) IsActivity() bool {
	return k >= KindServiceTask && k <= KindTask || k == KindSubProcess || k == KindEventSubProcess || k == KindCallActivity
}

// IsTask reports the task kinds.
func (k Kind) IsTask() bool { return k >= KindServiceTask && k <= KindTask }

// IsGateway reports the gateway kinds.
func (k Kind) IsGateway() bool { return k >= KindExclusiveGateway && k <= KindEventBasedGateway }

// IsEvent reports the event kinds.
func (k Kind) IsEvent() bool { return k >= KindStartEvent && k <= KindBoundaryEvent }

// IsScope reports the kinds that contain other elements.
func (k Kind) IsScope() bool {
	return k == KindProcess || k == KindSubProcess || k == KindEventSubProcess
}

// IsJobWorker reports the kinds whose work is done by a job worker when they
// carry a task definition (user tasks always create a job in Zeebe 8.3).
func (k Kind) IsJobWorker() bool {
	switch k {
	case KindServiceTask, KindSendTask, KindUserTask, KindScriptTask, KindBusinessRuleTask:
		return true
	}
	return false
}

// EventKind is the kind of an event's definition.
type EventKind uint8

// Event definition kinds; EventNone is an event without a definition.
const (
	EventNone EventKind = iota
	EventMessage
	EventTimer
	EventError
	EventSignal
	EventEscalation
	EventTerminate
	EventLink
	eventKindCount
)

var eventKindNames = [eventKindCount]string{
	EventNone:       "none",
	EventMessage:    "message",
	EventTimer:      "timer",
	EventError:      "error",
	EventSignal:     "signal",
	EventEscalation: "escalation",
	EventTerminate:  "terminate",
	EventLink:       "link",
}

// String returns the lower-case name of the event kind (message, timer, ...).
func (k EventKind) String() string {
	if k < eventKindCount {
		return eventKindNames[k]
	}
	return "invalid"
}

// TimerKind says how a timer's value is read.
type TimerKind uint8

// Timer kinds, one per BPMN timer element.
const (
	TimerDate     TimerKind = iota + 1 // timeDate: an ISO-8601 date-time
	TimerDuration                      // timeDuration: an ISO-8601 duration
	TimerCycle                         // timeCycle: an ISO-8601 repeating interval or a cron expression
)

// String returns the BPMN element name of the timer kind.
func (k TimerKind) String() string {
	switch k {
	case TimerDate:
		return "timeDate"
	case TimerDuration:
		return "timeDuration"
	case TimerCycle:
		return "timeCycle"
	}
	return "invalid"
}
