package main

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/internal/pgtest"
)

func grpcAddress(t *testing.T, ready string) string {
	t.Helper()
	m := regexp.MustCompile(`grpc=(127\.0\.0\.1:[0-9]+)`).FindStringSubmatch(ready)
	if m == nil {
		t.Fatalf("the ready line has no grpc=127.0.0.1:PORT: %s", ready)
	}
	return m[1]
}

func zeebeClient(t *testing.T, addr string) zbc.Client {
	t.Helper()
	c, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: addr, UsePlaintextConnection: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestGatewayFollowsPartitionTakeover: a node that holds no partition
// answers Zeebe clients UNAVAILABLE and shows the partitions' owner in its
// topology; once it has taken the dead node's partitions over, its gateway
// serves on the new engine.
func TestGatewayFollowsPartitionTakeover(t *testing.T) {
	dsn := pgtest.Schema(t)
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--claim-timeout", "2s", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"}
	first := startEddy(t, args...)
	first.waitFor(t, "eddy is ready")
	second := startEddy(t, args...)
	c := zeebeClient(t, grpcAddress(t, second.waitFor(t, "eddy is ready")))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard
	defer cancel()

	_, err := c.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().Send(ctx)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "owns no partition") {
		t.Fatalf("a request to a node without partitions: %v, want UNAVAILABLE", err)
	}
	topo, err := c.NewTopologyCommand().Send(ctx)
	if err != nil || len(topo.Brokers) != 2 || len(topo.Brokers[0].Partitions) != 0 || len(topo.Brokers[1].Partitions) != 2 {
		t.Fatalf("topology seen from the node without partitions: %v, %v", topo, err)
	}

	first.cmd.Process.Kill()
	first.cmd.Wait()
	second.waitFor(t, `msg="engine restarted on the held partitions" partitions=2`)
	model, err := os.ReadFile("testdata/noop.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewDeployResourceCommand().AddResource(model, "noop.bpmn").Send(ctx); err != nil {
		t.Fatalf("deploying on the survivor: %v", err)
	}
	if _, err := c.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().WithResult().Send(ctx); err != nil {
		t.Fatalf("running on the survivor: %v", err)
	}
	second.stop(t)
}
