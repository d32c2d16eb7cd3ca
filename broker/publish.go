package broker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"eddy/cloudevents"
	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

// CorrelationKeyExtension names the extension whose value correlates an
// event, as a message of its type, to the instance waiting on that key.
const CorrelationKeyExtension = "correlationkey"

// Published is what became of one event handed to Publish.
type Published struct {
	// Key is the event's record key: the first acceptance's for a
	// duplicate.
	Key int64
	// Partition is where the event's record is.
	Partition int
	// Duplicate is true when the same source and id were accepted within
	// the engine's window: nothing was written.
	Duplicate bool
}

// Publish puts events into the broker and returns once each of them is
// durable (or known to be a duplicate). Events are validated first: an
// invalid one is a *cloudevents.Error and nothing is published. The events
// are published concurrently, but those that share a partition key (else a
// correlation key) one after another, in order, so that they keep it on
// the log; on failure the error names the first event that failed (the
// later ones of its key are not tried), and those that succeeded stay
// published (publishing them again is harmless: they are duplicates).
func (b *Broker) Publish(ctx context.Context, events ...cloudevents.Event) ([]Published, error) {
	if err := checkEvents(events, true); err != nil {
		return nil, err
	}
	return b.publish(ctx, events, true)
}

// checkEvents refuses, before anything is published, what the engine would
// refuse of one event after the others were written: data declared JSON
// that is not. With validate, each event is validated first. The error
// is a *cloudevents.Error that names the event's index in a batch.
func checkEvents(events []cloudevents.Event, validate bool) error {
	for i := range events {
		var err error
		if validate {
			err = events[i].Validate()
		}
		if err == nil {
			err = dataError(&events[i])
		}
		if err == nil {
			continue
		}
		var ce *cloudevents.Error
		if len(events) > 1 && errors.As(err, &ce) {
			c := *ce
			c.Index = i
			return &c
		}
		return err
	}
	return nil
}

// dataError is a 400 for data declared JSON that is not valid JSON: it
// becomes variables (eventVariables) as it is, and the engine refuses such
// an event. No data at all is no document to check (CloudEvents' data is
// optional, its datacontenttype too whatever the data): it becomes no
// variable.
func dataError(e *cloudevents.Event) error {
	if len(e.Data) == 0 || e.DataContentType == "" || !e.DataIsJSON() || validJSON(e.Data) {
		return nil
	}
	return invalidJSONData(e.DataContentType, e.Data)
}

// validJSON reports whether data is JSON (RFC 8259) in UTF-8, which
// json.Valid does not check: it takes a string holding any byte, which a
// decoder then reads as U+FFFD.
func validJSON(data []byte) bool { return utf8.Valid(data) && json.Valid(data) }

// invalidJSONData is the 400 for data declared (as declared says) JSON
// that is not: it says where in the data, and why, as the structured
// mode's JSON errors do.
func invalidJSONData(declared string, data []byte) *cloudevents.Error {
	if declared == "" {
		declared = "JSON"
	}
	reason := fmt.Sprintf("is declared %s but is not valid JSON", declared)
	if msg := cloudevents.JSONSyntaxError(data); msg != "" {
		reason += " " + strings.TrimPrefix(msg, "invalid JSON ")
	}
	return &cloudevents.Error{Status: http.StatusBadRequest, Index: -1, Attribute: "data", Reason: reason}
}

