package broker

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A pushed event's id says where the subscriber stands once it has the
// event: for every log partition, the position up to which it has been
// sent every matching event. After the log's identity and "@"
// (logidentity.go), it is "<partition>-<position>" pairs joined by ".",
// the event's own partition first (so the id also says where the event
// is on the log), then the others in order: "3fa9c2e17d0b4e55@1-57.0-100". A client
// that reconnects with it as its Last-Event-ID gets every matching event
// after those positions, with no gap and nothing twice, whichever
// partitions the events are on.

// lastEventIDParam is the query parameter that carries a Last-Event-ID,
// for clients that cannot set the header (a WebSocket from a browser).
const lastEventIDParam = "lastEventId"

// startEventID is the Last-Event-ID that stands before every event: a
// stream resumed from it begins with the oldest event the log holds.
const startEventID = "start"

// untilHeadParam is the query parameter that ends a stream at the log's
// head as it opens. Its name is no CloudEvents attribute's (those are
// lower case), so it takes no filter's place.
const untilHeadParam = "untilHead"

// sinceTimeParam is the query parameter that starts a stream at the events
// logged at or after a time (RFC 3339), as Kubernetes' sinceTime starts a
// log and Kafka's offsetsForTimes a consumer: the time the log appended
// them, not their time attribute, which their producers set. Camel case,
// as untilHead, so that it takes no attribute's place.
const sinceTimeParam = "sinceTime"

// maxEventsParam is the query parameter that ends a stream once it sent
// that many events, as a page of the log's history (EventStoreDB's
// maxCount): its end's id reads the next page.
const maxEventsParam = "maxEvents"

// streamBounds are what a stream's query says of where it starts and ends,
// beside its last event id: untilHead, sinceTime (zero when not given) and
// maxEvents (0 when not given).
type streamBounds struct {
	untilHead bool
	since     time.Time
	limit     int
}

// streamBoundsRequest reads and removes the bounds' parameters from a
// stream's query, each given at most once.
func streamBoundsRequest(filter url.Values) (streamBounds, error) {
	var b streamBounds
	v, given, err := takeParam(filter, untilHeadParam)
	if err == nil && given {
		if b.untilHead, err = strconv.ParseBool(v); err != nil {
			err = fmt.Errorf("query parameter %q is %q: give true or false", untilHeadParam, truncate(v, 100))
		}
	}
	if err != nil {
		return b, err
	}
	v, given, err = takeParam(filter, sinceTimeParam)
	if err == nil && given {
		if b.since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			err = fmt.Errorf("query parameter %q is %q: give an RFC 3339 time such as 2026-11-24T10:00:00Z (a '+' in its offset percent-encoded as %%2B)", sinceTimeParam, truncate(v, 100))
		}
	}
	if err != nil {
		return b, err
	}
	v, given, err = takeParam(filter, maxEventsParam)
	if err == nil && given {
		n, perr := strconv.ParseInt(v, 10, 32)
		if b.limit = int(n); perr != nil || n < 1 {
			err = fmt.Errorf("query parameter %q is %q: give a whole number of events from 1 to %d", maxEventsParam, truncate(v, 100), math.MaxInt32)
		}
	}
	return b, err
}

// takeParam reads and removes the parameter name from a query: its value
// and whether it was given; an error if it was given more than once.
func takeParam(filter url.Values, name string) (string, bool, error) {
	vals, ok := filter[name]
	if !ok {
		return "", false, nil
	}
	delete(filter, name)
	if len(vals) != 1 {
		return "", true, fmt.Errorf("query parameter %q is given %d times: give it once", name, len(vals))
	}
	return vals[0], true, nil
}

// maxEventsReason is the end of a stream that sent the n events asked for.
func maxEventsReason(n int) string {
	return fmt.Sprintf("the stream sent the %s asked for (%s)", counted(n, "event"), maxEventsParam)
}

// counted is n and noun, in the plural unless n is 1 ("1 event",
// "2 events"): the counts in messages are often 1 (maxEvents=1, a retry
// of one parked event).
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// maxEventIDLength bounds the ids accepted: a pair is at most 31 bytes.
const maxEventIDLength = 32 << 10

// eventIDError is a Last-Event-ID that cannot be resumed from; it is
// answered 400.
type eventIDError struct{ reason string }

func (e *eventIDError) Error() string { return e.reason }

// appendEventID appends the id of an event of partition p sent when the
// subscriber stands at after.
func appendEventID(dst []byte, p int, after []uint64) []byte {
	dst = appendIDPair(dst, p, after[p])
	for q, pos := range after {
		if q != p {
			dst = appendIDPair(append(dst, '.'), q, pos)
		}
	}
	return dst
}

