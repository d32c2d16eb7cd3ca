package record

import "fmt"

// Kind says whether a record asks for a change, reports one, or refuses a
// command.
type Kind uint8

const (
	Command Kind = iota + 1
	Event
	Rejection
)

var kindNames = [...]string{Command: "COMMAND", Event: "EVENT", Rejection: "COMMAND_REJECTION"}

func (k Kind) String() string { return enumName(kindNames[:], int(k), "Kind") }

// ValueType says what entity a record is about.
type ValueType uint8

const (
	Deployment ValueType = iota + 1
	Process
	ProcessInstance
	ProcessInstanceCreation
	ProcessInstanceModification
	Job
	Variable
	VariableDocument
	Incident
	Message
	MessageSubscription
	ProcessMessageSubscription
	MessageStartEventSubscription
	Timer
	Signal
	SignalSubscription
	Escalation
	ResourceDeletion
	// Clock is the driver telling the engine that time has passed: due
	// timers, job deadlines, message TTLs and back-offs are acted on.
	Clock
	// CloudEvent is an event that entered the broker: Value.Event holds it
	// encoded, Name its type, Source and MessageID its source and id.
	CloudEvent
)

var valueTypeNames = [...]string{
	Deployment: "DEPLOYMENT", Process: "PROCESS", ProcessInstance: "PROCESS_INSTANCE",
	ProcessInstanceCreation: "PROCESS_INSTANCE_CREATION", ProcessInstanceModification: "PROCESS_INSTANCE_MODIFICATION",
	Job: "JOB", Variable: "VARIABLE", VariableDocument: "VARIABLE_DOCUMENT", Incident: "INCIDENT",
	Message: "MESSAGE", MessageSubscription: "MESSAGE_SUBSCRIPTION",
	ProcessMessageSubscription: "PROCESS_MESSAGE_SUBSCRIPTION", MessageStartEventSubscription: "MESSAGE_START_EVENT_SUBSCRIPTION",
	Timer: "TIMER", Signal: "SIGNAL", SignalSubscription: "SIGNAL_SUBSCRIPTION", Escalation: "ESCALATION",
	ResourceDeletion: "RESOURCE_DELETION", Clock: "CLOCK", CloudEvent: "CLOUD_EVENT",
}

func (v ValueType) String() string { return enumName(valueTypeNames[:], int(v), "ValueType") }

// Intent is what a record does to its entity. Commands are verbs (CREATE),
// events are past participles (CREATED). One enum serves all value types, as
// the names overlap.
type Intent uint8

const (
	// Commands.
	Create Intent = iota + 1
	CreateWithResult
	Cancel
	ActivateElement
	CompleteElement
	TerminateElement
	Activate
	Complete
	Fail
	ThrowError
	UpdateRetries
	UpdateTimeout
	TimeOut
	RecurAfterBackoff
	Publish
	Expire
	Correlate
	Reject
	Open
	Close
	Trigger
	Resolve
	Update
	Modify
	Delete
	Broadcast
	Tick

	// Events.
	Created
	ElementActivating
	ElementActivated
	ElementCompleting
	ElementCompleted
	ElementTerminating
	ElementTerminated
	SequenceFlowTaken
	Activated
	Completed
	Failed
	ErrorThrown
	RetriesUpdated
	TimeoutUpdated
	TimedOut
	RecurredAfterBackoff
	Canceled
	Published
	Expired
	Correlating
	Correlated
	Rejected
	Opened
	Closed
	Triggered
	Resolved
	Updated
	Modified
	Deleted
	Broadcasted
	Escalated
	NotEscalated
	Ticked
)

var intentNames = [...]string{
	Create: "CREATE", CreateWithResult: "CREATE_WITH_AWAITING_RESULT", Cancel: "CANCEL",
	ActivateElement: "ACTIVATE_ELEMENT", CompleteElement: "COMPLETE_ELEMENT", TerminateElement: "TERMINATE_ELEMENT",
	Activate: "ACTIVATE", Complete: "COMPLETE", Fail: "FAIL", ThrowError: "THROW_ERROR",
	UpdateRetries: "UPDATE_RETRIES", UpdateTimeout: "UPDATE_TIMEOUT", TimeOut: "TIME_OUT",
	RecurAfterBackoff: "RECUR_AFTER_BACKOFF", Publish: "PUBLISH", Expire: "EXPIRE", Correlate: "CORRELATE",
	Reject: "REJECT", Open: "OPEN", Close: "CLOSE", Trigger: "TRIGGER", Resolve: "RESOLVE", Update: "UPDATE",
	Modify: "MODIFY", Delete: "DELETE", Broadcast: "BROADCAST", Tick: "TICK",
	Created: "CREATED", ElementActivating: "ELEMENT_ACTIVATING", ElementActivated: "ELEMENT_ACTIVATED",
	ElementCompleting: "ELEMENT_COMPLETING", ElementCompleted: "ELEMENT_COMPLETED",
	ElementTerminating: "ELEMENT_TERMINATING", ElementTerminated: "ELEMENT_TERMINATED",
	SequenceFlowTaken: "SEQUENCE_FLOW_TAKEN", Activated: "ACTIVATED", Completed: "COMPLETED", Failed: "FAILED",
	ErrorThrown: "ERROR_THROWN", RetriesUpdated: "RETRIES_UPDATED", TimeoutUpdated: "TIMEOUT_UPDATED",
	TimedOut: "TIMED_OUT", RecurredAfterBackoff: "RECURRED_AFTER_BACKOFF", Canceled: "CANCELED",
	Published: "PUBLISHED", Expired: "EXPIRED", Correlating: "CORRELATING", Correlated: "CORRELATED",
	Rejected: "REJECTED", Opened: "OPENED", Closed: "CLOSED", Triggered: "TRIGGERED", Resolved: "RESOLVED",
	Updated: "UPDATED", Modified: "MODIFIED", Deleted: "DELETED", Broadcasted: "BROADCASTED",
	Escalated: "ESCALATED", NotEscalated: "NOT_ESCALATED", Ticked: "TICKED",
}

func (i Intent) String() string { return enumName(intentNames[:], int(i), "Intent") }

// IsEvent reports whether the intent names something that happened.
func (i Intent) IsEvent() bool { return i >= Created }

// RejectionType classifies why a command was refused, as Zeebe does; API
// layers map it to status codes.
type RejectionType uint8

const (
	NoRejection RejectionType = iota
	InvalidArgument
	NotFound
	AlreadyExists
	InvalidState
	ProcessingError
	ExceededBatchRecordSize
)

var rejectionNames = [...]string{
	NoRejection: "NULL_VAL", InvalidArgument: "INVALID_ARGUMENT", NotFound: "NOT_FOUND",
	AlreadyExists: "ALREADY_EXISTS", InvalidState: "INVALID_STATE", ProcessingError: "PROCESSING_ERROR",
	ExceededBatchRecordSize: "EXCEEDED_BATCH_RECORD_SIZE",
}

func (r RejectionType) String() string { return enumName(rejectionNames[:], int(r), "RejectionType") }

func enumName(names []string, i int, kind string) string {
	if i >= 0 && i < len(names) && names[i] != "" {
		return names[i]
	}
	return fmt.Sprintf("%s(%d)", kind, i)
}
