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

	"eddy/api/rest"
	"eddy/internal/pgtest"
	"eddy/record"
	"eddy/storage"
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
	// The deploy answered once both partitions had the deployment: the
	// run works at once, whichever partition it lands on.
	if stdout, stderr, code := eddy(t, "run", "noop", "--wait", address); code != 0 || !strings.Contains(stdout, `"COMPLETED"`) {
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

// TestDeployOnOneNodeCreateOnAnother runs two nodes on one PostgreSQL, each
// holding one of its two partitions: a process deployed through one node
// can be started through the other right after the deploy answered, on the
// other node's own partition, every time.
func TestDeployOnOneNodeCreateOnAnother(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := t.Context()
	store, err := storage.Open(ctx, "postgres", dsn, storage.WithPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// The first node takes the partition nobody holds; the second, started
	// once the test let partition 1 go, takes that one. Long claim timeouts
	// keep both from looking for more during the test.
	hold, err := store.Ownership().ClaimPartition(ctx, 1, "the-test", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--claim-timeout", "10m", "--http", "127.0.0.1:0", "--grpc", ""}
	first := startEddy(t, args...)
	firstReady := first.waitFor(t, "eddy is ready")
	if !strings.Contains(firstReady, "claimed=1") {
		t.Fatalf("first node: %s", firstReady)
	}
	if err := store.Ownership().ReleasePartition(ctx, hold); err != nil {
		t.Fatal(err)
	}
	second := startEddy(t, args...)
	secondReady := second.waitFor(t, "eddy is ready")
	if !strings.Contains(secondReady, "claimed=1") {
		t.Fatalf("second node: %s", secondReady)
	}
	nodes := []struct {
		client    *rest.Client
		partition int
	}{
		{rest.NewClient("http://"+httpAddress(t, firstReady), nil), 0},
		{rest.NewClient("http://"+httpAddress(t, secondReady), nil), 1},
	}
	for round := range 40 {
		deployer, creator := nodes[round%2], nodes[(round+1)%2]
		id := fmt.Sprintf("p%d", round)
		bpmn := strings.ReplaceAll(noopBPMN(t), `id="noop"`, `id="`+id+`"`)
		if _, err := deployer.client.Deploy(ctx, rest.File{Name: id + ".bpmn", Content: []byte(bpmn)}); err != nil {
			t.Fatalf("round %d: deploy through the node of partition %d: %v", round, deployer.partition, err)
		}
		r, err := creator.client.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: id})
		if err != nil {
			t.Fatalf("round %d: deployed through the node of partition %d, created through the other right after: %v", round, deployer.partition, err)
		}
		if got := record.PartitionOf(int64(r.ProcessInstanceKey)); got != creator.partition {
			t.Fatalf("round %d: the instance is on partition %d, not on %d of the node that created it", round, got, creator.partition)
		}
	}
	second.stop(t)
	first.stop(t)
}

func noopBPMN(t *testing.T) string {
	data, err := os.ReadFile("testdata/noop.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
