package record

// Record is one entry of a partition's log as the engine sees it.
type Record struct {
	// Position and Timestamp (Unix ms) come from the log; they are not
	// encoded in the record's bytes.
	Position  uint64
	Timestamp int64
	// Partition is where the record is written. A command meant for another
	// partition (opening a message subscription, correlating a message) is
	// written on the sender's log with Target set; the target partition reads
	// it from there.
	Partition int
	Target    int

	Kind           Kind
	ValueType      ValueType
	Intent         Intent
	Key            int64
	SourcePosition uint64
	Rejection      RejectionType
	Reason         string
	Value          Value
}

// IsCommandFor reports whether r is a command that partition p must process
// although it was written elsewhere.
func (r *Record) IsCommandFor(p int) bool {
	return r.Kind == Command && r.Target == p && r.Partition != p
}

// Value carries the fields of every value type; each record uses those its
// type needs and leaves the rest zero, and the encoding skips zero fields.
// One flat shape keeps the codec small and fast and lets readers ask the same
// question (which process instance?) of any record.
type Value struct {
	BpmnProcessID            string
	Version                  int32
	ProcessDefinitionKey     int64
	ProcessInstanceKey       int64
	ElementID                string
	ElementType              string
	FlowScopeKey             int64
	ElementInstanceKey       int64
	ParentProcessInstanceKey int64
	ParentElementInstanceKey int64
	// Variables is a JSON object (job variables, message payload, variable
	// document, instance result).
	Variables []byte
	// Name is a message, signal or variable name.
	Name           string
	CorrelationKey string
	MessageID      string
	MessageKey     int64
	TTL            int64 // ms
	Deadline       int64 // Unix ms: job deadline, timer due date, message expiry
	JobType        string
	JobKey         int64
	Worker         string
	Retries        int32
	RetryBackoff   int64 // ms
	Timeout        int64 // ms
	MaxJobs        int32
	ErrorCode      string
	ErrorMessage   string
	ErrorType      string // incident type
	// CustomHeaders is a JSON object of the task's headers.
	CustomHeaders []byte
	// JSONValue is a variable's value as JSON.
	JSONValue       []byte
	Repetitions     int32
	TargetElementID string
	Interrupting    bool
	Local           bool
	FetchVariables  []string
	Resources       []Resource
	Processes       []ProcessMeta
	Instructions    []Instruction
	Tags            []string
	RequestTimeout  int64 // ms
	Checksum        []byte
	ResourceName    string
	Duplicate       bool
	ScopeKey        int64
	IncidentKey     int64
	Element         int32 // index of the element in its compiled process
	// Source is a CloudEvent's source attribute.
	Source string
	// Event is a CloudEvent in the cloudevents package's log encoding,
	// opaque to the engine.
	Event []byte
	// Uncorrelated marks a message's expiry when no instance took the
	// message or had it offered: none can any more.
	Uncorrelated bool
}

// Resource is a deployed file.
type Resource struct {
	Name    string
	Content []byte
}

// ProcessMeta describes one process of a deployment.
type ProcessMeta struct {
	BpmnProcessID        string
	Version              int32
	ProcessDefinitionKey int64
	ResourceName         string
	Checksum             []byte
	Duplicate            bool
}

// Instruction is one step of a process instance modification.
type Instruction struct {
	Activate           bool // false: terminate
	ElementID          string
	ElementInstanceKey int64
	AncestorKey        int64
	Variables          []byte
}
