package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// httpAddress reads the REST API's address from the ready line.
func httpAddress(t *testing.T, ready string) string {
	t.Helper()
	m := regexp.MustCompile(`http=(127\.0\.0\.1:[0-9]+)`).FindStringSubmatch(ready)
	if m == nil {
		t.Fatalf("the ready line has no http=127.0.0.1:PORT: %s", ready)
	}
	return m[1]
}

// TestDeployRunPublishOnDev drives a running `eddy dev` with the client
// commands, as a user would.
func TestDeployRunPublishOnDev(t *testing.T) {
	n := startEddy(t, "dev", "--data", filepath.Join(t.TempDir(), "data"), "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0")
	address := "--address=http://" + httpAddress(t, n.waitFor(t, "eddy is ready"))

	stdout, stderr, code := eddy(t, "deploy", address, "testdata/noop.bpmn", "testdata/take-order.bpmn")
	if code != 0 || !strings.Contains(stdout, "noop version 1 from noop.bpmn") || !strings.Contains(stdout, "take-order version 1 from take-order.bpmn") {
		t.Fatalf("eddy deploy: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, _, _ := eddy(t, "deploy", address, "testdata/noop.bpmn"); !strings.Contains(stdout, "noop version 1 (unchanged)") {
		t.Errorf("deploying the same file again: %s", stdout)
	}

	var result struct {
		ProcessInstanceKey string
		State              string
		Variables          map[string]any
	}
	stdout, stderr, code = eddy(t, "run", "noop", address, "--vars", `{"order": "o-1", "total": 12.5}`, "--wait", "--timeout", "30s")
	if code != 0 || json.Unmarshal([]byte(stdout), &result) != nil {
		t.Fatalf("eddy run --wait: exit %d\n%s%s", code, stdout, stderr)
	}
	if result.State != "COMPLETED" || result.Variables["order"] != "o-1" || result.Variables["total"] != 12.5 || result.ProcessInstanceKey == "" {
		t.Errorf("eddy run --wait printed %+v", result)
	}
	stdout, stderr, code = eddy(t, "run", "noop", address)
	if code != 0 || !strings.Contains(stdout, `"processInstanceKey"`) || strings.Contains(stdout, `"state"`) {
		t.Errorf("eddy run without --wait: exit %d\n%s%s", code, stdout, stderr)
	}

	stdout, stderr, code = eddy(t, "publish", "order-placed", address, "--key", "o-2", "--vars", `{"item": "tea"}`, "--wait")
	if code != 0 || json.Unmarshal([]byte(stdout), &result) != nil || result.State != "COMPLETED" || result.Variables["item"] != "tea" {
		t.Fatalf("eddy publish --wait: exit %d\n%s%s", code, stdout, stderr)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown process", []string{"run", "nope", address}, "process ID 'nope'"},
		{"invalid model", []string{"deploy", address, "testdata/broken.bpmn"}, `target "nowhere" does not exist`},
	} {
		_, stderr, code := eddy(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) != 1 || !strings.HasPrefix(lines[0], "eddy: ") || !strings.Contains(lines[0], tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want one line saying %q", tc.name, code, stderr, tc.want)
		}
	}
	n.stop(t)
}
