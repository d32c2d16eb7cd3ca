package trigger

import (
	"eddy/cloudevents"
)

// Trigger is a compiled, validated trigger: which events of a broker go to
// which subscriber, and how.
type Trigger struct {
	Name      string
	Namespace string
	Broker    string
	// Filter selects the events; it comes from spec.filters when present,
	// else from spec.filter.attributes.
	Filter Filter
	// Subscriber is the absolute http or https URI events are posted to.
	Subscriber string
	Delivery   Delivery
	Ordering   Ordering
	// Resource is the declaration the trigger was compiled from.
	Resource Resource
	// Line is where the trigger's document starts in its file (0 when it
	// did not come from one).
	Line int
}

// Key identifies the trigger: namespace/name.
func (t *Trigger) Key() string { return t.Namespace + "/" + t.Name }

// Match reports whether the trigger takes e (see Filter.Match for the
// error).
func (t *Trigger) Match(e *cloudevents.Event) (bool, error) { return t.Filter.Match(e) }

// Ordering is whether a trigger's deliveries wait for each other.
type Ordering uint8

const (
	// Unordered delivers events concurrently (Knative's default).
	Unordered Ordering = iota
	// Ordered delivers one event at a time per ordering key, each after
	// the previous one is done.
	Ordered
)

func (o Ordering) String() string {
	if o == Ordered {
		return "ordered"
	}
	return "unordered"
}
