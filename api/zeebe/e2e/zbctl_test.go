package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"eddy/api/rest"
)

// zbctl runs zbctl against e (plaintext) and returns its output; run
// fails the test unless zbctl succeeds.
func zbctl(t *testing.T, e *eddy, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return zbctlSecure(t, e, append([]string{"--insecure"}, args...)...)
}

// zbctlSecure runs zbctl against e with only the flags given.
func zbctlSecure(t *testing.T, e *eddy, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard
	defer cancel()
	cmd := exec.CommandContext(ctx, zbctlBinary, append([]string{"--address", e.grpc}, args...)...)
	// zbctl would read a gateway address or OAuth settings from these.
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func run(t *testing.T, e *eddy, args ...string) string {
	t.Helper()
	out, errOut, err := zbctl(t, e, args...)
	if err != nil {
		t.Fatalf("zbctl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// runJSON runs zbctl and decodes its JSON answer; keys come as strings.
func runJSON(t *testing.T, e *eddy, args ...string) map[string]any {
	t.Helper()
	out := run(t, e, args...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("zbctl %s printed no JSON object: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

// key reads a key field of zbctl's JSON.
func key(t *testing.T, m map[string]any, field string) string {
	t.Helper()
	s, _ := m[field].(string)
	if _, err := strconv.ParseInt(s, 10, 64); err != nil || s == "0" {
		t.Fatalf("field %s of %v is not a key", field, m)
	}
	return s
}

// fails runs zbctl expecting a failure whose output says want.
func fails(t *testing.T, e *eddy, want string, args ...string) {
	t.Helper()
	out, errOut, err := zbctl(t, e, args...)
	if err == nil || !strings.Contains(out+errOut, want) {
		t.Fatalf("zbctl %s: %v, output %q; want a failure saying %q", strings.Join(args, " "), err, out+errOut, want)
	}
}

// TestZbctl drives one `eddy dev` with zbctl, built from the Go client's
// module: what operators and scripts do with it.
func TestZbctl(t *testing.T) {
	e := startEddy(t, nil)
	testdata := filepath.Join("..", "testdata")

	t.Run("status", func(t *testing.T) {
		out := run(t, e, "status")
		for _, want := range []string{"Cluster size: 1", "Partitions count: 3", "Gateway version: 8.3.0", "Partition 1 : Leader, Healthy", "Partition 3 : Leader, Healthy"} {
			if !strings.Contains(out, want) {
				t.Errorf("status does not say %q:\n%s", want, out)
			}
		}
	})
	t.Run("deploy the seed models", func(t *testing.T) {
		raw := e.raw(t)
		for i, s := range loadSeeds(t, seedDir) {
			dep := runJSON(t, e, "deploy", "resource", filepath.Join(seedDir, s.file))
			key(t, dep, "key")
			if !strings.Contains(run(t, e, "deploy", filepath.Join(seedDir, s.file)), s.processID) {
				t.Errorf("the deprecated deploy of %s does not name its process", s.file)
			}
			// Versions of a model share a process id: run this one now, while
			// it is the latest.
			runSeed(t, e, raw, s, "zbctl-"+strconv.Itoa(i))
		}
	})
	t.Run("deploy a bad model", func(t *testing.T) {
		fails(t, e, "InvalidArgument", "deploy", "resource", filepath.Join(testdata, "invalid.bpmn"))
		// The validation report reaches the user: the flow to a missing
		// element is named.
		fails(t, e, "nowhere", "deploy", "resource", filepath.Join(testdata, "invalid.bpmn"))
	})
	run(t, e, "deploy", "resource", filepath.Join(testdata, "start-end.bpmn"), filepath.Join(testdata, "service-task.bpmn"),
		filepath.Join(testdata, "error-boundary.bpmn"), filepath.Join(testdata, "signal-catch.bpmn"), filepath.Join(testdata, "message-catch.bpmn"))

	t.Run("create with and without result", func(t *testing.T) {
		created := runJSON(t, e, "create", "instance", "noop")
		key(t, created, "processInstanceKey")
		res := runJSON(t, e, "create", "instance", "noop", "--variables", `{"a":1,"b":2}`, "--withResult=a")
		if res["variables"] != `{"a":1}` {
			t.Fatalf("with result: %v", res)
		}
		fails(t, e, "NotFound", "create", "instance", "no-such-process")
	})
	t.Run("worker", func(t *testing.T) {
		pi := key(t, runJSON(t, e, "create", "instance", "charge", "--variables", `{"amount":3}`), "processInstanceKey")
		// The handler's output is the job's new variables: cat echoes them.
		out, errOut, err := zbctl(t, e, "create", "worker", "charge-card", "--handler", "cat", "--maxJobsHandle", "1", "--requestTimeout", "1s")
		if err != nil || !strings.Contains(errOut, "Handler completed job") {
			t.Fatalf("zbctl worker: %v\n%s%s", err, out, errOut)
		}
		waitEnded(t, e, pi)
	})
	t.Run("jobs, failures, incidents", func(t *testing.T) {
		pi := key(t, runJSON(t, e, "create", "instance", "charge"), "processInstanceKey")
		jobs := runJSON(t, e, "activate", "jobs", "charge-card", "--maxJobsToActivate", "5", "--timeout", "1m")
		list, _ := jobs["jobs"].([]any)
		if len(list) != 1 {
			t.Fatalf("activated: %v", jobs)
		}
		job := key(t, list[0].(map[string]any), "key")
		run(t, e, "fail", "job", job, "--retries", "0", "--errorMessage", "printer on fire")
		fails(t, e, "FailedPrecondition", "complete", "job", job)
		incidents, err := e.rest().Incidents(testContext(t), mustKey(t, pi), 0, 10)
		if err != nil || len(incidents.Items) != 1 || incidents.Items[0].ErrorMessage != "printer on fire" {
			t.Fatalf("incidents: %+v, %v", incidents, err)
		}
		run(t, e, "update", "retries", job, "--retries", "2")
		run(t, e, "resolve", "incident", strconv.FormatInt(int64(incidents.Items[0].Key), 10))
		jobs = runJSON(t, e, "activate", "jobs", "charge-card")
		list, _ = jobs["jobs"].([]any)
		if len(list) != 1 || key(t, list[0].(map[string]any), "key") != job {
			t.Fatalf("activated after the resolution: %v", jobs)
		}
		run(t, e, "set", "variables", pi, "--variables", `{"note":"fixed"}`)
		run(t, e, "complete", "job", job, "--variables", `{"charged":true}`)
		waitEnded(t, e, pi)
		fails(t, e, "NotFound", "complete", "job", job)
	})
	t.Run("throw error", func(t *testing.T) {
		pi := key(t, runJSON(t, e, "create", "instance", "ship"), "processInstanceKey")
		jobs := runJSON(t, e, "activate", "jobs", "ship-parcel")
		list, _ := jobs["jobs"].([]any)
		if len(list) != 1 {
			t.Fatalf("activated: %v", jobs)
		}
		run(t, e, "throwError", "job", key(t, list[0].(map[string]any), "key"), "--errorCode", "NO_STOCK", "--errorMessage", "none left")
		waitEnded(t, e, pi)
	})
	t.Run("messages", func(t *testing.T) {
		run(t, e, "publish", "message", "payment-received", "--correlationKey", "zb-1", "--messageId", "m-1", "--ttl", "1m", "--variables", `{"paid":true}`)
		fails(t, e, "AlreadyExists", "publish", "message", "payment-received", "--correlationKey", "zb-1", "--messageId", "m-1")
		res := runJSON(t, e, "create", "instance", "await-payment", "--variables", `{"orderId":"zb-1"}`, "--withResult")
		if res["variables"] != `{"orderId":"zb-1","paid":true}` {
			t.Fatalf("instance after the buffered message: %v", res)
		}
	})
	t.Run("signal and cancel", func(t *testing.T) {
		waiting := key(t, runJSON(t, e, "create", "instance", "wait-for-go"), "processInstanceKey")
		cancelled := key(t, runJSON(t, e, "create", "instance", "wait-for-go"), "processInstanceKey")
		run(t, e, "cancel", "instance", cancelled)
		waitEnded(t, e, cancelled)
		run(t, e, "broadcast", "signal", "go", "--variables", `{"by":"zbctl"}`)
		waitEnded(t, e, waiting)
		fails(t, e, "NotFound", "cancel", "instance", cancelled)
	})
	t.Run("delete resource", func(t *testing.T) {
		dep := runJSON(t, e, "deploy", "resource", filepath.Join(testdata, "three-tasks.bpmn"))
		deployments, _ := dep["deployments"].([]any)
		if len(deployments) != 1 {
			t.Fatalf("deployment: %v", dep)
		}
		process, _ := deployments[0].(map[string]any)["process"].(map[string]any)
		run(t, e, "delete", "resource", key(t, process, "processDefinitionKey"))
		fails(t, e, "NotFound", "create", "instance", "three")
	})
	t.Run("evaluate decision", func(t *testing.T) {
		fails(t, e, "Unimplemented", "evaluate", "decision", "dish")
	})
}

func mustKey(t *testing.T, s string) rest.Key {
	t.Helper()
	k, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return rest.Key(k)
}

// waitEnded waits until instance key has ended, failing after a minute.
func waitEnded(t *testing.T, e *eddy, key string) {
	t.Helper()
	eventuallyEnded(t, e, int64(mustKey(t, key)), func() {})
}
