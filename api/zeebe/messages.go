package zeebe

import (
	"context"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"

	"eddy/engine"
)

// PublishMessage publishes a message on its correlation key's partition,
// kept for timeToLive ms; a message id still alive is ALREADY_EXISTS.
func (s *Server) PublishMessage(ctx context.Context, req *pb.PublishMessageRequest) (*pb.PublishMessageResponse, error) {
	if req.Name == "" {
		return nil, invalid("Expected to publish a message with a name, but the name is empty")
	}
	if req.TimeToLive < 0 {
		return nil, invalid("Expected to publish a message with a time to live of 0 ms or more, but it was %d", req.TimeToLive)
	}
	vars, err := document("variables", req.Variables)
	if err != nil {
		return nil, err
	}
	msg, err := engineOf(ctx).Publish(ctx, engine.PublishRequest{Name: req.Name, CorrelationKey: req.CorrelationKey,
		TTL: time.Duration(req.TimeToLive) * time.Millisecond, MessageID: req.MessageId, Variables: vars})
	if err != nil {
		return nil, statusOf(err, "PUBLISH")
	}
	return &pb.PublishMessageResponse{Key: msg.Key}, nil
}

// BroadcastSignal broadcasts a signal to every partition.
func (s *Server) BroadcastSignal(ctx context.Context, req *pb.BroadcastSignalRequest) (*pb.BroadcastSignalResponse, error) {
	if req.SignalName == "" {
		return nil, invalid("Expected to broadcast a signal with a name, but the signal name is empty")
	}
	vars, err := document("variables", req.Variables)
	if err != nil {
		return nil, err
	}
	sig, err := engineOf(ctx).BroadcastSignal(ctx, req.SignalName, vars)
	if err != nil {
		return nil, statusOf(err, "BROADCAST")
	}
	return &pb.BroadcastSignalResponse{Key: sig.Key}, nil
}
