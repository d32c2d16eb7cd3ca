package zeebe

import (
	"context"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
)

// GatewayVersion is the Zeebe version whose protocol the server speaks; the
// topology reports it for the gateway and every broker.
const GatewayVersion = "8.3.0"

// Topology describes the nodes as brokers: this node leads the partitions
// its engine runs, and every other owner of a partition claim leads its
// own; with WithNodes, the live nodes that hold none are brokers too, and
// each broker has the id and address its Node gives (the same at every
// gateway, and an id that does not move when other nodes come and go). An
// owner of claims that is not among the live nodes gets an id after theirs,
// in the order of the names, and the host its claim names. Zeebe numbers
// partitions from 1, so Eddy's partition p is p+1 here. With WithProbe,
// the partitions of a node that does not answer are UNHEALTHY (not DEAD,
// which zbctl 8.3 prints as "Unknown"). Clients route nothing themselves
// (any gateway takes any request), so the topology is for people and tools
// that show it.
func (s *Server) Topology(ctx context.Context, _ *pb.TopologyRequest) (*pb.TopologyResponse, error) {
	e := engineOf(ctx)
	claims, err := e.Store().Ownership().PartitionClaims(ctx)
	if err != nil {
		return nil, statusOf(err, "TOPOLOGY")
	}
	mine := e.Partitions()
	led := map[string][]int{s.node: mine}
	for _, c := range claims {
		if c.Owner == "" || c.Owner == s.node || slices.Contains(mine, c.Partition) {
			continue
		}
		led[c.Owner] = append(led[c.Owner], c.Partition)
	}
	known := map[string]Node{}
	if s.liveNodes != nil {
		if live, err := s.liveNodes(ctx); err == nil {
			for _, n := range live {
				known[n.Name] = n
				if _, ok := led[n.Name]; !ok {
					led[n.Name] = nil
				}
			}
		}
	}
	names := slices.Sorted(maps.Keys(led))
	dead := s.unanswering(ctx, names)
	brokers := make([]*pb.BrokerInfo, 0, len(names))
	next := int32(0)
	for _, n := range known {
		next = max(next, n.ID+1)
	}
	for _, name := range names {
		b := &pb.BrokerInfo{Version: GatewayVersion}
		if n, ok := known[name]; ok {
			b.NodeId, b.Host, b.Port = n.ID, n.Host, n.Port
			if b.Host == "" {
				b.Host = ownerHost(name)
			}
		} else {
			b.NodeId, b.Host = next, ownerHost(name)
			next++
			if name == s.node {
				b.Host, b.Port = splitAddress(s.address)
			}
		}
		for _, p := range led[name] {
			part := leader(p)
			if dead[name] {
				part.Health = pb.Partition_UNHEALTHY
			}
			b.Partitions = append(b.Partitions, part)
		}
		brokers = append(brokers, b)
	}
	slices.SortFunc(brokers, func(a, b *pb.BrokerInfo) int { return int(a.NodeId - b.NodeId) })
	return &pb.TopologyResponse{Brokers: brokers, ClusterSize: int32(len(brokers)), PartitionsCount: int32(e.Store().Partitions()),
		ReplicationFactor: 1, GatewayVersion: GatewayVersion}, nil
}

// ownerHost is the host of the address a claim owner's name carries
// ("node@http://host:port"), or the name when it carries none.
func ownerHost(owner string) string {
	_, addr, ok := strings.Cut(owner, "@")
	if !ok {
		return owner
	}
	u, err := url.Parse(addr)
	if err != nil || u.Hostname() == "" {
		return owner
	}
	return u.Hostname()
}

// unanswering probes the other nodes of names at once, and names those that
// do not answer.
func (s *Server) unanswering(ctx context.Context, names []string) map[string]bool {
	if s.probe == nil {
		return nil
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	dead := map[string]bool{}
	for _, name := range names {
		if name == s.node {
			continue
		}
		wg.Go(func() {
			if !s.probe(ctx, name) {
				mu.Lock()
				dead[name] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return dead
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
