package broker

import (
	"errors"
	"strings"
	"testing"
)

// TestPreconditionsOfAMissingTrigger: a write that requires a trigger gone
// since it was read is ErrTriggerNotFound naming what it required, and
// only that (before, a PUT naming its resourceVersion alone was told it
// required uid "" too).
func TestPreconditionsOfAMissingTrigger(t *testing.T) {
	cases := []struct {
		p       Preconditions
		says    string
		notSays string
	}{
		{Preconditions{ResourceVersion: "17"}, `at resourceVersion "17" (`, `uid ""`},
		{Preconditions{UID: "u-1"}, `at uid "u-1" (read`, `resourceVersion ""`},
		{Preconditions{UID: "u-1", ResourceVersion: "17"}, `at uid "u-1" and resourceVersion "17" (`, `""`},
	}
	for _, c := range cases {
		err := c.p.check("default/x", false, triggerIdentity{})
		if !errors.Is(err, ErrTriggerNotFound) {
			t.Fatalf("%+v: %v, want ErrTriggerNotFound", c.p, err)
		}
		if msg := err.Error(); !strings.Contains(msg, c.says) || strings.Contains(msg, c.notSays) {
			t.Errorf("%+v: %q, want it to say %q and not %q", c.p, msg, c.says, c.notSays)
		}
	}
	if err := (Preconditions{}).check("default/x", false, triggerIdentity{}); err != nil {
		t.Fatalf("no preconditions: %v, want none", err)
	}
}
