package main

import (
	"context"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
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
	firstReady := first.waitFor(t, "eddy is ready")
	firstAddr := httpAddress(t, firstReady)
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
	// Each broker is shown at its gRPC gateway's address (not its HTTP
	// one, nor port 0), with an id that stays when a node joins.
	ids := brokerIDs(t, topo, grpcAddress(t, firstReady), grpcAddress(t, ready))
	third := startEddy(t, args...)
	thirdGRPC := grpcAddress(t, third.waitFor(t, "eddy is ready"))
	gateway := zeebeClient(t, thirdGRPC)
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
	for _, topo := range []*pb.TopologyResponse{fromThird, fromSecond} {
		now := brokerIDs(t, topo, grpcAddress(t, firstReady), grpcAddress(t, ready), thirdGRPC)
		for addr, id := range ids {
			if now[addr] != id {
				t.Fatalf("the node at %s was broker %d, now %d: %v", addr, id, now[addr], topo)
			}
		}
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

// brokerIDs checks that topo shows one broker at each of the gRPC
// addresses, each with its own id, and gives the ids by address.
func brokerIDs(t *testing.T, topo *pb.TopologyResponse, addrs ...string) map[string]int32 {
	t.Helper()
	ids := map[string]int32{}
	seen := map[int32]bool{}
	for _, b := range topo.Brokers {
		addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
		if !slices.Contains(addrs, addr) || seen[b.NodeId] {
			t.Fatalf("broker %d at %s: want one at each of %v, each its own id: %v", b.NodeId, addr, addrs, topo)
		}
		ids[addr], seen[b.NodeId] = b.NodeId, true
	}
	if len(ids) != len(addrs) {
		t.Fatalf("brokers %v, want one at each of %v", topo.Brokers, addrs)
	}
	return ids
}
