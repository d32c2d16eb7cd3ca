package main

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
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

// TestGatewayFollowsPartitionTakeover: a node serves Zeebe clients whatever
// partitions it holds: right after it joined, once it has its share, with
// none at all (a third node of two partitions forwards everything, as a
// Zeebe gateway does), and once it has taken a dead node's partitions
// over, on its new engine; its topology shows who holds what.
func TestGatewayFollowsPartitionTakeover(t *testing.T) {
	store, args := sharedStore(t, 2)
	args = append(args, "--grpc", "127.0.0.1:0")
	first := startEddy(t, args...)
	firstAddr := httpAddress(t, first.waitFor(t, "eddy is ready"))
	second := startEddy(t, args...)
	ready := second.waitFor(t, "eddy is ready")
	c := zeebeClient(t, grpcAddress(t, ready))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard
	defer cancel()
	model, err := os.ReadFile("testdata/noop.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewDeployResourceCommand().AddResource(model, "noop.bpmn").Send(ctx); err != nil {
		t.Fatalf("deploying through a node that has just joined: %v", err)
	}
	if _, err := c.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().WithResult().Send(ctx); err != nil {
		t.Fatalf("running through a node that has just joined: %v", err)
	}
	waitForShare(t, store, map[string]int{firstAddr: 1, httpAddress(t, ready): 1})
	topo, err := c.NewTopologyCommand().Send(ctx)
	if err != nil || len(topo.Brokers) != 2 || len(topo.Brokers[0].Partitions) != 1 || len(topo.Brokers[1].Partitions) != 1 {
		t.Fatalf("topology once the nodes share the partitions: %v, %v", topo, err)
	}
	third := startEddy(t, args...)
	gateway := zeebeClient(t, grpcAddress(t, third.waitFor(t, "eddy is ready")))
	for i := range 4 { // both partitions, round robin, from a node with none
		if _, err := gateway.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().WithResult().Send(ctx); err != nil {
			t.Fatalf("run %d through a node that holds no partition: %v", i, err)
		}
	}
	// Its topology lists it too, without partitions, numbered as the
	// second node numbers the brokers.
	fromThird, err := gateway.NewTopologyCommand().Send(ctx)
	if err != nil || len(fromThird.Brokers) != 3 {
		t.Fatalf("topology through the node without partitions: %v, %v", fromThird, err)
	}
	fromSecond, err := c.NewTopologyCommand().Send(ctx)
	if err != nil || len(fromSecond.Brokers) != 3 {
		t.Fatalf("topology through the second node once the third joined: %v, %v", fromSecond, err)
	}
	idle := 0
	for i, b := range fromThird.Brokers {
		if len(b.Partitions) == 0 {
			idle++
		}
		if len(b.Partitions) != len(fromSecond.Brokers[i].Partitions) || (len(b.Partitions) == 1 && b.Partitions[0].PartitionId != fromSecond.Brokers[i].Partitions[0].PartitionId) {
			t.Fatalf("broker %d differs between gateways: %v and %v", i, b, fromSecond.Brokers[i])
		}
	}
	if idle != 1 {
		t.Fatalf("topology through the node without partitions: %d brokers without partitions, want 1: %v", idle, fromThird)
	}
	third.stop(t)

	first.cmd.Process.Kill()
	first.cmd.Wait()
	second.waitFor(t, `msg="engine restarted on the held partitions" partitions=2`)
	if _, err := c.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().WithResult().Send(ctx); err != nil {
		t.Fatalf("running on the survivor: %v", err)
	}
	second.stop(t)
}
