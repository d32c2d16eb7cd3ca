package zeebe

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
)

// TestTopology: this node leads the partitions its engine runs, numbered
// from 1 as in Zeebe, and the other owners of partition claims appear as
// brokers of their own.
func TestTopology(t *testing.T) {
	store := openStore(t)
	e := startEngine(t, store, 0, 1)
	if _, err := store.Ownership().ClaimPartition(context.Background(), 2, "other-node", time.Minute); err != nil {
		t.Fatal(err)
	}
	live := func(context.Context) ([]string, error) { return []string{"idle-node", "other-node", "zeebe-test"}, nil }
	addr := serveGRPC(t, New(Static(e), WithNode("zeebe-test", "gateway.example:26500"), WithNodes(live)))
	topo, err := newClient(t, addr).NewTopologyCommand().Send(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if topo.PartitionsCount != 3 || topo.ClusterSize != 3 || topo.ReplicationFactor != 1 || topo.GatewayVersion != GatewayVersion || len(topo.Brokers) != 3 {
		t.Fatalf("topology: %v", topo)
	}
	// Numbered by name, as every gateway numbers them.
	idle, other, self := topo.Brokers[0], topo.Brokers[1], topo.Brokers[2]
	if idle.Host != "idle-node" || idle.NodeId != 0 || len(idle.Partitions) != 0 {
		t.Fatalf("the node without partitions: %v", idle)
	}
	if other.Host != "other-node" || other.NodeId != 1 || !leads(other, 3) {
		t.Fatalf("the other node: %v", other)
	}
	if self.Host != "gateway.example" || self.Port != 26500 || self.NodeId != 2 || !leads(self, 1, 2) {
		t.Fatalf("this node: %v", self)
	}
}

// leads reports whether b leads exactly the given partitions, healthy.
func leads(b *pb.BrokerInfo, ids ...int32) bool {
	if len(b.Partitions) != len(ids) {
		return false
	}
	for i, p := range b.Partitions {
		if p.PartitionId != ids[i] || p.Role != pb.Partition_LEADER || p.Health != pb.Partition_HEALTHY {
			return false
		}
	}
	return true
}

// TestTopologyShowsADeadNode: the partitions of a node that does not
// answer the gateway's probe are UNHEALTHY, not healthy until its claims lapse
// (before, a killed node stayed "Leader, Healthy" for the claim timeout).
func TestTopologyShowsADeadNode(t *testing.T) {
	store := openStore(t)
	e := startEngine(t, store, 0)
	for p, owner := range map[int]string{1: "alive-node", 2: "dead-node"} {
		if _, err := store.Ownership().ClaimPartition(context.Background(), p, owner, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	probe := func(_ context.Context, node string) bool { return node != "dead-node" }
	addr := serveGRPC(t, New(Static(e), WithNode("zeebe-test", "gateway.example:26500"), WithProbe(probe)))
	topo, err := newClient(t, addr).NewTopologyCommand().Send(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	health := map[int32]pb.Partition_PartitionBrokerHealth{}
	for _, b := range topo.Brokers {
		for _, p := range b.Partitions {
			health[p.PartitionId] = p.Health
		}
	}
	want := map[int32]pb.Partition_PartitionBrokerHealth{1: pb.Partition_HEALTHY, 2: pb.Partition_HEALTHY, 3: pb.Partition_UNHEALTHY}
	if !maps.Equal(health, want) {
		t.Fatalf("partition health %v, want %v", health, want)
	}
}
