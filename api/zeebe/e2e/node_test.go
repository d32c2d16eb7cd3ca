package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// zeebeNode is the zeebe-node release the smoke test installs: the one
// for Zeebe 8.3, whose protocol Eddy speaks.
const zeebeNode = "zeebe-node@8.3.2"

// installZeebeNode installs zeebe-node into the user's cache directory
// once and returns its node_modules. Without npm or the registry the test
// is skipped, except under CI=true, where it fails.
func installZeebeNode(t *testing.T) string {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format+" (the test needs it under CI=true)", args...)
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable("node is not installed: %v", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "eddy-test", strings.ReplaceAll(zeebeNode, "@", "-"))
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "zeebe-node", "package.json")); err == nil {
		return modules
	}
	if _, err := exec.LookPath("npm"); err != nil {
		unavailable("npm is not installed: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a guard
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel", "error", zeebeNode)
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable("npm install %s into %s failed: %v\n%s", zeebeNode, dir, err, out)
	}
	return modules
}

// TestNodeClient: the Node.js client zeebe-node deploys a model, runs a
// worker and creates an instance with its result against `eddy dev`.
func TestNodeClient(t *testing.T) {
	modules := installZeebeNode(t)
	e := startEddy(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard
	defer cancel()
	model, err := filepath.Abs(filepath.Join("..", "testdata", "service-task.bpmn"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "node", filepath.Join("testdata", "zeebe-node-smoke.js"), e.grpc, model)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("zeebe-node smoke test: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var got struct {
		Partitions int
		Process    string
		Result     struct {
			BpmnProcessID      string `json:"bpmnProcessId"`
			ProcessInstanceKey string `json:"processInstanceKey"`
			Variables          map[string]any
		}
	}
	if err := json.Unmarshal([]byte(stdout.String()), &got); err != nil {
		t.Fatalf("zeebe-node printed %q: %v\n%s", stdout.String(), err, stderr.String())
	}
	v := got.Result.Variables
	if got.Partitions != 3 || got.Process != "charge" || got.Result.BpmnProcessID != "charge" || got.Result.ProcessInstanceKey == "" ||
		v["amount"] != float64(21) || v["charged"] != float64(42) || v["currency"] != "EUR" {
		t.Fatalf("zeebe-node saw %+v", got)
	}
}
