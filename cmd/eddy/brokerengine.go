package main

import (
	"context"
	"encoding/json"
	"time"

	"eddy/broker"
	"eddy/engine"
	"eddy/record"
)

// switchedEngine hands the broker's calls to whichever engine the switch
// runs at the time of each call.
type switchedEngine struct{ s *engineSwitch }

var _ broker.Engine = switchedEngine{}

func (se switchedEngine) PublishEvent(ctx context.Context, req engine.EventRequest) (record.Record, error) {
	e, ctx, release := se.s.Acquire(ctx)
	defer release()
	return e.PublishEvent(ctx, req)
}

// PublishEventAsync holds the switch until the event is answered, as
// PublishEvent does for its whole call.
func (se switchedEngine) PublishEventAsync(ctx context.Context, req engine.EventRequest, done func(error)) {
	e, ctx, release := se.s.Acquire(ctx)
	e.PublishEventAsync(ctx, req, func(err error) {
		release()
		done(err)
	})
}

func (se switchedEngine) ActivateJobs(ctx context.Context, req engine.ActivateRequest) ([]record.Record, error) {
	e, ctx, release := se.s.Acquire(ctx)
	defer release()
	return e.ActivateJobs(ctx, req)
}

func (se switchedEngine) CompleteJob(ctx context.Context, key int64, vars json.RawMessage) error {
	e, ctx, release := se.s.Acquire(ctx)
	defer release()
	return e.CompleteJob(ctx, key, vars)
}

func (se switchedEngine) FailJob(ctx context.Context, key int64, retries int, message string, backoff time.Duration, vars json.RawMessage) error {
	e, ctx, release := se.s.Acquire(ctx)
	defer release()
	return e.FailJob(ctx, key, retries, message, backoff, vars)
}

func (se switchedEngine) UpdateJobTimeout(ctx context.Context, key int64, timeout time.Duration) error {
	e, ctx, release := se.s.Acquire(ctx)
	defer release()
	return e.UpdateJobTimeout(ctx, key, timeout)
}
