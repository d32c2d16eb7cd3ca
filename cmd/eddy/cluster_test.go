package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/internal/pgtest"
)

// TestAnyNodeServesEverything runs two nodes on one PostgreSQL: the first
// holds every partition, the second none. Requests sent to the second are
// forwarded to the first; CloudEvents sent to the second reach the
// triggers the first applied from a file.
func TestAnyNodeServesEverything(t *testing.T) {
	dsn := pgtest.Schema(t)
	got := make(chan string, 10)
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("Ce-Type") + " " + string(body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sub.Close()
	triggers := filepath.Join(t.TempDir(), "triggers.yaml")
	yaml := fmt.Sprintf(`apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: orders
  namespace: default
spec:
  broker: default
  filter:
    attributes:
      type: order.placed
  subscriber:
    uri: %s
`, sub.URL)
	if err := os.WriteFile(triggers, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", "", "--cluster-secret", "s3cret"}
	first := startEddy(t, append(args, "--triggers", triggers)...)
	if ready := first.waitFor(t, "eddy is ready"); !strings.Contains(ready, "claimed=2") {
		t.Fatalf("first node: %s", ready)
	}
	second := startEddy(t, args...)
	ready := second.waitFor(t, "eddy is ready")
	if !strings.Contains(ready, "claimed=0") {
		t.Fatalf("second node: %s", ready)
	}
	address := "--address=http://" + httpAddress(t, ready)
	if _, stderr, code := eddy(t, "deploy", address, "testdata/noop.bpmn"); code != 0 {
		t.Fatalf("deploying through the node without partitions: %s", stderr)
	}
	var stdout, stderr string
	var code int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// The deployment reaches the second partition through its log.
		if stdout, stderr, code = eddy(t, "run", "noop", "--wait", address); code == 0 || !strings.Contains(stderr, "NOT_FOUND") && !strings.Contains(stderr, "noop") {
			break
		}
	}
	if code != 0 || !strings.Contains(stdout, `"COMPLETED"`) {
		t.Fatalf("run --wait through the node without partitions: %s %s", stdout, stderr)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddress(t, ready)+"/v1/events", strings.NewReader(`{"id":"42"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Id", "e-1")
	req.Header.Set("Ce-Source", "/shop")
	req.Header.Set("Ce-Type", "order.placed")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingress on the node without partitions: %s", resp.Status)
	}
	select {
	case d := <-got:
		if d != `order.placed {"id":"42"}` {
			t.Fatalf("the subscriber got %q", d)
		}
	case <-time.After(30 * time.Second): // a guard, not a measurement
		t.Fatal("the trigger never delivered the event")
	}
	second.stop(t)
	first.stop(t)
}
