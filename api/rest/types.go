package rest

import "encoding/json"

// The request and response bodies of the API. The server decodes requests
// into them and the client encodes them, so both sides agree by
// construction; openapi.json describes the same shapes.

// DeployRequest is the JSON form of a deployment (the other is a multipart
// upload of the files).
type DeployRequest struct {
	Resources []Resource `json:"resources"`
}

// Resource is one file to deploy: its name and either its text (Content) or
// its bytes in base64 (ContentBase64).
type Resource struct {
	Name          string `json:"name"`
	Content       string `json:"content,omitempty"`
	ContentBase64 string `json:"contentBase64,omitempty"`
}

// DeployResponse reports the deployed processes.
type DeployResponse struct {
	DeploymentKey Key               `json:"deploymentKey"`
	Processes     []DeployedProcess `json:"processes"`
}

// DeployedProcess is one process of a deployment. Duplicate is set when the
// same content was deployed before: no new version was made.
type DeployedProcess struct {
	BpmnProcessID        string `json:"bpmnProcessId"`
	Version              int32  `json:"version"`
	ProcessDefinitionKey Key    `json:"processDefinitionKey"`
	ResourceName         string `json:"resourceName"`
	Duplicate            bool   `json:"duplicate,omitempty"`
}

// Await asks a command to answer only once the process instance it started
// or reached has ended, with its variables.
type Await struct {
	AwaitCompletion bool `json:"awaitCompletion,omitempty"`
	// RequestTimeout bounds the wait (default 10s); the process goes on
	// after it.
	RequestTimeout Millis `json:"requestTimeout,omitempty"`
	// FetchVariables limits the variables returned (default: all).
	FetchVariables []string `json:"fetchVariables,omitempty"`
}

// CreateInstanceRequest starts a process instance of the latest version of
// BpmnProcessID, of a given Version, or of ProcessDefinitionKey.
type CreateInstanceRequest struct {
	BpmnProcessID        string          `json:"bpmnProcessId,omitempty"`
	Version              int32           `json:"version,omitempty"`
	ProcessDefinitionKey Key             `json:"processDefinitionKey,omitempty"`
	Variables            json.RawMessage `json:"variables,omitempty"`
	// StartAt starts at this top-level element instead of the none start
	// event.
	StartAt string `json:"startAt,omitempty"`
	Await
}

// InstanceResult is a created process instance; State and Variables are set
// when the request awaited its completion.
type InstanceResult struct {
	ProcessInstanceKey   Key    `json:"processInstanceKey"`
	BpmnProcessID        string `json:"bpmnProcessId"`
	Version              int32  `json:"version"`
	ProcessDefinitionKey Key    `json:"processDefinitionKey"`
	// State is COMPLETED or TERMINATED.
	State     string          `json:"state,omitempty"`
	Variables json.RawMessage `json:"variables,omitempty"`
}

// PublishMessageRequest publishes a message. TimeToLive buffers it for
// subscriptions opened later; MessageID deduplicates it while buffered.
type PublishMessageRequest struct {
	Name           string          `json:"name"`
	CorrelationKey string          `json:"correlationKey"`
	TimeToLive     Millis          `json:"timeToLive,omitempty"`
	MessageID      string          `json:"messageId,omitempty"`
	Variables      json.RawMessage `json:"variables,omitempty"`
	// Await waits for the process instance the message correlated to (or
	// started) to end: Eddy's own extension.
	Await
}

// PublishMessageResponse is the published message and, when awaited, the
// outcome of the instance it reached.
type PublishMessageResponse struct {
	MessageKey Key `json:"messageKey"`
	*InstanceResult
}

// BroadcastSignalRequest broadcasts a signal to every partition.
type BroadcastSignalRequest struct {
	SignalName string          `json:"signalName"`
	Variables  json.RawMessage `json:"variables,omitempty"`
}

// BroadcastSignalResponse is the broadcast signal.
type BroadcastSignalResponse struct {
	SignalKey Key `json:"signalKey"`
}

// ActivateJobsRequest activates up to MaxJobsToActivate jobs of Type for
// Timeout, waiting up to RequestTimeout for the first (long polling).
type ActivateJobsRequest struct {
	Type              string   `json:"type"`
	Worker            string   `json:"worker,omitempty"`
	Timeout           Millis   `json:"timeout"`
	MaxJobsToActivate int      `json:"maxJobsToActivate"`
	FetchVariables    []string `json:"fetchVariables,omitempty"`
	RequestTimeout    Millis   `json:"requestTimeout,omitempty"`
}

// ActivateJobsResponse holds the activated jobs, possibly none.
type ActivateJobsResponse struct {
	Jobs []Job `json:"jobs"`
}

