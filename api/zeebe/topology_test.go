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
// brokers of their own; the live nodes keep the ids and addresses their
// Node gives, and an owner that is not among them comes after, at the host
// its name carries.
func TestTopology(t *testing.T) {
	store := openStore(t)
	e := startEngine(t, store, 0)
	for p, owner := range map[int]string{1: "other-node@http://10.0.0.2:8080", 2: "gone-node@http://10.0.0.9:8080"} {
		if _, err := store.Ownership().ClaimPartition(context.Background(), p, owner, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	live := func(context.Context) ([]Node, error) {
		return []Node{
			{Name: "idle-node@http://10.0.0.3:8080", ID: 4, Port: 26500},
			{Name: "other-node@http://10.0.0.2:8080", ID: 2, Port: 26502},
			{Name: "zeebe-test", ID: 0, Host: "gateway.example", Port: 26500},
		}, nil
	}
	addr := serveGRPC(t, New(Static(e), WithNode("zeebe-test", "127.0.0.1:26500"), WithNodes(live)))
	topo, err := newClient(t, addr).NewTopologyCommand().Send(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if topo.PartitionsCount != 3 || topo.ClusterSize != 4 || topo.ReplicationFactor != 1 || topo.GatewayVersion != GatewayVersion || len(topo.Brokers) != 4 {
		t.Fatalf("topology: %v", topo)
	}
	want := []struct {
		id    int32
		host  string
		port  int32
		leads []int32
	}{
		{0, "gateway.example", 26500, []int32{1}},
		{2, "10.0.0.2", 26502, []int32{2}},
		{4, "10.0.0.3", 26500, nil},
		{5, "10.0.0.9", 0, []int32{3}}, // after the live nodes' ids
	}
	for i, w := range want {
		b := topo.Brokers[i]
		if b.NodeId != w.id || b.Host != w.host || b.Port != w.port || !leads(b, w.leads...) {
			t.Fatalf("broker %d: %v, want id %d at %s:%d leading %v", i, b, w.id, w.host, w.port, w.leads)
		}
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
