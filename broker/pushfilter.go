package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"eddy/cloudevents"
)

// subscribeRequest subscribes a live push request: its query's filter,
// from its Last-Event-ID when it has one. It answers the request itself
// (400 for a bad filter or id, 503 when the broker cannot push, or busy's
// answer when the node has as many subscribers as it takes) and returns
// false when it did. accept, when set, is asked once the query is read
// and before the subscription is made, and answers when it refuses.
func (b *Broker) subscribeRequest(w http.ResponseWriter, r *http.Request, busy func(http.ResponseWriter, error), accept func(http.ResponseWriter, *http.Request) bool) (*subscription, bool) {
	q, from, err := resumeRequest(r, b.store.Partitions(), b.hub.idPrefix)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	bounds, err := streamBoundsRequest(q)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	switch {
	case bounds.since.IsZero():
	case r.Header.Get("Last-Event-ID") != "":
		// A browser's EventSource reconnecting: its URL keeps the
		// sinceTime it was opened with, and the id it got goes on.
	case from != nil:
		http.Error(w, fmt.Sprintf("query parameters %q and %q both say where the stream starts: give one", lastEventIDParam, sinceTimeParam), http.StatusBadRequest)
		return nil, false
	default:
		if from, err = b.positionsAt(r.Context(), bounds.since); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return nil, false
		}
	}
	match, err := parsePushFilter(q, compileCESQL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	if accept != nil && !accept(w, r) {
		return nil, false
	}
	sub, err := b.hub.subscribe(r.Context(), match, from, bounds.untilHead)
	var idErr *eventIDError
	switch {
	case errors.As(err, &idErr):
		http.Error(w, fmt.Sprintf("%s %q: %v", eventIDSource(r), truncate(requestEventID(r), 100), idErr), http.StatusBadRequest)
		return nil, false
	case errors.Is(err, errTooManySubscribers) && busy != nil:
		busy(w, err)
		return nil, false
	case err != nil:
		if errors.Is(err, errTooManySubscribers) {
			w.Header().Set("Retry-After", strconv.Itoa(int(busyRetry/time.Second)))
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return nil, false
	}
	sub.limit = bounds.limit
	return sub, true
}

// positionsAt is where a stream stands before the first event each
// partition logged at or after t.
func (b *Broker) positionsAt(ctx context.Context, t time.Time) ([]uint64, error) {
	from := make([]uint64, b.store.Partitions())
	for p := range from {
		pos, err := b.store.SeekTime(ctx, p, t)
		if err != nil {
			return nil, fmt.Errorf("finding the events of log partition %d logged since %s: %w", p, t.Format(time.RFC3339Nano), err)
		}
		from[p] = max(pos, 1) - 1
	}
	return from, nil
}

// busyRetry is when a subscriber turned away for the bound should try
// again.
const busyRetry = 5 * time.Second

// cesqlParam is the query parameter that carries a CESQL expression; every
// other parameter is an attribute to match exactly.
const cesqlParam = "cesql"

// parsePushFilter reads a live subscription's filter from its query: each
// parameter but "cesql" names a context attribute (or extension) that must
// equal its value, as a trigger's filter.attributes; "cesql" adds a CESQL
// expression the event must satisfy, as a trigger's filters[].cesql. An
// empty query matches every event.
func parsePushFilter(q url.Values, compile func(expr string) (func(*cloudevents.Event) bool, error)) (func(*cloudevents.Event) bool, error) {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names) // errors name the first offender the same way each time
	type exact struct{ name, value string }
	var exacts []exact
	var expr func(*cloudevents.Event) bool
	for _, name := range names {
		vals := q[name]
		if len(vals) != 1 {
			what := "each attribute"
			if name == cesqlParam {
				what = "it"
			}
			return nil, fmt.Errorf("query parameter %q is given %d times: give %s one value", name, len(vals), what)
		}
		if name == cesqlParam {
			if compile == nil {
				return nil, fmt.Errorf("query parameter %q: CESQL filters are not available", name)
			}
			m, err := compile(vals[0])
			if err != nil {
				return nil, fmt.Errorf("query parameter %q: %w", name, err)
			}
			expr = m
			continue
		}
		switch {
		case strings.EqualFold(name, lastEventIDParam):
			// Taken for an extension, it would filter every event out.
			return nil, fmt.Errorf("query parameter %q: the parameter that resumes a stream is %s", name, lastEventIDParam)
		case strings.EqualFold(name, untilHeadParam):
			return nil, fmt.Errorf("query parameter %q: the parameter that ends a stream at the log's head is %s", name, untilHeadParam)
		case strings.EqualFold(name, maxEventsParam):
			return nil, fmt.Errorf("query parameter %q: the parameter that ends a stream after a number of events is %s", name, maxEventsParam)
		case strings.EqualFold(name, sinceTimeParam):
			return nil, fmt.Errorf("query parameter %q: the parameter that starts a stream at a time is %s", name, sinceTimeParam)
		case name == "data" || name == "data_base64":
			return nil, fmt.Errorf("query parameter %q: an event's data is no attribute to filter on; filter on its attributes or extensions", name)
		}
		if msg := cloudevents.CheckName(name); msg != "" {
			return nil, fmt.Errorf("query parameter %q is not a CloudEvents attribute name: %s", name, msg)
		}
		exacts = append(exacts, exact{name, vals[0]})
	}
	return func(e *cloudevents.Event) bool {
		for _, x := range exacts {
			// An empty value asks only that the attribute be there, as in
			// a trigger's filter.attributes.
			v, ok := e.Attribute(x.name)
			if !ok || (x.value != "" && v.Text != x.value) {
				return false
			}
		}
		return expr == nil || expr(e)
	}, nil
}