// Job is an activated job.
type Job struct {
	Key                      Key             `json:"key"`
	Type                     string          `json:"type"`
	ProcessInstanceKey       Key             `json:"processInstanceKey"`
	BpmnProcessID            string          `json:"bpmnProcessId"`
	ProcessDefinitionVersion int32           `json:"processDefinitionVersion"`
	ProcessDefinitionKey     Key             `json:"processDefinitionKey"`
	ElementID                string          `json:"elementId"`
	ElementInstanceKey       Key             `json:"elementInstanceKey"`
	CustomHeaders            json.RawMessage `json:"customHeaders"`
	Worker                   string          `json:"worker"`
	Retries                  int32           `json:"retries"`
	// Deadline is when the activation times out, in Unix milliseconds.
	Deadline  int64           `json:"deadline"`
	Variables json.RawMessage `json:"variables"`
}

// CompleteJobRequest completes a job.
type CompleteJobRequest struct {
	Variables json.RawMessage `json:"variables,omitempty"`
}

// FailJobRequest fails a job; with Retries left it is activatable again
// after RetryBackOff, without it an incident is raised.
type FailJobRequest struct {
	Retries      int             `json:"retries"`
	ErrorMessage string          `json:"errorMessage,omitempty"`
	RetryBackOff Millis          `json:"retryBackOff,omitempty"`
	Variables    json.RawMessage `json:"variables,omitempty"`
}

// ThrowErrorRequest throws a BPMN error from a job.
type ThrowErrorRequest struct {
	ErrorCode    string          `json:"errorCode"`
	ErrorMessage string          `json:"errorMessage,omitempty"`
	Variables    json.RawMessage `json:"variables,omitempty"`
}

// UpdateJobRequest changes a job's retries, its timeout (counted from now),
// or both.
type UpdateJobRequest struct {
	Retries *int    `json:"retries,omitempty"`
	Timeout *Millis `json:"timeout,omitempty"`
}

// SetVariablesRequest sets variables on an element instance (or process
// instance): locally, or propagated to the scopes that define them.
type SetVariablesRequest struct {
	Variables json.RawMessage `json:"variables"`
	Local     bool            `json:"local,omitempty"`
}

// ModifyInstanceRequest activates elements and terminates element instances
// of a running process instance.
type ModifyInstanceRequest struct {
	ActivateInstructions  []ActivateInstruction  `json:"activateInstructions,omitempty"`
	TerminateInstructions []TerminateInstruction `json:"terminateInstructions,omitempty"`
}

// ActivateInstruction activates an element, inside the flow scope instance
// AncestorElementInstanceKey when there are several.
type ActivateInstruction struct {
	ElementID                  string          `json:"elementId"`
	AncestorElementInstanceKey Key             `json:"ancestorElementInstanceKey,omitempty"`
	Variables                  json.RawMessage `json:"variables,omitempty"`
}

// TerminateInstruction terminates an element instance.
type TerminateInstruction struct {
	ElementInstanceKey Key `json:"elementInstanceKey"`
}

// Instance is a running process instance.
type Instance struct {
	ProcessInstanceKey       Key                        `json:"processInstanceKey"`
	BpmnProcessID            string                     `json:"bpmnProcessId"`
	Version                  int32                      `json:"version"`
	ProcessDefinitionKey     Key                        `json:"processDefinitionKey"`
	State                    string                     `json:"state"`
	ParentProcessInstanceKey Key                        `json:"parentProcessInstanceKey,omitempty"`
	ParentElementInstanceKey Key                        `json:"parentElementInstanceKey,omitempty"`
	Variables                map[string]json.RawMessage `json:"variables"`
	ElementInstances         []ElementInstance          `json:"elementInstances"`
	Incidents                []Incident                 `json:"incidents"`
}

// ElementInstance is an active element of a process instance.
type ElementInstance struct {
	Key          Key    `json:"key"`
	ElementID    string `json:"elementId"`
	ElementType  string `json:"elementType"`
	State        string `json:"state"`
	FlowScopeKey Key    `json:"flowScopeKey"`
	JobKey       Key    `json:"jobKey,omitempty"`
	IncidentKey  Key    `json:"incidentKey,omitempty"`
	// Variables are the element's local variables.
	Variables map[string]json.RawMessage `json:"variables,omitempty"`
}

// Incident is an open incident.
type Incident struct {
	Key                  Key    `json:"key"`
	ErrorType            string `json:"errorType"`
	ErrorMessage         string `json:"errorMessage"`
	ProcessInstanceKey   Key    `json:"processInstanceKey"`
	BpmnProcessID        string `json:"bpmnProcessId"`
	ProcessDefinitionKey Key    `json:"processDefinitionKey"`
	ElementID            string `json:"elementId"`
	ElementInstanceKey   Key    `json:"elementInstanceKey"`
	JobKey               Key    `json:"jobKey,omitempty"`
}

// IncidentList is a page of open incidents ordered by key; Next, when set,
// is the `after` parameter of the next page.
type IncidentList struct {
	Items []Incident `json:"items"`
	Next  Key        `json:"next,omitempty"`
}
