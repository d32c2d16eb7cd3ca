package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"eddy/broker/trigger"
	"eddy/cloudevents"
	"eddy/processor"
	"eddy/storage"
)

// route is a trigger as the router runs it: its filter and subscriber
// compiled, its delivery spec resolved.
type route struct {
	Namespace, Name string
	// UID names the trigger's processor (processorName); Generation is
	// the stored document's.
	UID        string
	Generation int64
	// Subscriber is the URI events are delivered to.
	Subscriber string
	Match      func(*cloudevents.Event) bool
	Delivery   trigger.Delivery
	// Ordered delivers the events of one sequence one after another (see
	// orderKey); otherwise deliveries run concurrently.
	Ordered bool
	// Builtin is set when the subscriber is the Zeebe CloudEvents router,
	// which the engine replaces: nothing is delivered.
	Builtin bool
}

// orderKey is the sequence an ordered trigger keeps an event in: its
// partitionkey extension (CloudEvents' partitioning extension), else its
// correlation key, else its log partition, whose order is then kept.
func orderKey(p int, e *cloudevents.Event) string {
	if v, ok := e.Extension("partitionkey"); ok {
		return "key/" + v.Text
	}
	if v, ok := e.Extension(CorrelationKeyExtension); ok {
		return "key/" + v.Text
	}
	return "partition/" + strconv.Itoa(p)
}

// triggerHandler delivers one trigger's events.
type triggerHandler struct {
	b     *Broker
	r     *route
	stats *deliveryStats
	// lane retries from the dead-letter queue the deliveries parked to be
	// retried (retrylane.go).
	lane *retrier
	// oneAttempt is set for an unordered trigger with retries: a failed
	// attempt is parked for lane to retry, not retried in the handler.
	oneAttempt bool
}

// eventOf is the CloudEvent d carries; nil, with no error, when it is none
// of the trigger's.
func (h *triggerHandler) eventOf(d processor.Delivery) (*cloudevents.Event, error) {
	if ev, ok := d.Value.(*cloudevents.Event); ok {
		return ev, nil // from the trigger's source: it passed the filter
	}
	if !isCloudEventEntry(d.Data) {
		return nil, nil
	}
	// A dead letter being retried: its event was stored as the entry. The
	// filter may have changed since.
	ev, err := decodeCloudEvent(d.Position.Partition, storage.Entry{Position: d.Position.Offset, Data: d.Data})
	if err != nil || !h.r.Match(ev) {
		return nil, err
	}
	return ev, nil
}

func (h *triggerHandler) Handle(ctx context.Context, d processor.Delivery) error {
	ev, err := h.eventOf(d)
	if ev == nil {
		if t := tallyOf(ctx); t != nil && err == nil {
			t.skipped.Add(1)
		}
		return err
	}
	if h.oneAttempt && !h.lane.crowded() {
		return h.attempt(ctx, d, ev, 1)
	}
	r := h.r
	a, err := h.b.deliverWithRetries(ctx, target{url: r.Subscriber, replies: true}, ev, &r.Delivery, h.stats, d)
	if err != nil {
		return err
	}
	if a.ok() {
		h.stats.accepted()
		if a.Reply == nil {
			return nil
		}
		return h.publishReply(ctx, d, ev, a.Reply, a.tries)
	}
	reason := a.describe(r.Subscriber)
	h.stats.failed(reason)
	return h.deadLetter(ctx, d, ev, a, reason)
}

// deadLetter hands ev, whose delivery failed as a says, to the trigger's
// dead-letter sink, and fails (the processor parks the event) when there
// is none or it fails too.
func (h *triggerHandler) deadLetter(ctx context.Context, d processor.Delivery, ev *cloudevents.Event, a attempt, reason string) error {
	r := h.r
	if sink := r.Delivery.DeadLetterSink; sink != "" {
		dl := deadLetter(ev, r.Namespace+"/"+r.Name, r.Subscriber, a)
		da, err := h.b.deliverWithRetries(ctx, target{url: sink}, &dl, &r.Delivery, h.stats, d)
		if err != nil {
			return err
		}
		if da.ok() {
			h.stats.deadLettered.Add(1)
			if t := tallyOf(ctx); t != nil {
				t.deadLettered.Add(1)
			}
			return nil
		}
		reason += "; the dead-letter sink failed too: " + da.describe(sink)
		h.stats.setError(reason)
	}
	return &DeliveryError{Subscriber: r.Subscriber, Status: a.Status, Reason: reason, Attempts: a.tries}
}

// publishReply puts a subscriber's reply into the broker, with a hop count
// one less than its event's (replyttl.go), or drops it when none is left,
// as Knative does, counted and said in the trigger's status. A reply the
// broker refuses fails the delivery, and as in Knative the event goes to
// the dead-letter sink with the reason (or the dead-letter queue when
// there is none). Other failures, the broker's own, are tried again a few
// times, then park the event in the dead-letter queue instead of losing
// it. tries counts the requests that brought the reply, which a parked
// event's letter counts as its attempts.
func (h *triggerHandler) publishReply(ctx context.Context, d processor.Delivery, ev, reply *cloudevents.Event, tries int) error {
	ttl, ok := replyTTL(ev)
	if !ok {
		reason := fmt.Sprintf("dropped the reply (type %q, source %q, id %q) to event %q of %q: its hop count (%s) ran out, so replies are looping back to a trigger", reply.Type, reply.Source, reply.ID, ev.ID, ev.Source, ExtBrokerTTL)
		h.stats.dropped.Add(1)
		h.stats.setError(reason)
		h.b.o.logger.Warn("broker: "+reason, "trigger", h.r.Namespace+"/"+h.r.Name)
		return nil
	}
	reply.SetExtension(ExtBrokerTTL, cloudevents.IntegerValue(ttl))
	var err error
	for try := 0; try < 5; try++ {
		var pub []Published
		if pub, err = h.b.Publish(ctx, *reply); err == nil {
			if pub[0].Duplicate && reply.Source == ev.Source && reply.ID == ev.ID {
				// The reply is taken for the event it answers, seen
				// within the duplicate window: said, not dropped silently.
				reason := fmt.Sprintf("dropped the reply (type %q) to event %q of %q: it keeps that event's source and id, so the broker took it for the same event again (a CloudEvent is identified by its source and id): give a reply an id of its own", reply.Type, ev.ID, ev.Source)
				h.stats.dropped.Add(1)
				h.stats.setError(reason)
				h.b.o.logger.Warn("broker: "+reason, "trigger", h.r.Namespace+"/"+h.r.Name)
				return nil
			}
			h.stats.replies.Add(1)
			return nil
		}
		if s := publishStatus(err); s == http.StatusBadRequest || s == http.StatusRequestEntityTooLarge || ctx.Err() != nil {
			break
		}
		sleep(ctx, time.Duration(100<<try)*time.Millisecond)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopped: the event is delivered again on resume
	}
	reason := fmt.Sprintf("publishing the reply (type %q, source %q, id %q) to event %q of %q: %v", reply.Type, reply.Source, reply.ID, ev.ID, ev.Source, err)
	h.stats.failed(reason)
	status := publishStatus(err)
	if status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge {
		// The broker itself failed, not the reply: the event waits in the
		// dead-letter queue, to be retried, rather than leave for the sink.
		return &DeliveryError{Subscriber: h.r.Subscriber, Status: status, Reason: reason, Attempts: tries}
	}
	return h.deadLetter(ctx, d, ev, attempt{Status: status, Err: errors.New(reason), tries: tries}, reason)
}
