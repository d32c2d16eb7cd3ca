// Package trigger is Knative-style triggers: declarations, in the YAML of
// Knative's eventing.knative.dev/v1 Trigger, of which events a broker
// delivers to which subscriber, and how.
//
//	triggers, err := trigger.LoadFile("triggers.yaml", trigger.LoadOptions{})
//	// err lists every problem: "triggers.yaml:12: trigger default/t: spec.delivery.backoffDelay: ..."
//	ok, err := triggers[0].Match(&event)
//	retry, wait := triggers[0].Delivery.Next(retries, status, resp.Header.Get("Retry-After"), now)
//
// Filters are Knative's two APIs: spec.filter.attributes (exact matches, ""
// for any value) and spec.filters (exact, prefix, suffix, all, any, not and
// cesql, the CloudEvents Subscriptions API dialects), compiled once at load
// and matched without allocating. CESQL is package cloudevents/cesql.
//
// Delivery is spec.delivery: retry, backoffPolicy (linear: delay*n,
// exponential: delay*2^n for retry n), backoffDelay, backoffMax (a cap on
// each backoff, Knative's newer field), timeout and retryAfterMax as
// ISO 8601 durations, deadLetterSink, and format (binary
// or json). Statuses are classified as Knative's data plane does
// (Retryable, Delivered), and Delivery.Next counts retries and says how long
// to wait (Retry-After on 429 and 503 when retryAfterMax is set). Ordered or unordered delivery is the annotation
// kafka.eventing.knative.dev/delivery.order, as for Knative's Kafka broker.
//
// The package is pure: no IO but reading the declarations, no clock (the
// caller passes now), no goroutines. Delivering, tracking tokens and dead
// letters belong to the broker's streaming processors.
//
// Where Eddy departs from Knative, it says so with an error rather than
// guessing: a subscriber given as a Kubernetes ref needs
// LoadOptions.ResolveRef; filter and filters together are refused instead
// of one being ignored; unknown fields are errors; a trigger's delivery
// fills the fields it leaves out from the defaults instead of replacing
// them all.
package trigger
