// Package frontend is the tickets example's web front end: a page (plain
// HTML and JavaScript, embedded, no build step) that takes one customer
// through the queue, the reservation and the payment, and the notifier
// that addresses the models' events to that customer's browser.
//
// The browser follows its purchase over Eddy's WebSocket push
// (/v1/events/ws?sessionid=...): the services put the sessionid extension
// on their events. The events a model emits (the payment reminders of v2,
// the timeout, v3's Tickets.Emitted, ...) name the process instance, not
// the customer, so the notifier's trigger (every event of process TICKETS)
// answers each with a Notifications.Requested reply that carries the
// customer's sessionid, taken from the process variables in the event's
// data; Eddy publishes the reply, and the browser's subscription pushes it.
package frontend

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/httpjson"
)

//go:embed static
var static embed.FS

// Config sets up the front end.
type Config struct {
	// Model is the model version the page says is deployed.
	Model string
	// Models are the terms of each model version a purchase may run
	// under: a customer who joined before another model was deployed
	// buys under the earlier one.
	Models map[string]Terms
	Logger *slog.Logger
	Now    func() time.Time
}

// Terms are what the page tells a customer of a model version's purchase.
type Terms struct {
	// TransferFrom is the order size paid by money transfer (v4); 0 for
	// none.
	TransferFrom int `json:"transferFrom"`
	// PaymentWindow is how long the model waits for a payment before it
	// times out (v2-v4); 0 when the tickets service's hold decides.
	PaymentWindow time.Duration `json:"-"`
}

// MarshalJSON gives the window in milliseconds, as the page counts time.
func (t Terms) MarshalJSON() ([]byte, error) {
	type terms Terms
	return json.Marshal(struct {
		terms
		PaymentWindowMs int64 `json:"paymentWindowMs"`
	}{terms(t), t.PaymentWindow.Milliseconds()})
}

// Server is the front end. See New.
type Server struct {
	cfg      Config
	receiver *events.Receiver
}

// Source is the source attribute of the notifier's events.
const Source = "/tickets-example/frontend"

// New returns the front end.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, receiver: events.NewReceiver("frontend", cfg.Logger)}
	for typ, n := range notices {
		s.receiver.Handle(typ, s.notifier(n))
	}
	return s
}

// Handler serves the page (/, /app.js, /style.css), its configuration
// (/config.json) and the notifier's trigger endpoint (POST /notify).
func (s *Server) Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]any{"model": s.cfg.Model, "models": s.cfg.Models})
	})
	mux.Handle("POST /notify", s.receiver)
	return mux
}

// Notifier is the handler the notifier's trigger delivers to.
func (s *Server) Notifier() *events.Receiver { return s.receiver }

// notice is what a browser is told of a model's event.
type notice struct{ kind, message string }

// notices are the model events the browser hears of, by type.
var notices = map[string]notice{
	events.TicketsReservation1MExpired: {"payment-reminder", "Your tickets are waiting: please complete the payment."},
	events.TicketsReservationTimedOut:  {"reservation-timed-out", "Your reservation timed out; the tickets are back on sale."},
	events.TicketsEmitted:              {"tickets-emitted", "Your tickets are issued."},
	events.CustomerFollowUpBooked:      {"follow-up-booked", "We will follow up on your purchase."},
	events.SessionCleanUp:              {"session-closed", "Your session is closed."},
}

// notifier answers a model's event with a notification for the customer
// whose sessionId is among the process variables.
func (s *Server) notifier(n notice) events.Handler {
	return func(_ context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
		var vars struct {
			SessionID string `json:"sessionId"`
		}
		if err := events.DecodeData(e, &vars); err != nil {
			return nil, err
		}
		if vars.SessionID == "" {
			return nil, events.Malformed("event %s %s from %s: no sessionId among the process variables in its data", e.Type, e.ID, e.Source)
		}
		reply, err := events.Build(Source, s.cfg.Now(), events.Out{
			// The job key names the emission: a redelivery gets the same
			// notification id, which the broker accepts once.
			Type: events.NotificationsRequested, ID: "notify-" + e.ID, SessionID: vars.SessionID,
			Data: events.Notification{SessionID: vars.SessionID, Kind: n.kind, Message: n.message, Cause: e.Type},
		})
		if err != nil {
			return nil, fmt.Errorf("building the notification: %w", err)
		}
		return &reply, nil
	}
}
