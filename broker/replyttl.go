package broker

import (
	"strconv"

	"eddy/cloudevents"
)

// ExtBrokerTTL is Knative's hop count on the events a broker routes: each
// reply carries one less than the event it answers, and a reply whose
// count runs out is dropped, so that a subscriber whose replies match its
// own trigger cannot loop for ever.
const ExtBrokerTTL = "knativebrokerttl"

// defaultBrokerTTL is the count of an event that carries none, Knative's
// default.
const defaultBrokerTTL = 255

// replyTTL is the hop count a reply to e carries, and whether any is left:
// false means the reply is dropped.
func replyTTL(e *cloudevents.Event) (int32, bool) {
	ttl := int64(defaultBrokerTTL)
	if v, ok := e.Extension(ExtBrokerTTL); ok {
		if n, err := strconv.ParseInt(v.Text, 10, 32); err == nil {
			ttl = n
		}
	}
	if ttl <= 1 {
		return 0, false
	}
	return int32(ttl - 1), true
}