// publish publishes validated events. Without results (the ingress, which
// answers only whether they are durable) it returns none, and the events of
// one ordering key are queued one after another without waiting for each
// commit.
func (b *Broker) publish(ctx context.Context, events []cloudevents.Event, results bool) ([]Published, error) {
	out := make([]Published, len(events))
	if len(events) == 1 {
		p, err := b.publishOne(ctx, &events[0])
		out[0] = p
		return out, err
	}
	// A batch's events go to the engine together, so that they share
	// commits; a bounded number at a time keeps a huge batch from
	// flooding the partitions' queues. Events that share an ordering key
	// (orderingKey) go one after another, in the batch's order, so that
	// they are on their partition's log in that order; the other events,
	// and the first of each key, go at once.
	errs := make([]error, len(events))
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	run := func(idx []int) {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if !results && len(idx) > 1 {
				b.publishInOrder(ctx, events, idx, errs)
				return
			}
			for _, i := range idx {
				out[i], errs[i] = b.publishOne(ctx, &events[i])
				if errs[i] != nil {
					// The later events of the key would pass it: they
					// are not tried, and the error names this one,
					// which comes before them.
					return
				}
			}
		}()
	}
	var keyed map[string][]int
	var order []string
	for i := range events {
		k, ok := orderingKey(&events[i])
		if !ok {
			run([]int{i})
			continue
		}
		if keyed == nil {
			keyed = map[string][]int{}
		}
		if _, seen := keyed[k]; !seen {
			order = append(order, k)
		}
		keyed[k] = append(keyed[k], i)
	}
	for _, k := range order {
		run(keyed[k])
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return out, &PublishError{Index: i, Batch: true, Err: err}
		}
	}
	return out, nil
}

// publishInOrder queues the events idx of one ordering key, in order,
// without waiting for each to commit: a partition takes its queue in
// order (another node's partition answers each before the next is sent),
// so they reach its log in that order and share its commits. It returns
// once each is answered, its error in errs.
func (b *Broker) publishInOrder(ctx context.Context, events []cloudevents.Event, idx []int, errs []error) {
	var wg sync.WaitGroup
	for _, i := range idx {
		wg.Add(1)
		b.eng.PublishEventAsync(ctx, b.eventRequest(&events[i]), func(err error) {
			if err != nil {
				errs[i] = &PublishError{Index: 0, Err: err}
			}
			wg.Done()
		})
	}
	wg.Wait()
}

// orderingKey is what keeps events in order on the log, as the engine
// chooses their partition: the partition key, else the correlation key.
// ok is false for an event with neither, which is placed by its source and
// id and so is in order with no other event.
func orderingKey(e *cloudevents.Event) (key string, ok bool) {
	if v, ok := e.Extension("partitionkey"); ok {
		return "p" + v.Text, true
	}
	if v, ok := e.Extension(CorrelationKeyExtension); ok {
		return "c" + v.Text, true
	}
	return "", false
}

func (b *Broker) publishOne(ctx context.Context, e *cloudevents.Event) (Published, error) {
	return b.publishRequest(ctx, b.eventRequest(e))
}

func (b *Broker) publishRequest(ctx context.Context, req engine.EventRequest) (Published, error) {
	r, err := b.eng.PublishEvent(ctx, req)
	if err != nil {
		return Published{}, &PublishError{Index: 0, Err: err}
	}
	return Published{Key: r.Key, Partition: r.Partition, Duplicate: r.Value.Duplicate}, nil
}

// eventRequest is what the engine needs of an event: its identity, its
// correlation key, its data as the variables of the instance it starts or
// correlates to (eventVariables) and its log encoding.
func (b *Broker) eventRequest(e *cloudevents.Event) engine.EventRequest {
	req := engine.EventRequest{Source: e.Source, ID: e.ID, Type: e.Type, Encoded: cloudevents.Marshal(e)}
	if v, ok := e.Extension(ExtErrorDest); ok {
		// A dead letter is another event than the one whose delivery
		// failed, though it keeps its source and id: one sent back into
		// the broker (a dead-letter sink that is a broker, as Knative
		// users route them) must not be taken for a redelivery of the
		// original and dropped. Its destination and trigger (two
		// triggers may fail one event at one subscriber) set it apart in
		// the duplicate window; a control character no id holds joins
		// them.
		trigger, _ := e.Extension(ExtErrorTrigger)
		req.ID = e.ID + "\x00" + ExtErrorDest + "=" + v.Text + "\x00" + trigger.Text
	}
	if v, ok := e.Extension(CorrelationKeyExtension); ok {
		req.CorrelationKey = v.Text
		req.TTL = b.o.messageTTL
	}
	if v, ok := e.Extension("partitionkey"); ok {
		req.PartitionKey = v.Text
	}
	req.Data = eventVariables(e)
	return req
}

