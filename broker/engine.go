package broker

import (
	"context"
	"encoding/json"
	"time"

	"eddy/engine"
	"eddy/record"
)

// Engine is what the broker asks of the engine. *engine.Engine has it; a
// node that restarts its engine when partitions move can hand the broker a
// value that forwards to the current one.
type Engine interface {
	// PublishEvent puts a CloudEvent on the log (and binds it to
	// processes); it returns once the event is durable.
	PublishEvent(ctx context.Context, req engine.EventRequest) (record.Record, error)
	// PublishEventAsync is PublishEvent without the wait: done is told
	// its error once, from another goroutine, and must be brief.
	PublishEventAsync(ctx context.Context, req engine.EventRequest, done func(error))
	ActivateJobs(ctx context.Context, req engine.ActivateRequest) ([]record.Record, error)
	CompleteJob(ctx context.Context, key int64, vars json.RawMessage) error
	FailJob(ctx context.Context, key int64, retries int, message string, backoff time.Duration, vars json.RawMessage) error
	UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error
}

var _ Engine = (*engine.Engine)(nil)
