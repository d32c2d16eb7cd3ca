package broker

import (
	"strings"
	"testing"
)

// TestReadyCondition: the Ready condition a trigger's status carries, as
// tools that wait on Knative's condition read it.
func TestReadyCondition(t *testing.T) {
	running := []SegmentStatus{{Segment: 0, Owner: "a"}, {Segment: 1, Owner: "b"}}
	lapsed := []SegmentStatus{{Segment: 0, Owner: "a"}, {Segment: 1, Owner: "b", ClaimLapsed: true}}
	cases := []struct {
		name   string
		st     TriggerStatus
		status string
		reason string
		says   string
	}{
		{"running", TriggerStatus{Running: true, Segments: running}, "True", "", ""},
		{"failed", TriggerStatus{Error: "bad filter"}, "False", "Failed", "bad filter"},
		{"paused", TriggerStatus{Paused: true}, "False", "Paused", "replay"},
		{"not running here", TriggerStatus{}, "Unknown", "NotRunning", "does not run"},
		{"builtin", TriggerStatus{Builtin: true, Note: "the engine serves it"}, "True", "Builtin", "engine"},
		{"a segment's owner stopped renewing", TriggerStatus{Running: true, Segments: lapsed}, "Unknown", "ClaimLapsed", "segments [1]"},
	}
	for _, c := range cases {
		got := ready(&c.st)
		if got.Type != "Ready" || got.Status != c.status || got.Reason != c.reason || !strings.Contains(got.Message, c.says) {
			t.Errorf("%s: %+v, want Ready %s (%s) saying %q", c.name, got, c.status, c.reason, c.says)
		}
	}
}
