package bpmn

import "eddy/bpmn/timer"

// ElementIndex addresses an element in Process.Elements.
type ElementIndex int32

// FlowIndex addresses a sequence flow in Process.Flows.
type FlowIndex int32

// NoElement and NoFlow stand for "none" where an index is optional.
const (
	NoElement ElementIndex = -1
	NoFlow    FlowIndex    = -1
)

// RootIndex is the index of the process itself, the outermost scope.
const RootIndex ElementIndex = 0

// Process is one compiled, executable BPMN process. It is immutable once
// returned by Compile: the engine may share it between goroutines.
type Process struct {
	ID   string
	Name string
	// VersionTag is zeebe:versionTag when the model sets one.
	VersionTag string
	Line, Col  int

	// Elements holds every element; Elements[RootIndex] is the process
	// itself (Kind Process), the scope of the top-level elements.
	Elements []Element
	// Flows holds every sequence flow, in all scopes.
	Flows []Flow

	ByID     map[string]ElementIndex
	FlowByID map[string]FlowIndex

	// NoneStart is the process's none start event, where a plain "create
	// instance" begins (NoElement if it has only typed start events).
	NoneStart ElementIndex
	// MessageStarts, TimerStarts and SignalStarts list the process-level
	// start events of each kind, which the engine subscribes or schedules
	// at deployment.
	MessageStarts []ElementIndex
	TimerStarts   []ElementIndex
	SignalStarts  []ElementIndex

	// Forms maps the id of each zeebe:userTaskForm embedded in the process
	// to its JSON body; a user task's formKey "camunda-forms:bpmn:<id>"
	// refers to one.
	Forms map[string]string
}

// Root returns the process element, the outermost scope.
func (p *Process) Root() *Element { return &p.Elements[RootIndex] }

// Element returns the element at index i.
func (p *Process) Element(i ElementIndex) *Element { return &p.Elements[i] }

// Flow returns the sequence flow at index i.
func (p *Process) Flow(i FlowIndex) *Flow { return &p.Flows[i] }

// Lookup returns the element with the given BPMN id.
func (p *Process) Lookup(id string) (*Element, bool) {
	i, ok := p.ByID[id]
	if !ok {
		return nil, false
	}
	return &p.Elements[i], true
}

// Flow is a sequence flow between two elements of the same scope.
type Flow struct {
	Index  FlowIndex
	ID     string
	Name   string
	Source ElementIndex
	Target ElementIndex
	// Condition is the flow's condition, nil when it has none. Conditions
	// are always expressions, even when written without '='.
	Condition *Expression
	// Default marks the default flow of its source gateway.
	Default   bool
	Line, Col int
}

// Element is one compiled BPMN element. Fields that do not apply to the
// element's Kind are zero (nil, NoElement or NoFlow).
type Element struct {
	Index     ElementIndex
	ID        string
	Name      string
	Kind      Kind
	Event     EventKind // for events: the kind of their event definition
	Line, Col int

	// Parent is the enclosing scope (the process, a subprocess or an event
	// subprocess); NoElement for the process itself.
	Parent   ElementIndex
	Incoming []FlowIndex
	Outgoing []FlowIndex
	// DefaultFlow is the default flow of an exclusive or inclusive gateway.
	DefaultFlow FlowIndex

	// Scopes (Process, SubProcess, EventSubProcess):
	//
	// Children lists the elements directly inside the scope, StartEvents
	// its start events (not those of its event subprocesses), NoneStart the
	// none start event among them, EventSubProcesses its event subprocesses.
	Children          []ElementIndex
	StartEvents       []ElementIndex
	NoneStart         ElementIndex
	EventSubProcesses []ElementIndex

	// Activities: their boundary events, in document order.
	Boundaries []ElementIndex

	// Boundary events: the activity they are attached to. Interrupting is
	// cancelActivity for boundary events and isInterrupting for the start
	// event of an event subprocess (copied onto the EventSubProcess).
	AttachedTo   ElementIndex
	Interrupting bool

	// Event definitions. For catch events a nil Error or Escalation, or one
	// with an empty Code, catches every error or escalation.
	Message    *Message
	Timer      *Timer
	Error      *BPMNError
	Escalation *Escalation
	Signal     *Signal
	// Link is the link name of a link catch or throw event; LinkTarget is,
	// on a link throw event, the catch event it jumps to.
	Link       string
	LinkTarget ElementIndex

	// Zeebe extensions.
	TaskDefinition *TaskDefinition
	TaskHeaders    []Header // in document order
	Inputs         []Mapping
	Outputs        []Mapping
	Script         *Script
	CalledElement  *CalledElement
	CalledDecision *CalledDecision
	UserTask       *UserTaskDefinition
	MultiInstance  *MultiInstance
	Properties     []Property
}

