package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"eddy/cloudevents"
	"eddy/internal/http1"
	"eddy/storage"
)

// serveIngress takes the events of one request (binary, structured or
// batch) and answers 202 once all of them are durable on the log. A
// malformed event is a 400 that says what is wrong and where; a body over
// the limit a 413; a method other than POST a 405. Nothing of a request
// with one malformed event is published. OPTIONS is the webhook
// handshake (handshake.go).
//
// Every broker name is the one broker: POST /default/default and
// POST /v1/events reach the same log and the same triggers.
func (b *Broker) serveIngress(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		if r.Header.Get("Access-Control-Request-Method") != "" {
			b.serveIngressPreflight(w, r)
			return
		}
		serveHandshake(w, r)
		return
	}
	if r.Method == http.MethodPost && !b.allowOrigin(w, r) {
		refuseOrigin(w, r, "send events")
		return
	}
	events, err := cloudevents.ReadRequest(r, b.o.maxBody)
	if err != nil {
		if cloudevents.StatusCode(err) == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", allowedMethods)
		}
		cloudevents.WriteError(w, err)
		return
	}
	if len(events) == 1 {
		b.ingestOne(r.Context(), w, &events[0])
		return
	}
	if err := checkEvents(events, false); err != nil {
		cloudevents.WriteError(w, err)
		return
	}
	_, err = b.publish(r.Context(), events, false)
	b.answerIngress(w, err)
}

// ingestOne publishes a request's one event and answers: no result slice,
// straight to the engine, and on the fast path the answer goes out from
// the commit (the event is decoded and copied: nothing refers to the
// request any more).
func (b *Broker) ingestOne(ctx context.Context, w http.ResponseWriter, e *cloudevents.Event) {
	req := b.eventRequest(e)
	if finish := http1.Defer(w); finish != nil {
		// Not req: the closure would take it to the heap.
		data, declared, raw := req.Data, e.DataContentType, e.Data
		b.eng.PublishEventAsync(ctx, req, func(err error) {
			if err != nil {
				err = &PublishError{Index: 0, Err: err}
			}
			b.answerOne(w, data, declared, raw, err)
			finish()
		})
		return
	}
	_, err := b.publishRequest(ctx, req)
	b.answerOne(w, req.Data, e.DataContentType, e.Data, err)
}

// answerOne answers for one event. The single event's data is not checked
// before the engine (which checks it anyway) to keep the hot path short;
// when the engine refuses the event for it, the answer says so as a
// batch's does (dataError), not in the engine's words: the data's declared
// type (declared) and where its bytes (raw) stop being JSON (UTF-8
// included, which the engine checks too).
func (b *Broker) answerOne(w http.ResponseWriter, data json.RawMessage, declared string, raw []byte, err error) {
	if err != nil && data != nil && publishStatus(err) == http.StatusBadRequest && !validJSON(data) {
		cloudevents.WriteError(w, invalidJSONData(declared, raw))
		return
	}
	b.answerIngress(w, err)
}

// ingressHandler is the ingress's handler. On the lean server's fast path
// it reads an event from the parsed header lines (ServeRaw), and leaves
// what cloudevents.FieldReader does not take (batches, repeated headers)
// to serveIngress, which reads it as net/http would.
type ingressHandler struct{ b *Broker }

var originField = []byte("origin")

func (h ingressHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.b.serveIngress(w, r) }

func (h ingressHandler) ServeRaw(w http.ResponseWriter, r *http1.RawRequest) bool {
	if r.Method != http.MethodPost {
		return false
	}
	var fr cloudevents.FieldReader
	for i := range r.NumFields() {
		name, value := r.Field(i)
		if len(name) == len("origin") && bytes.EqualFold(name, originField) {
			// A browser's: ServeHTTP checks it against the Host.
			return false
		}
		fr.Add(name, value)
	}
	e, err, ok := fr.Read(r.Body, h.b.o.maxBody)
	switch {
	case !ok:
		return false
	case err != nil:
		cloudevents.WriteError(w, err)
	default:
		// The fast path's requests have no context of their own: it does
		// not watch the connection while the handler runs.
		h.b.ingestOne(context.Background(), w, &e)
	}
	return true
}

// answerIngress answers an ingress request: 202 once its events are
// durable, else why not.
// ingressRetryAfter is the Retry-After, in seconds, of an ingress 503.
const ingressRetryAfter = "2"

func (b *Broker) answerIngress(w http.ResponseWriter, err error) {
	if err != nil {
		b.o.logger.Debug("broker: ingress could not publish", "error", err)
		status := publishStatus(err)
		if status == http.StatusServiceUnavailable {
			// A partition without a reachable owner: another node takes
			// it over within the claim timeout, so a sender that waits a
			// little and sends again gets through.
			w.Header().Set("Retry-After", ingressRetryAfter)
		}
		msg := "publishing the events: " + err.Error()
		if errors.Is(err, storage.ErrOutcomeUnknown) {
			msg += ": they may be on the log; send them again (the same source and id), which the broker takes once"
		}
		http.Error(w, msg, status)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// FastRoute returns the handler of the requests a lean HTTP/1.1 server
// (eddy/internal/http1) may serve in net/http's stead: the ingress POSTs,
// to /v1/events and to a Knative broker path /{namespace}/{broker}. It
// returns nil for every other request, which the Handler serves. The
// ingress handler answers within a commit and buffers nothing, which is
// what such a server asks of a handler; a single event's answer is
// deferred (http1.Defer) and goes out from the partition's commit.
func (b *Broker) FastRoute(method, path string) http.Handler {
	if method != http.MethodPost || !strings.HasPrefix(path, "/") {
		return nil
	}
	if path == "/v1/events" {
		return b.ingress
	}
	namespace, name, ok := strings.Cut(path[1:], "/")
	if !ok || namespace == "" || namespace == "v1" || name == "" || strings.Contains(name, "/") {
		return nil
	}
	return b.ingress
}
