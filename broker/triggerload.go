package broker

import (
	"bytes"
	"fmt"

	"eddy/broker/trigger"
	"eddy/cloudevents"
	"eddy/cloudevents/cesql"
)

// parsedTrigger is a trigger read from a document.
type parsedTrigger struct {
	Namespace, Name string
	// Resource is the declaration, its namespace filled in; what the
	// router stores is its JSON, the identity stamped in (stamped).
	Resource trigger.Resource
}

// parseTriggers reads the triggers of a YAML stream (documents separated
// by ---) or of a JSON document, with broker/trigger's checks: every
// problem is reported with its line and field.
func parseTriggers(data []byte) ([]parsedTrigger, error) { return parseTriggersIn(data, "", "") }

// parseTriggersIn is parseTriggers with the namespace and name of the
// triggers that name none (a PUT's path gives them).
func parseTriggersIn(data []byte, namespace, name string) ([]parsedTrigger, error) {
	ts, err := trigger.Load(bytes.NewReader(data), trigger.LoadOptions{Namespace: namespace, Name: name})
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("no trigger in the document")
	}
	out := make([]parsedTrigger, len(ts))
	for i, t := range ts {
		out[i] = parsedTrigger{Namespace: t.Namespace, Name: t.Name, Resource: t.Resource}
	}
	return out, nil
}

// compileTrigger makes a route of a stored document.
func compileTrigger(doc []byte, builtinHosts []string) (*route, error) {
	ts, err := trigger.Load(bytes.NewReader(doc), trigger.LoadOptions{})
	if err != nil {
		return nil, err
	}
	if len(ts) != 1 {
		return nil, fmt.Errorf("the stored document holds %d triggers", len(ts))
	}
	t := ts[0]
	id, err := identityOf(doc)
	if err != nil {
		return nil, err
	}
	return &route{
		Namespace:  t.Namespace,
		Name:       t.Name,
		UID:        id.UID,
		Generation: id.Generation,
		Subscriber: t.Subscriber,
		Match: func(e *cloudevents.Event) bool {
			if v, ok := e.Extension(ExtErrorTrigger); ok && v.Text == t.Namespace+"/"+t.Name {
				// Its own dead letter, back through the broker (its
				// sink): taking it would fail it again, in a loop.
				return false
			}
			// A CESQL evaluation error means no match, as the CESQL
			// specification says; trigger.Filter has applied it.
			ok, _ := t.Match(e)
			return ok
		},
		Delivery: t.Delivery,
		Ordered:  t.Ordering == trigger.Ordered,
		Builtin:  isBuiltinSubscriber(t.Subscriber, builtinHosts),
	}, nil
}

// compileCESQL compiles a live subscription's CESQL filter.
func compileCESQL(expr string) (func(*cloudevents.Event) bool, error) {
	x, err := cesql.Parse(expr)
	if err != nil {
		return nil, err
	}
	return func(e *cloudevents.Event) bool {
		ok, err := x.Match(e)
		return ok && err == nil
	}, nil
}