// IsInScope reports whether the element lies inside scope s, directly or
// nested in subprocesses.
func (p *Process) IsInScope(i, s ElementIndex) bool {
	for i != NoElement {
		i = p.Elements[i].Parent
		if i == s {
			return true
		}
	}
	return false
}

// Message is a message an event or receive task waits for or throws.
type Message struct {
	ID   string // the bpmn:message element's id
	Name Expression
	// CorrelationKey is zeebe:subscription's correlationKey; nil on start
	// events, which need none.
	CorrelationKey *Expression
}

// Timer is a timer event definition.
type Timer struct {
	Kind  TimerKind
	Value Expression
	// Schedule is the parsed timer when Value is a literal; nil when Value
	// is a FEEL expression, whose result the engine parses with the timer
	// package at run time.
	Schedule *timer.Schedule
}

// BPMNError is a BPMN error thrown by an end event or caught by a boundary
// event or an event subprocess's start event (named so to leave Error to
// the problems of a model).
type BPMNError struct {
	ID   string // the bpmn:error element's id
	Name string
	Code Expression
}

// Escalation is a BPMN escalation thrown or caught.
type Escalation struct {
	ID   string
	Name string
	Code Expression
}

// Signal is a BPMN signal broadcast or caught.
type Signal struct {
	ID   string
	Name Expression
}

// TaskDefinition is zeebe:taskDefinition: the job a worker does.
type TaskDefinition struct {
	Type Expression
	// Retries defaults to the literal "3", as in Zeebe.
	Retries Expression
}

// Header is one zeebe:header of zeebe:taskHeaders.
type Header struct {
	Key, Value string
}

// Mapping is one zeebe:input or zeebe:output of zeebe:ioMapping. A zero
// Source (none written) maps null to Target.
type Mapping struct {
	Source Expression
	Target string
}

// Script is zeebe:script: a FEEL expression whose result is stored in
// ResultVariable.
type Script struct {
	Expression     Expression
	ResultVariable string
}

// CalledElement is zeebe:calledElement of a call activity.
type CalledElement struct {
	ProcessID Expression
	// Both default to true, as in Zeebe.
	PropagateAllChildVariables  bool
	PropagateAllParentVariables bool
}

// CalledDecision is zeebe:calledDecision of a business rule task.
type CalledDecision struct {
	DecisionID     Expression
	ResultVariable string
}

// UserTaskDefinition gathers zeebe:assignmentDefinition, zeebe:taskSchedule
// and zeebe:formDefinition of a user task. Absent values are nil or "".
type UserTaskDefinition struct {
	Assignee        *Expression
	CandidateGroups *Expression
	CandidateUsers  *Expression
	DueDate         *Expression
	FollowUpDate    *Expression
	// FormKey refers to a form embedded in the process (Process.Forms) or
	// known to the task list; FormID to a deployed Camunda form.
	FormKey string
	FormID  string
}

// MultiInstance is a multi-instance activity's loop characteristics.
type MultiInstance struct {
	Sequential          bool
	InputCollection     Expression
	InputElement        string
	OutputCollection    string
	OutputElement       *Expression
	CompletionCondition *Expression
}

// Property is one zeebe:property of zeebe:properties.
type Property struct {
	Name, Value string
}
