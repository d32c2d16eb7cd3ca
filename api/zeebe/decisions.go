package zeebe

import (
	"context"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errNoDMN answers EvaluateDecision until Eddy evaluates DMN decision
// tables; a .dmn file is refused at deployment already.
var errNoDMN = status.Error(codes.Unimplemented, "Expected to evaluate a decision, but Eddy does not evaluate DMN decisions yet: it deploys and runs BPMN processes only (a business rule task can call a job worker instead)")

// EvaluateDecision is not served: Eddy does not evaluate DMN yet.
func (s *Server) EvaluateDecision(context.Context, *pb.EvaluateDecisionRequest) (*pb.EvaluateDecisionResponse, error) {
	return nil, errNoDMN
}
