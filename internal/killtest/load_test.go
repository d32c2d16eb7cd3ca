package killtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"eddy/api/rest"
)

// The load's shape: goroutines of each kind, all running at the kill.
const (
	creators   = 2 // create killtest-task instances
	workers    = 2 // activate and complete their first jobs
	messengers = 2 // create killtest-paid instances and publish their messages
)

// loadJobTimeout is how long a worker holds its jobs: short, so that jobs
// held at a kill come back soon for the next cycle and the final phase.
const loadJobTimeout = time.Second

// messageTTL keeps every message buffered for the whole test: publishing its
// id again must be refused as a duplicate.
const messageTTL = time.Hour

// outcome is what an answer says of a request's effect.
type outcome int

const (
	acked   outcome = iota // done and durable
	refused                // refused by the engine: no effect
	unknown                // no answer (the kill cut it) or a server failure: maybe done
)

func outcomeOf(err error) outcome {
	var p *rest.Problem
	switch {
	case err == nil:
		return acked
	case errors.As(err, &p) && p.Status >= 400 && p.Status < 500:
		return refused
	}
	return unknown
}

// load drives one eddy through the REST API until ctx ends, writing every
// acknowledged request into the ledger.
type load struct {
	client *rest.Client
	led    *ledger
	found  *findings
	cycle  int
}

// start runs the load's goroutines; wait returns once they have stopped.
func (l *load) start(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	run := func(n int, fn func(context.Context, int)) {
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); fn(ctx, i) }()
		}
	}
	run(creators, l.create)
	run(workers, l.work)
	run(messengers, l.order)
	return wg.Wait
}

func (l *load) create(ctx context.Context, _ int) {
	for ctx.Err() == nil {
		res, err := l.client.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: taskProcess})
		switch outcomeOf(err) {
		case acked:
			l.led.created(res.ProcessInstanceKey, taskProcess, "", atWork)
		case refused:
			l.found.add("request refused", "creating a %s instance: %v", taskProcess, err)
		}
	}
}

func (l *load) work(ctx context.Context, i int) {
	worker := fmt.Sprintf("killtest-%d-%d", l.cycle, i)
	for ctx.Err() == nil {
		jobs, err := l.client.ActivateJobs(ctx, rest.ActivateJobsRequest{Type: jobType[atWork], Worker: worker,
			Timeout: rest.Millis(loadJobTimeout), MaxJobsToActivate: 8, RequestTimeout: rest.Millis(100 * time.Millisecond)})
		if err != nil {
			continue
		}
		for _, j := range jobs {
			l.led.activated(j)
			err := l.client.CompleteJob(ctx, j.Key, rest.CompleteJobRequest{})
			if o := outcomeOf(err); o != refused {
				l.led.completed(j, o == acked)
			}
		}
	}
}

// order makes orders, each a killtest-paid instance and its message, the
// message first for every other order (so that it waits buffered for the
// subscription) and last for the others (so that it finds the subscription
// open).
func (l *load) order(ctx context.Context, i int) {
	for n := 0; ctx.Err() == nil; n++ {
		orderID := fmt.Sprintf("c%d-m%d-%d", l.cycle, i, n)
		l.led.order(orderID)
		if n%2 == 0 {
			l.publish(ctx, orderID)
			l.createPaid(ctx, orderID)
		} else {
			l.createPaid(ctx, orderID)
			l.publish(ctx, orderID)
		}
	}
}

func (l *load) createPaid(ctx context.Context, orderID string) {
	if ctx.Err() != nil {
		return
	}
	vars, _ := json.Marshal(map[string]string{"orderId": orderID})
	res, err := l.client.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: paidProcess, Variables: vars})
	switch outcomeOf(err) {
	case acked:
		l.led.created(res.ProcessInstanceKey, paidProcess, orderID, atCatch)
	case refused:
		l.found.add("request refused", "creating the %s instance of order %s: %v", paidProcess, orderID, err)
	}
}

func (l *load) publish(ctx context.Context, orderID string) {
	if ctx.Err() != nil {
		return
	}
	l.led.publishing(orderID)
	res, err := l.client.PublishMessage(ctx, paidMessage(orderID))
	switch outcomeOf(err) {
	case acked:
		l.led.published(orderID, res.MessageKey)
	case refused:
		l.found.add("request refused", "publishing the first message of order %s: %v", orderID, err)
	}
}

// paidMessage is the message of an order; its id makes a second publish a
// duplicate.
func paidMessage(orderID string) rest.PublishMessageRequest {
	return rest.PublishMessageRequest{Name: messageName, CorrelationKey: orderID, MessageID: "paid-" + orderID,
		TimeToLive: rest.Millis(messageTTL), Variables: json.RawMessage(`{"paid":true}`)}
}
