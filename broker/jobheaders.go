package broker

import (
	"encoding/json"
	"fmt"
	"strings"
)

// JobType is the job type the broker's worker serves: a service task of
// this type emits a CloudEvent into the broker, as the Zeebe CloudEvents
// router's worker did.
const JobType = "cloudevents"

// The Mode header's values.
const (
	// ModeEmitOnly emits the event and completes the job.
	ModeEmitOnly = "EMIT_ONLY"
	// ModeWaitForCloudEvent emits the event, then completes the job with
	// the data of the first event of type WaitType that names the job's
	// process instance.
	ModeWaitForCloudEvent = "WAIT_FOR_CLOUD_EVENT"
)

// The extensions of an emitted event. Their names are lower-case because
// CloudEvents 1.0 allows nothing else (the router's SDK sent them in camel
// case, from CloudEvents 0.3).
const (
	ExtProcessInstanceKey = "processinstancekey"
	ExtBpmnProcessID      = "bpmnprocessid"
	ExtBpmnActivityID     = "bpmnactivityid"
	ExtJobKey             = "jobkey"
)

// jobHeaders are the task headers the worker reads. Others (the router's
// Host, say) are ignored: events go to Eddy's broker, and triggers route
// them.
type jobHeaders struct {
	Type     string
	Mode     string
	WaitType string
}

// parseJobHeaders reads a job's custom headers (a JSON object of strings)
// and checks that they describe an emission.
func parseJobHeaders(raw []byte) (jobHeaders, error) {
	var m map[string]string
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return jobHeaders{}, fmt.Errorf("the task headers are not a JSON object of strings: %v", err)
		}
	}
	h := jobHeaders{Type: m["Type"], Mode: m["Mode"], WaitType: m["WaitType"]}
	// A blank type is a missing one: no filter could ever match it.
	if strings.TrimSpace(h.Type) == "" {
		h.Type = ""
	}
	if strings.TrimSpace(h.WaitType) == "" {
		h.WaitType = ""
	}
	switch h.Mode {
	case "":
		// The router emitted when no mode was given.
		h.Mode = ModeEmitOnly
	case ModeEmitOnly:
	case ModeWaitForCloudEvent:
		if h.WaitType == "" {
			return h, fmt.Errorf("task header Mode is %s but there is no WaitType header naming the event type to wait for", ModeWaitForCloudEvent)
		}
	default:
		return h, fmt.Errorf("task header Mode is %q: expected %s or %s", h.Mode, ModeEmitOnly, ModeWaitForCloudEvent)
	}
	if h.Type == "" {
		return h, fmt.Errorf("a job of type %q needs a task header Type: the type of the CloudEvent to emit", JobType)
	}
	return h, nil
}
