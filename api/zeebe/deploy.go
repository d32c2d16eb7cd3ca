package zeebe

import (
	"context"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"

	"eddy/record"
)

// DeployResource deploys BPMN files; a bad model is INVALID_ARGUMENT with
// the validation report (file, element id, line).
func (s *Server) DeployResource(ctx context.Context, req *pb.DeployResourceRequest) (*pb.DeployResourceResponse, error) {
	resources := make([]record.Resource, len(req.Resources))
	for i, r := range req.Resources {
		resources[i] = record.Resource{Name: r.Name, Content: r.Content}
	}
	dep, err := s.deploy(ctx, resources)
	if err != nil {
		return nil, err
	}
	out := &pb.DeployResourceResponse{Key: dep.Key, Deployments: make([]*pb.Deployment, len(dep.Value.Processes))}
	for i, p := range dep.Value.Processes {
		out.Deployments[i] = &pb.Deployment{Metadata: &pb.Deployment_Process{Process: processMetadata(p)}}
	}
	return out, nil
}

// DeployProcess is the deprecated form of DeployResource.
func (s *Server) DeployProcess(ctx context.Context, req *pb.DeployProcessRequest) (*pb.DeployProcessResponse, error) {
	resources := make([]record.Resource, len(req.Processes))
	for i, r := range req.Processes {
		resources[i] = record.Resource{Name: r.Name, Content: r.Definition}
	}
	dep, err := s.deploy(ctx, resources)
	if err != nil {
		return nil, err
	}
	out := &pb.DeployProcessResponse{Key: dep.Key, Processes: make([]*pb.ProcessMetadata, len(dep.Value.Processes))}
	for i, p := range dep.Value.Processes {
		out.Processes[i] = processMetadata(p)
	}
	return out, nil
}

func (s *Server) deploy(ctx context.Context, resources []record.Resource) (record.Record, error) {
	if len(resources) == 0 {
		return record.Record{}, invalid("Expected to deploy at least one resource, but none given")
	}
	for i, r := range resources {
		if r.Name == "" {
			return record.Record{}, invalid("Expected resource %d of the deployment to have a name (for example order.bpmn), but it has none", i+1)
		}
	}
	dep, err := engineOf(ctx).Deploy(ctx, resources...)
	return dep, statusOf(err, "CREATE")
}

func processMetadata(p record.ProcessMeta) *pb.ProcessMetadata {
	return &pb.ProcessMetadata{BpmnProcessId: p.BpmnProcessID, Version: p.Version, ProcessDefinitionKey: p.ProcessDefinitionKey, ResourceName: p.ResourceName}
}

// DeleteResource deletes a process definition that no instance runs.
func (s *Server) DeleteResource(ctx context.Context, req *pb.DeleteResourceRequest) (*pb.DeleteResourceResponse, error) {
	if err := engineOf(ctx).DeleteResource(ctx, req.ResourceKey); err != nil {
		return nil, statusOf(err, "DELETE")
	}
	return &pb.DeleteResourceResponse{}, nil
}
