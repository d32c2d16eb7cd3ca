package broker

import (
	"context"
	"fmt"
	"time"

	"eddy/processor"
)

// TriggerStatus is what a trigger is doing: where its processor stands on
// the log, how far behind the head, what failed, and what it delivered.
type TriggerStatus struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Node is the node that answers (WithNodeID), as segment owners are
	// named: the deliveries and the running state are its own.
	Node string `json:"node,omitempty"`
	// Processor is the streaming processor that delivers the trigger.
	Processor string `json:"processor,omitempty"`
	// Builtin is true for a trigger served by the engine itself (its
	// subscriber is the Zeebe CloudEvents router); Note says what that
	// means.
	Builtin bool   `json:"builtin,omitempty"`
	Note    string `json:"note,omitempty"`
	Ordered bool   `json:"ordered"`
	// ObservedGeneration is the generation of the trigger this node runs
	// (metadata.generation counts a trigger's changes): a node that has
	// yet to reload a change shows the one before.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Running is true when this node runs the trigger's processor.
	Running bool `json:"running"`
	// Paused is true while a replay (to move its tokens back) or a change
	// has the processor stopped on every node.
	Paused bool `json:"paused,omitempty"`
	// Error is why the trigger does not run here.
	Error string `json:"error,omitempty"`
	// Lag is how many log entries the slowest segment has yet to read.
	Lag      uint64          `json:"lag"`
	Segments []SegmentStatus `json:"segments,omitempty"`
	// DeadLetters counts events parked in the processor's dead-letter
	// queue: their delivery failed and no dead-letter sink took them.
	DeadLetters int `json:"deadLetters"`
	// Retrying counts the events of an unordered trigger whose delivery
	// failed and is to be tried again (kept in the dead-letter queue
	// meanwhile, so that they do not hold up the events behind them).
	Retrying int `json:"retrying"`
	// Deliveries counts what this node delivered since it started running
	// this creation of the trigger (a change or a replay goes on counting).
	Deliveries DeliveryCounts `json:"deliveries"`
	// SubscriberURI and DeadLetterSinkURI are the addresses deliveries go
	// to, as Knative's status shows them resolved.
	SubscriberURI     string `json:"subscriberUri,omitempty"`
	DeadLetterSinkURI string `json:"deadLetterSinkUri,omitempty"`
	// Conditions has Knative's Ready condition, for tools that wait on it.
	Conditions []Condition `json:"conditions"`
}

// Condition is a Knative (Kubernetes) status condition.
type Condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"` // "True", "False" or "Unknown"
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ready is the Ready condition of st: True when this node runs the
// trigger (or the engine serves it), False with the reason otherwise.
func ready(st *TriggerStatus) Condition {
	switch {
	case st.Error != "":
		return Condition{Type: "Ready", Status: "False", Reason: "Failed", Message: st.Error}
	case st.Builtin:
		return Condition{Type: "Ready", Status: "True", Reason: "Builtin", Message: st.Note}
	case st.Paused:
		return Condition{Type: "Ready", Status: "False", Reason: "Paused", Message: "a replay or a change has the trigger stopped on every node while it moves its position or takes the change"}
	case !st.Running:
		return Condition{Type: "Ready", Status: "Unknown", Reason: "NotRunning", Message: "this node does not run the trigger's processor (it is starting, or stopping)"}
	}
	var lapsed []int
	for _, s := range st.Segments {
		if s.ClaimLapsed {
			lapsed = append(lapsed, s.Segment)
		}
	}
	if len(lapsed) > 0 {
		return Condition{Type: "Ready", Status: "Unknown", Reason: "ClaimLapsed",
			Message: fmt.Sprintf("segments %v are held by a node that stopped renewing its claims (it stopped or died, or a delivery there is stuck): their events wait until a node takes them over", lapsed)}
	}
	return Condition{Type: "Ready", Status: "True"}
}

// SegmentStatus is one segment of a trigger's processor, cluster-wide.
type SegmentStatus struct {
	Segment int    `json:"segment"`
	Owner   string `json:"owner,omitempty"`
	// ClaimLapsed is set when the owner has not renewed its claim for the
	// claim timeout (by this node's clock): it stopped, or died, and
	// another node takes the segment over.
	ClaimLapsed bool   `json:"claimLapsed,omitempty"`
	Position    string `json:"position"`
	Lag         uint64 `json:"lag"`
	Replaying   bool   `json:"replaying,omitempty"`
	// Error is this node's last failure on the segment.
	Error string `json:"error,omitempty"`
}

// Status reports a trigger's status.
func (r *Router) Status(ctx context.Context, namespace, name string) (TriggerStatus, error) {
	r.mu.Lock()
	t := r.running[namespace+"/"+name]
	r.mu.Unlock()
	if t == nil {
		return TriggerStatus{}, fmt.Errorf("%w: %s/%s", ErrTriggerNotFound, namespace, name)
	}
	return r.status(ctx, namespace, name, t)
}

func (r *Router) status(ctx context.Context, namespace, name string, t *activeTrigger) (st TriggerStatus, err error) {
	defer func() { st.Conditions = []Condition{ready(&st)} }()
	st = TriggerStatus{Namespace: namespace, Name: name, Node: r.b.o.nodeID, Deliveries: t.stats.snapshot(), Paused: t.paused}
	if t.err != nil {
		st.Error = t.err.Error()
	}
	if t.route == nil {
		return st, nil
	}
	st.Ordered, st.ObservedGeneration = t.route.Ordered, t.route.Generation
	st.SubscriberURI, st.DeadLetterSinkURI = t.route.Subscriber, t.route.Delivery.DeadLetterSink
	if t.route.Builtin {
		st.Builtin, st.Note = true, builtinNote
		return st, nil
	}
	st.Processor = processorName(namespace, name, t.route.UID)
	if t.proc == nil {
		return st, nil
	}
	st.Running = t.proc.Running()
	segs, err := processor.Inspect(ctx, r.b.store, st.Processor)
	if err != nil {
		return st, err
	}
	head, err := processor.NewLogSource(r.b.store).HeadToken(ctx)
	if err != nil {
		return st, err
	}
	// This node's segments show where they are now; the token store has
	// where they last committed, which is what other nodes' segments show.
	local := map[int]processor.SegmentStatus{}
	if here, err := t.proc.Status(ctx); err == nil {
		for _, s := range here {
			local[s.Segment] = s
		}
	}
	for _, s := range segs {
		ss := SegmentStatus{Segment: s.Segment, Owner: s.Owner, Position: s.Position.String(), Lag: s.Position.Behind(head), Replaying: s.Replaying,
			ClaimLapsed: s.Owner != "" && time.Since(s.ClaimedAt) >= processor.DefaultClaimTimeout}
		if l, ok := local[s.Segment]; ok {
			if l.Claimed {
				ss.Position, ss.Lag, ss.Replaying = l.Position.String(), l.Position.Behind(head), l.Replaying
			}
			if l.Err != nil {
				ss.Error = l.Err.Error()
			}
		}
		st.Lag = max(st.Lag, ss.Lag)
		st.Segments = append(st.Segments, ss)
	}
	if t.dlq != nil {
		st.DeadLetters, st.Retrying = parkedAndRetrying(ctx, t.dlq)
	}
	return st, nil
}
