package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"eddy/cloudevents"
)

// Out is an event to emit.
type Out struct {
	Type string
	// ID names the fact: the same fact emitted again carries the same ID,
	// and the broker, which accepts a source and id once within its
	// window, keeps one copy. Retries are then harmless.
	ID string
	// SessionID is the customer the event is about (the sessionid
	// extension); empty for none.
	SessionID string
	// CorrelationKey is set where a model waits for a message of this type.
	CorrelationKey string
	// Data is marshalled as the event's JSON data.
	Data any
}

// Publisher posts events to Eddy's CloudEvents ingress. It is safe for
// concurrent use.
type Publisher struct {
	url    string
	source string
	client *http.Client
	now    func() time.Time
	// attempts and backoff bound the retries of a failed post.
	attempts int
	backoff  time.Duration
}

// NewPublisher returns a Publisher posting to ingressURL (Eddy's
// /v1/events) with source as the events' source attribute.
func NewPublisher(ingressURL, source string, client *http.Client) *Publisher {
	if client == nil {
		client = http.DefaultClient
	}
	return &Publisher{url: ingressURL, source: source, client: client, now: time.Now, attempts: 6, backoff: 20 * time.Millisecond}
}

// Build makes the CloudEvent for o from source at time now, validated.
func Build(source string, now time.Time, o Out) (cloudevents.Event, error) {
	e := cloudevents.Event{
		ID: o.ID, Source: source, SpecVersion: cloudevents.SpecVersion, Type: o.Type,
		Time: now.UTC().Format(time.RFC3339Nano),
	}
	if o.Data != nil {
		b, err := json.Marshal(o.Data)
		if err != nil {
			return e, fmt.Errorf("event %s %s: data: %w", o.Type, o.ID, err)
		}
		e.Data, e.DataContentType = b, "application/json"
	}
	if o.SessionID != "" {
		e.SetExtension(ExtSessionID, cloudevents.StringValue(o.SessionID))
	}
	if o.CorrelationKey != "" {
		e.SetExtension(ExtCorrelationKey, cloudevents.StringValue(o.CorrelationKey))
	}
	if err := e.Validate(); err != nil {
		return e, fmt.Errorf("event %s %s: %w", o.Type, o.ID, err)
	}
	return e, nil
}

// Emit posts the events, one in binary mode or several as one batch, and
// returns once the broker answered that they are durable. A failure the
// broker may recover from (a network error, 429, 5xx) is retried a few
// times with a growing wait; the ids make a retry of an accepted event a
// duplicate the broker drops.
// detachedTimeout bounds an emission that outlives its request.
const detachedTimeout = 30 * time.Second

// EmitDetached is Emit for a request's handler whose state change the
// events announce: the emission goes on when the client hangs up (for up
// to detachedTimeout), since an event the broker took while the handler
// rolled its change back would leave the two disagreeing.
func (p *Publisher) EmitDetached(ctx context.Context, outs ...Out) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	return p.Emit(ctx, outs...)
}

func (p *Publisher) Emit(ctx context.Context, outs ...Out) error {
	if len(outs) == 0 {
		return nil
	}
	evs := make([]cloudevents.Event, len(outs))
	for i, o := range outs {
		e, err := Build(p.source, p.now(), o)
		if err != nil {
			return err
		}
		evs[i] = e
	}
	wait := p.backoff
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		retry, err = p.post(ctx, evs)
		if err == nil || !retry || attempt >= p.attempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %v)", err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
	if err != nil {
		return fmt.Errorf("emitting %s: %w", describe(outs), err)
	}
	return nil
}

// post sends the events once and tells whether a failure is worth a retry.
func (p *Publisher) post(ctx context.Context, evs []cloudevents.Event) (retry bool, err error) {
	var req *http.Request
	if len(evs) == 1 {
		req, err = cloudevents.NewRequest(ctx, p.url, &evs[0], cloudevents.Binary)
	} else {
		req, err = cloudevents.NewBatchRequest(ctx, p.url, evs)
	}
	if err != nil {
		return false, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, resp.Body)
		return false, nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	err = fmt.Errorf("the ingress answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, err
}

func describe(outs []Out) string {
	if len(outs) == 1 {
		return fmt.Sprintf("%s %s", outs[0].Type, outs[0].ID)
	}
	return fmt.Sprintf("a batch of %d events (%s %s first)", len(outs), outs[0].Type, outs[0].ID)
}

// ErrMalformed marks an event a handler cannot act on: the Receiver answers
// 400, which a trigger does not retry.
var ErrMalformed = errors.New("malformed event")

// Malformed wraps err as ErrMalformed.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// DecodeData reads the JSON data of e into v; data that is not the JSON
// object v expects is ErrMalformed, naming the event.
func DecodeData(e *cloudevents.Event, v any) error {
	if len(e.Data) == 0 {
		return Malformed("event %s %s from %s has no data", e.Type, e.ID, e.Source)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return Malformed("event %s %s from %s: data: %v", e.Type, e.ID, e.Source, err)
	}
	return nil
}

// Source is the source attribute of the events p emits.
func (p *Publisher) Source() string { return p.source }
