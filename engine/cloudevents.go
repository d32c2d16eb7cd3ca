package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"eddy/record"
)

// A CloudEvent that enters the broker is a command to one partition (see
// PublishEvent for which): the core remembers its source
// and id for a window so that a redelivered event is accepted once,
// appends it to the log, where triggers read it, and binds it to
// processes: an event whose type names a message start event starts an
// instance, and one with a correlation key is published as a message of
// that name, as the Zeebe CloudEvents router did.

// eventSeen is the stored row of a CloudEvent's source and id, remembered
// until Deadline (see eventWindow).
type eventSeen struct {
	Key      int64
	Source   string
	ID       string
	Deadline int64
}

func (c *Core) cloudEventCommand(cmd *record.Record) Response {
	if cmd.Intent != record.Publish {
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("unknown CloudEvent command %s", cmd.Intent))
	}
	v := cmd.Value
	switch {
	case v.Source == "" || v.MessageID == "" || v.Name == "":
		return c.reject(cmd, record.InvalidArgument, "Expected a CloudEvent with a source, an id and a type, but one of them is empty")
	case len(v.Event) == 0:
		return c.reject(cmd, record.InvalidArgument, "Expected a CloudEvent to carry its encoded form, but it is empty")
	case v.TTL < 0:
		return c.reject(cmd, record.InvalidArgument, fmt.Sprintf("Expected a message time to live of zero or more, but got %d ms", v.TTL))
	}
	if len(v.Variables) > 0 {
		if reason := c.checkDocument(v.Variables); reason != "" {
			return c.reject(cmd, record.InvalidArgument, reason)
		}
	}
	c.st.events.forget(c.now)
	key, seen := c.st.events.remember(v.Source, v.MessageID, c.now+c.eventWindow().Milliseconds(), c.newKey)
	if seen {
		// Accepted already: the answer names the first acceptance and
		// nothing is written.
		dup := record.Record{Kind: record.Event, ValueType: record.CloudEvent, Intent: record.Published, Key: key, Partition: c.partition, Value: v}
		dup.Value.Duplicate = true
		return Response{Record: dup}
	}

	stored := v
	stored.Variables = nil // the encoded event holds its data
	ev := c.event(record.CloudEvent, record.Published, key, &stored)
	resp := Response{Record: *ev}
	if v.CorrelationKey == "" && len(c.starts().messages[v.Name]) == 0 {
		return resp
	}
	// The message the event becomes follows from the event's record.
	c.cmdPos = ev.Position
	// The message's id is the event's identity (a source has no spaces):
	// a redelivery after the window, while the first message is still
	// buffered, is refused as the same message rather than buffered twice.
	msg := record.Value{Name: v.Name, CorrelationKey: v.CorrelationKey, MessageID: v.Source + " " + v.MessageID, Variables: v.Variables, TTL: v.TTL}
	if p := c.partitionFor(v.CorrelationKey); v.CorrelationKey != "" && p != c.partition {
		c.send(p, record.Message, record.Publish, -1, &msg)
		return resp
	}
	c.messageCommand(&record.Record{Kind: record.Command, ValueType: record.Message, Intent: record.Publish, Key: -1, Value: msg})
	return resp
}

// eventWindow is how long a CloudEvent's source and id are remembered.
func (c *Core) eventWindow() time.Duration {
	if c.limits.EventDedupWindow > 0 {
		return c.limits.EventDedupWindow
	}
	return DefaultLimits.EventDedupWindow
}

// EventRequest is a CloudEvent to put into the broker. The front end
// decodes and validates the event; the engine keeps Encoded as it is.
type EventRequest struct {
	Source, ID, Type string
	// CorrelationKey (the event's correlationkey extension) makes the
	// event a message for instances waiting on that key.
	CorrelationKey string
	// Data is the variables the event's data makes (a JSON object): those
	// of the instance it starts or correlates to.
	Data json.RawMessage
	// TTL keeps the message the event becomes for instances that start
	// waiting later; zero correlates only with those already waiting.
	TTL time.Duration
	// PartitionKey (the event's partitionkey extension) keeps the events
	// that share it on one partition, in order.
	PartitionKey string
	Encoded      []byte
}

// PublishEvent appends a CloudEvent to the log of the partition of its
// partition key, correlation key, or source and id, and returns its record
// once durable. An event whose source and id were accepted within the
// dedup window is accepted again without being written: the answer then
// carries the first acceptance's key and Value.Duplicate.
func (e *Engine) PublishEvent(ctx context.Context, req EventRequest) (record.Record, error) {
	r, err := e.send(ctx, e.eventPartition(&req), publishCommand(&req))
	return r.Record, err
}

// PublishEventAsync is PublishEvent without the wait for the commit: done
// is called once, with what PublishEvent would have returned as its error,
// when the event is durable or cannot be. done runs on the partition's
// answering goroutine, or on whichever goroutine learns that the partition
// stopped; it must be brief and must not call the engine back. An event
// refused before it is queued, or bound for another node's partition, is
// answered before PublishEventAsync returns, on the caller's goroutine.
func (e *Engine) PublishEventAsync(ctx context.Context, req EventRequest, done func(error)) {
	p := e.eventPartition(&req)
	part, ok := e.parts[p]
	if !ok {
		// Another node's partition: its answer comes over the network.
		_, err := e.send(ctx, p, publishCommand(&req))
		done(err)
		return
	}
	cmd := publishCommand(&req)
	cmd.Kind, cmd.Partition, cmd.Target = record.Command, p, p
	if err := part.queue(ctx, input{cmd: cmd, reply: reply{notify: done}}); err != nil {
		done(err)
	}
}

// eventPartition is the partition of an event's log: by partition key,
// else by correlation key (the events of one customer stay in order on one
// log, and the message the event becomes is published where its
// subscriptions are), else by source and id. A redelivery is the same
// event with the same extensions, so it meets the first delivery on the
// same partition.
func (e *Engine) eventPartition(req *EventRequest) int {
	c := Core{partitions: e.store.Partitions()}
	switch {
	case req.PartitionKey != "":
		return c.partitionFor(req.PartitionKey)
	case req.CorrelationKey != "":
		return c.partitionFor(req.CorrelationKey)
	default:
		return c.partitionForEvent(req.Source, req.ID)
	}
}

func publishCommand(req *EventRequest) record.Record {
	return record.Record{ValueType: record.CloudEvent, Intent: record.Publish, Key: -1, Value: record.Value{
		Name: req.Type, Source: req.Source, MessageID: req.ID, CorrelationKey: req.CorrelationKey,
		Variables: req.Data, TTL: req.TTL.Milliseconds(), Event: req.Encoded,
	}}
}
