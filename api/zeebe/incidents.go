package zeebe

import (
	"context"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
)

// ResolveIncident resolves an incident: the failed step runs again (a job
// needs retries first, see UpdateJobRetries).
func (s *Server) ResolveIncident(ctx context.Context, req *pb.ResolveIncidentRequest) (*pb.ResolveIncidentResponse, error) {
	if err := engineOf(ctx).ResolveIncident(ctx, req.IncidentKey); err != nil {
		return nil, statusOf(err, "RESOLVE")
	}
	return &pb.ResolveIncidentResponse{}, nil
}