func appendIDPair(dst []byte, p int, pos uint64) []byte {
	dst = strconv.AppendInt(dst, int64(p), 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, pos, 10)
}

// parseEventID reads an id into a position per partition of a log of
// partitions partitions; every partition must be named once.
func parseEventID(id string, partitions int) ([]uint64, error) {
	if len(id) > maxEventIDLength {
		return nil, &eventIDError{fmt.Sprintf("an id of %d bytes is longer than any this broker sends", len(id))}
	}
	pos := make([]uint64, partitions)
	seen := make([]bool, partitions)
	for i, pair := range strings.Split(id, ".") {
		ps, offs, ok := strings.Cut(pair, "-")
		p, perr := strconv.ParseUint(ps, 10, 31)
		off, oerr := strconv.ParseUint(offs, 10, 64)
		switch {
		case !ok || perr != nil || oerr != nil:
			return nil, &eventIDError{fmt.Sprintf("part %d (%q) is not <partition>-<position>: an id is such pairs joined by '.', as in \"1-57.0-100\"", i+1, pair)}
		case p >= uint64(partitions):
			return nil, &eventIDError{fmt.Sprintf("part %d names partition %d; the log has partitions 0-%d", i+1, p, partitions-1)}
		case seen[p]:
			return nil, &eventIDError{fmt.Sprintf("partition %d is named twice", p)}
		}
		seen[p], pos[p] = true, off
	}
	for p, ok := range seen {
		if !ok {
			return nil, &eventIDError{fmt.Sprintf("it does not name partition %d: an id names every partition of the log (0-%d)", p, partitions-1)}
		}
	}
	return pos, nil
}

// resumeRequest reads where a live subscription starts: the Last-Event-ID
// header, else the lastEventId query parameter (nil from: from now on). It
// returns the query without that parameter: the rest is the filter. The
// header wins because a browser's EventSource sends the last id it got
// when it reconnects, while its URL keeps the one it was opened with.
func resumeRequest(r *http.Request, partitions int, prefix string) (filter url.Values, from []uint64, err error) {
	// Not r.URL.Query(), which drops what it cannot read: a filter
	// silently lost would push more than was asked for, an id lost would
	// skip events.
	filter, err = url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, nil, fmt.Errorf("the query %q cannot be read: %v (percent-encode '%%', ';' and '&' in values)", truncate(r.URL.RawQuery, 100), err)
	}
	ids := filter[lastEventIDParam]
	delete(filter, lastEventIDParam)
	switch {
	case len(ids) > 1:
		return nil, nil, &eventIDError{fmt.Sprintf("query parameter %q is given %d times: give it once", lastEventIDParam, len(ids))}
	case len(ids) == 1 && ids[0] == "":
		// Likely a template's empty value: taken for "from now", a
		// history read would silently come back empty.
		return nil, nil, &eventIDError{fmt.Sprintf("query parameter %q is empty: give an id to resume after, or %s for the oldest event; leave the parameter out to follow events from now", lastEventIDParam, startEventID)}
	}
	id, where := r.Header.Get("Last-Event-ID"), eventIDSource(r)
	if id == "" && len(ids) == 1 {
		id = ids[0]
	}
	if id == "" {
		return filter, nil, nil
	}
	if strings.EqualFold(id, startEventID) {
		return filter, make([]uint64, partitions), nil
	}
	positions := id
	if ident, rest, ok := strings.Cut(id, "@"); ok {
		if prefix != "" && ident+"@" != prefix {
			return nil, nil, &eventIDError{fmt.Sprintf("%s %q: it is from another log than this one (%s): the log was started afresh since; reconnect without an id to follow events from now, or with %s to read this log from its oldest event", where, truncate(id, 100), strings.TrimSuffix(prefix, "@"), startEventID)}
		}
		positions = rest
	}
	from, err = parseEventID(positions, partitions)
	if err != nil {
		return nil, nil, &eventIDError{fmt.Sprintf("%s %q: %v", where, truncate(id, 100), err)}
	}
	return filter, from, nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// eventIDSource names where the request's last event id comes from, for
// errors: the header wins over the query parameter, as resumeRequest reads.
// requestEventID is the id a live push request resumes from, where
// resumeRequest reads it: the header, else the query parameter.
func requestEventID(r *http.Request) string {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		return id
	}
	return r.URL.Query().Get(lastEventIDParam)
}

func eventIDSource(r *http.Request) string {
	if r.Header.Get("Last-Event-ID") != "" {
		return "header Last-Event-ID"
	}
	return "query parameter " + lastEventIDParam
}