// eventVariables is what an event's data becomes in the instance it starts,
// correlates to or completes a job of: a JSON object is the variables as it
// is; any other data is the variable "data": other JSON as it is, text
// (text/*) in UTF-8 as a string, other bytes (text that is not UTF-8 too:
// as a string its bytes would be replaced by U+FFFD) in base64. Declared
// JSON is not checked here: the engine checks every document and refuses a
// broken one, which dataError then explains. Data that is no object and
// larger than maxDataVariable becomes no variable: its encoding could
// outgrow the engine's bound on a document, and an event is not refused
// for a variable nothing may read.
func eventVariables(e *cloudevents.Event) json.RawMessage {
	switch {
	case len(e.Data) == 0:
		return nil
	case isJSONObject(e):
		return json.RawMessage(e.Data)
	case len(e.Data) > maxDataVariable:
		return nil
	case e.DataIsJSON() && (e.DataContentType != "" || validJSON(e.Data)):
		b := make([]byte, 0, len(dataHead)+len(e.Data)+1)
		return append(append(append(b, dataHead...), e.Data...), '}')
	case isText(e.DataContentType) && utf8.Valid(e.Data):
		var b bytes.Buffer
		b.Grow(len(dataHead) + len(e.Data) + 16)
		b.WriteString(dataHead)
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // markup stays as it is, not \u003c
		if enc.Encode(string(e.Data)) != nil {
			return nil
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte('}')
		return b.Bytes()
	}
	b := make([]byte, 0, len(dataHead)+base64.StdEncoding.EncodedLen(len(e.Data))+3)
	b = append(append(b, dataHead...), '"')
	b = base64.StdEncoding.AppendEncode(b, e.Data)
	return append(b, '"', '}')
}

// dataHead begins the variables {"data": ...} of data that is no object.
const dataHead = `{"data":`

// maxDataVariable bounds the data that becomes the variable "data": in
// base64 it stays under the engine's 4 MiB bound on a document.
const maxDataVariable = 2 << 20

func isText(ct string) bool {
	return len(ct) >= 5 && strings.EqualFold(ct[:5], "text/")
}

// isJSONObject reports whether the event's data is a JSON object to take
// as variables: declared JSON and looking like an object (whether it is
// valid is the engine's to check: it refuses a broken document with a
// reason), or undeclared and a valid object. Undeclared data of another
// kind is bytes of unknown type (binary mode implies no type), which
// eventVariables hands over as it does any data that is no object.
func isJSONObject(e *cloudevents.Event) bool {
	if !e.DataIsJSON() {
		return false
	}
	for _, c := range e.Data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{' && (e.DataContentType != "" || validJSON(e.Data))
	}
	return false
}

// PublishError is an event the engine did not take.
type PublishError struct {
	// Index is the event's place in the request (0 outside a batch).
	Index int
	Batch bool
	Err   error
}

func (e *PublishError) Error() string {
	if e.Batch {
		return fmt.Sprintf("event %d of the batch: %v", e.Index, e.Err)
	}
	return e.Err.Error()
}

func (e *PublishError) Unwrap() error { return e.Err }

// publishStatus is the HTTP status for a publishing failure: 400 for an
// event the engine refuses as invalid, 503 when this node cannot reach the
// partition, the request was cut short, or the partition's owner went
// away before it answered (a failover: the events may be on the log, and
// sent again they are taken once, by the duplicate window), 500 otherwise.
func publishStatus(err error) int {
	var rej *engine.Rejection
	var ce *cloudevents.Error
	switch {
	case errors.As(err, &ce):
		return ce.Status
	case errors.As(err, &rej) && rej.Type == record.InvalidArgument:
		return http.StatusBadRequest
	case errors.As(err, &rej) && rej.Type == record.ExceededBatchRecordSize:
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, engine.ErrNoPartition), errors.Is(err, storage.ErrOutcomeUnknown),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
