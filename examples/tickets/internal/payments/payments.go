// Package payments is the tickets example's payments service, the third
// party that takes the money. It receives payment requests as events
// (Tickets.PaymentRequested for a card, Tickets.MoneyTransferRequested for a
// bank transfer), acknowledges them at once (Payments.RequestReceived) and
// authorizes them after a delay (Payments.Authorized, or
// MoneyTransfer.Accepted, which v4 waits for by sessionId). A payment the
// tickets service refuses (Tickets.PaymentRefused) is refunded
// (Payments.Refunded). GET /payments/{id} checks a payment.
//
// A payment's id follows from its reservation, so a request delivered
// twice is one payment.
package payments

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/httpjson"
)

// Config sets up the payments service.
type Config struct {
	// Delay is how long an authorization takes.
	Delay  time.Duration
	Logger *slog.Logger
}

// Payment states.
const (
	Received   = "received"
	Authorized = "authorized"
	Refunded   = "refunded"
)

// Service is the payments service. See New.
type Service struct {
	cfg Config
	pub *events.Publisher
	log *slog.Logger

	ctx    context.Context // ends the authorizations in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	payments map[string]*events.Payment

	receiver *events.Receiver
}

// New returns a payments service that emits through pub. Close stops its
// authorizations in flight.
func New(pub *events.Publisher, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{cfg: cfg, pub: pub, log: cfg.Logger, ctx: ctx, cancel: cancel, payments: map[string]*events.Payment{}}
	s.receiver = events.NewReceiver("payments", cfg.Logger)
	s.receiver.Handle(events.TicketsPaymentRequested, s.onRequest)
	s.receiver.Handle(events.TicketsMoneyTransferRequested, s.onRequest)
	s.receiver.Handle(events.TicketsPaymentRefused, s.onRefused)
	return s
}

// Close stops the authorizations in flight and waits for them.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// Events is the handler Eddy's triggers deliver to.
func (s *Service) Events() *events.Receiver { return s.receiver }

// Payment returns a payment: the third party's "check" endpoint.
func (s *Service) Payment(id string) (events.Payment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok {
		return events.Payment{}, false
	}
	return *p, true
}

// Handler serves GET /payments/{id} and the triggers' POST /events.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /payments/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.Payment(r.PathValue("id"))
		if !ok {
			httpjson.Error(w, http.StatusNotFound, errors.New("no such payment"))
			return
		}
		httpjson.Write(w, http.StatusOK, p)
	})
	mux.Handle("POST /events", s.receiver)
	return mux
}

// onRequest takes a payment request: it is acknowledged once
// Payments.RequestReceived is durable, and authorized after the delay.
func (s *Service) onRequest(ctx context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var d events.Reservation
	if err := events.DecodeData(e, &d); err != nil {
		return nil, err
	}
	if d.ReservationID == "" || d.SessionID == "" || d.Amount <= 0 {
		return nil, events.Malformed("event %s %s: a payment request needs reservationId, sessionId and a positive amount", e.Type, e.ID)
	}
	p := events.Payment{PaymentID: "p-" + d.ReservationID, SessionID: d.SessionID, ReservationID: d.ReservationID, Amount: d.Amount, Method: "card", Status: Received}
	if e.Type == events.TicketsMoneyTransferRequested {
		p.Method = "transfer"
	}
	s.mu.Lock()
	_, known := s.payments[p.PaymentID]
	s.mu.Unlock()
	if known {
		return nil, nil // a redelivery: the payment is under way
	}
	err := s.pub.Emit(ctx, events.Out{Type: events.PaymentsRequestReceived, ID: "received-" + p.PaymentID, SessionID: p.SessionID, Data: p})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if _, known := s.payments[p.PaymentID]; known {
		s.mu.Unlock()
		return nil, nil
	}
	s.payments[p.PaymentID] = &p
	s.mu.Unlock()
	s.wg.Add(1)
	go s.authorize(p)
	return nil, nil
}

// authorize waits the delay and announces the authorization, retrying
// until the broker takes it or the service closes.
func (s *Service) authorize(p events.Payment) {
	defer s.wg.Done()
	if !sleep(s.ctx, s.cfg.Delay) {
		return
	}
	p.Status = Authorized
	out := events.Out{Type: events.PaymentsAuthorized, ID: "authorized-" + p.PaymentID, SessionID: p.SessionID, Data: p}
	if p.Method == "transfer" {
		out = events.Out{Type: events.MoneyTransferAccepted, ID: "transfer-accepted-" + p.PaymentID, SessionID: p.SessionID, CorrelationKey: p.SessionID, Data: p}
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := s.pub.Emit(s.ctx, out)
		if err == nil {
			break
		}
		s.log.Warn("payments: announcing an authorization failed; trying again", "payment", p.PaymentID, "error", err)
		if !sleep(s.ctx, wait) {
			return
		}
	}
	s.mu.Lock()
	if q := s.payments[p.PaymentID]; q.Status == Received {
		q.Status = Authorized
	}
	s.mu.Unlock()
}

// onRefused refunds a payment the tickets service could not use.
func (s *Service) onRefused(ctx context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var d events.Reservation
	if err := events.DecodeData(e, &d); err != nil {
		return nil, err
	}
	id := "p-" + d.ReservationID
	s.mu.Lock()
	p, ok := s.payments[id]
	var snapshot events.Payment
	if ok {
		snapshot = *p
	}
	s.mu.Unlock()
	if !ok {
		return nil, events.Malformed("event %s %s: reservation %q has no payment here", e.Type, e.ID, d.ReservationID)
	}
	if snapshot.Status == Refunded {
		// A redelivery, maybe after the broker's duplicate window: the
		// refund was announced once already.
		return nil, nil
	}
	snapshot.Status = Refunded
	if err := s.pub.Emit(ctx, events.Out{Type: events.PaymentsRefunded, ID: "refunded-" + id, SessionID: snapshot.SessionID, Data: snapshot}); err != nil {
		return nil, err
	}
	s.mu.Lock()
	p.Status = Refunded
	s.mu.Unlock()
	return nil, nil
}

// sleep waits d; it reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
