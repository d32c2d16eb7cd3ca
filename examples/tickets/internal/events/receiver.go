package events

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"eddy/cloudevents"
)

// Handler acts on one delivered event. It may return an event to reply
// with: Eddy's trigger publishes a reply back into the broker, as
// Knative's data plane does.
type Handler func(ctx context.Context, e *cloudevents.Event) (reply *cloudevents.Event, err error)

// Receiver is the http.Handler a service's triggers deliver to: it reads
// the CloudEvent (any content mode) and calls the handler of its type.
//
// The answer follows Knative's data plane, which Eddy's triggers obey: 200
// with the reply event, or 202 without one; 400, not retried, for an event
// that is not a CloudEvent, has a type the service does not handle (a
// trigger that sends it is misconfigured) or data the handler refuses
// (ErrMalformed); 503, retried, for any other failure.
type Receiver struct {
	name     string
	handlers map[string]Handler
	log      *slog.Logger
}

// NewReceiver returns a Receiver of service name with no handler yet.
func NewReceiver(name string, log *slog.Logger) *Receiver {
	if log == nil {
		log = slog.Default()
	}
	return &Receiver{name: name, handlers: map[string]Handler{}, log: log}
}

// Handle sets the handler of events of type typ.
func (r *Receiver) Handle(typ string, h Handler) { r.handlers[typ] = h }

// Types lists the event types r handles, sorted.
func (r *Receiver) Types() []string {
	return slices.Sorted(maps.Keys(r.handlers))
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	evs, err := cloudevents.ReadRequest(req, 0)
	if err != nil {
		cloudevents.WriteError(w, err)
		return
	}
	if len(evs) != 1 {
		// A trigger delivers one event per request, and a reply answers one.
		http.Error(w, r.name+" service takes one event per request, as a trigger delivers them", http.StatusBadRequest)
		return
	}
	e := &evs[0]
	h, ok := r.handlers[e.Type]
	if !ok {
		http.Error(w, r.name+" service does not handle events of type "+e.Type+" (check the trigger's filter)", http.StatusBadRequest)
		return
	}
	reply, err := h(req.Context(), e)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, ErrMalformed) {
			status = http.StatusBadRequest
		}
		r.log.Warn("event not handled", "service", r.name, "type", e.Type, "id", e.ID, "source", e.Source, "status", status, "error", err)
		http.Error(w, err.Error(), status)
		return
	}
	if reply == nil {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if err := cloudevents.WriteResponse(w, http.StatusOK, reply, cloudevents.Binary); err != nil {
		r.log.Warn("writing a reply failed", "service", r.name, "error", err)
	}
}
