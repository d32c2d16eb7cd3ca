package zeebe

import (
	"context"
	"net"
	"slices"
	"strconv"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
)

// GatewayVersion is the Zeebe version whose protocol the server speaks; the
// topology reports it for the gateway and every broker.
const GatewayVersion = "8.3.0"

// Topology describes the nodes as brokers: this node leads the partitions
// its engine runs, and every other owner of a partition claim leads its
// own. Zeebe numbers partitions from 1, so Eddy's partition p is p+1 here.
// Clients route nothing themselves (any gateway takes any request), so the
// topology is for people and tools that show it.
func (s *Server) Topology(ctx context.Context, _ *pb.TopologyRequest) (*pb.TopologyResponse, error) {
	e := engineOf(ctx)
	host, port := splitAddress(s.address)
	self := &pb.BrokerInfo{NodeId: 0, Host: host, Port: port, Version: GatewayVersion}
	mine := e.Partitions()
	for _, p := range mine {
		self.Partitions = append(self.Partitions, leader(p))
	}
	brokers := []*pb.BrokerInfo{self}
	claims, err := e.Store().Ownership().PartitionClaims(ctx)
	if err != nil {
		return nil, statusOf(err, "TOPOLOGY")
	}
	others := map[string]*pb.BrokerInfo{}
	for _, c := range claims {
		if c.Owner == "" || c.Owner == s.node || slices.Contains(mine, c.Partition) {
			continue
		}
		b := others[c.Owner]
		if b == nil {
			b = &pb.BrokerInfo{NodeId: int32(len(brokers)), Host: c.Owner, Version: GatewayVersion}
			others[c.Owner] = b
			brokers = append(brokers, b)
		}
		b.Partitions = append(b.Partitions, leader(c.Partition))
	}
	return &pb.TopologyResponse{Brokers: brokers, ClusterSize: int32(len(brokers)), PartitionsCount: int32(e.Store().Partitions()),
		ReplicationFactor: 1, GatewayVersion: GatewayVersion}, nil
}

func leader(p int) *pb.Partition {
	return &pb.Partition{PartitionId: int32(p + 1), Role: pb.Partition_LEADER, Health: pb.Partition_HEALTHY}
}

// splitAddress splits host:port, tolerating an address without a port.
func splitAddress(addr string) (string, int32) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	n, _ := strconv.Atoi(port)
	return host, int32(n)
}
