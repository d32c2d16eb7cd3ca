// Package tickets is the tickets example's tickets service: it holds a
// fixed stock, reserves tickets for customers who left the queue, holds
// them for a short time while they pay, and sells them once the payment is
// authorized. It never sells more than the stock: every change of the
// counts happens under one lock that keeps available + held + sold equal
// to the stock.
//
// A reservation changes state only once the event announcing the change
// is durable in the broker: each reservation has its own lock, held while
// its event is emitted, so that a failed emission leaves the reservation
// as it was and the trigger that asked for the change delivers again.
//
// Events emitted: Tickets.Reserved (correlates by sessionId),
// Tickets.ReservationRejected, Tickets.PaymentRequested (correlates by
// reservationId) or, for large orders under v4, Tickets.MoneyTransferRequested,
// Tickets.PaymentsAuthorized (correlates by reservationId),
// Tickets.Emitted (unless the model emits it, as v3 does), Tickets.Released
// and Tickets.PaymentRefused. Events consumed: Queue.CustomerExited (the
// customer may now reserve), Queue.CustomerAbandoned and Session.CleanUp
// (release), Tickets.ReservationTimedOut (v2-v4's timer: release),
// Payments.Authorized and MoneyTransfer.Accepted (sell).
package tickets

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"eddy/examples/tickets/internal/events"
)

// Config sets up the tickets service.
type Config struct {
	// Stock is how many tickets are on sale.
	Stock int
	// Prices are the ticket types on sale and their prices in euros
	// (default: general 50, vip 120).
	Prices map[string]int
	// MaxPerOrder caps one reservation (default 20).
	MaxPerOrder int
	// Hold is how long a reservation nobody started to pay is kept before
	// its tickets go back on sale (default 3 minutes, longer than the
	// models' 2-minute timer, so that under v2-v4 the model decides).
	Hold time.Duration
	// Model is the model version deployed now. A purchase goes on under
	// the model its customer joined under (events.Customer.Model), and
	// under this one where that is not known (events of an earlier Eddy).
	Model string
	// Rules are what each model version leaves to the service; a model
	// not in it has the zero Rules.
	Rules map[string]Rules
	// AdmissionWait is how long a reservation request waits for the
	// customer's Queue.CustomerExited to be delivered (default 10s): the
	// browser hears of the exit from the same event, and may be quicker.
	AdmissionWait time.Duration
	Logger        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Rules are what a model version leaves to the tickets service.
type Rules struct {
	// TransferFrom is the order size from which payment is by money
	// transfer, as v4's gateway decides (10 under v4); 0: always by card.
	TransferFrom int
	// EmitTickets makes the service emit Tickets.Emitted when a purchase
	// is paid; off where the model emits it (v3).
	EmitTickets bool
}

// modelLocked is model, or when it is "" (events that say none) the model
// of the earlier example's run they come from, else the model deployed
// now; s.mu is held. Its Rules are the purchase's.
func (s *Service) modelLocked(model string) string {
	return cmp.Or(model, s.unsaid, s.cfg.Model)
}

// SetUnsaidModel gives the model of the customers and reservations whose
// events say none: a run of an earlier example, before events said their
// model. Call it before Restored.
func (s *Service) SetUnsaidModel(model string) {
	s.mu.Lock()
	s.unsaid = model
	s.mu.Unlock()
}

// Status is where a reservation is.
type Status string

// Reservation states.
const (
	Held     Status = "held"
	Paying   Status = "paying"
	Sold     Status = "sold"
	Released Status = "released"
)

// Errors of the API.
var (
	ErrNotAdmitted = errors.New("this session has not left the queue yet")
	ErrLeft        = errors.New("this customer left the queue, and the purchase with it: start a new session to buy")
	ErrSoldOut     = errors.New("not enough tickets left")
	ErrNotFound    = errors.New("no such reservation for this session")
	ErrReleased    = errors.New("the reservation was released, and the purchase with it: start a new session to buy")
	ErrInvalid     = errors.New("invalid request")
)

// releasedError is ErrReleased for a session asking for another
// reservation: it says which was released, and why.
type releasedError struct{ id, reason string }

func (e releasedError) Error() string {
	return fmt.Sprintf("this session's reservation %s was released (%s), and the purchase with it: start a new session to buy", e.id, e.reason)
}

func (e releasedError) Is(target error) bool { return target == ErrReleased }

type reservation struct {
	mu sync.Mutex // held while the reservation's events are emitted
	// The fields below are read and written with Service.mu held as
	// well, so that lookups see a consistent reservation.
	events.Reservation
	status  Status
	expires time.Time
	gone    bool // the reservation was rolled back: Tickets.Reserved failed
}

// Service is the tickets service. See New.
type Service struct {
	cfg Config
	pub *events.Publisher
	log *slog.Logger

	mu        sync.Mutex
	available int
	held      int
	sold      int
	ticketSeq int
	byID      map[string]*reservation
	bySession map[string]*reservation  // the session's latest reservation
	admitted  map[string]string        // the sessions let out of the queue, and their model ("": not known)
	left      map[string]bool          // the sessions that left (abandoned or cleaned up)
	admission map[string]chan struct{} // closed when the session is admitted
	unsaid    string                   // the model of events that say none (SetUnsaidModel)

	receiver *events.Receiver
}

// New returns a tickets service that emits through pub. Call Run to
// release the holds that run out.
func New(pub *events.Publisher, cfg Config) *Service {
	if cfg.Prices == nil {
		cfg.Prices = map[string]int{"general": 50, "vip": 120}
	}
	if cfg.MaxPerOrder <= 0 {
		cfg.MaxPerOrder = 20
	}
	if cfg.Hold <= 0 {
		cfg.Hold = 3 * time.Minute
	}
	if cfg.AdmissionWait <= 0 {
		cfg.AdmissionWait = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{
		cfg: cfg, pub: pub, log: cfg.Logger, available: cfg.Stock,
		byID: map[string]*reservation{}, bySession: map[string]*reservation{},
		admitted: map[string]string{}, left: map[string]bool{}, admission: map[string]chan struct{}{},
	}
	s.receiver = events.NewReceiver("tickets", cfg.Logger)
	s.receiver.Handle(events.QueueCustomerExited, s.onExited)
	s.receiver.Handle(events.QueueCustomerAbandoned, s.onLeft)
	s.receiver.Handle(events.SessionCleanUp, s.onLeft)
	s.receiver.Handle(events.TicketsReservationTimedOut, s.onTimedOut)
	s.receiver.Handle(events.PaymentsAuthorized, s.onPaid)
	s.receiver.Handle(events.MoneyTransferAccepted, s.onPaid)
	return s
}

// Events is the handler Eddy's triggers deliver to.
func (s *Service) Events() *events.Receiver { return s.receiver }

// View is a reservation as the API shows it.
type View struct {
	events.Reservation
	Status Status `json:"status"`
}

func (r *reservation) view() View { return View{Reservation: r.Reservation, Status: r.status} }

// Stock is the state of the stock.
type Stock struct {
	Stock     int            `json:"stock"`
	Available int            `json:"available"`
	Held      int            `json:"held"`
	Sold      int            `json:"sold"`
	Prices    map[string]int `json:"prices"`
}

// Stock returns the counts; Available + Held + Sold is always Stock.
func (s *Service) Stock() Stock {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stock{Stock: s.cfg.Stock, Available: s.available, Held: s.held, Sold: s.sold, Prices: s.cfg.Prices}
}

// Reserve holds quantity tickets of type typ for the session, once
// Tickets.Reserved is durable. The session must have left the queue
// (Reserve waits up to AdmissionWait for the exit to be delivered). A
// session has one live reservation: asking again returns it. A session
// whose reservation was released (the model timed it out, or the hold ran
// out) reserves no more, as one that left does not: its process instance
// has ended, or waits for that reservation's payment, so a purchase made
// after would go on without the model (under v3, which emits the tickets,
// it would be paid and never issued).
func (s *Service) Reserve(ctx context.Context, session string, quantity int, typ string) (View, error) {
	price, ok := s.cfg.Prices[typ]
	switch {
	case !ok:
		return View{}, fmt.Errorf("%w: unknown ticketsType %q: the types are %s", ErrInvalid, typ, strings.Join(slices.Sorted(maps.Keys(s.cfg.Prices)), ", "))
	case quantity < 1 || quantity > s.cfg.MaxPerOrder:
		return View{}, fmt.Errorf("%w: ticketsQuantity %d: order 1 to %d tickets", ErrInvalid, quantity, s.cfg.MaxPerOrder)
	}
	if err := s.awaitAdmission(ctx, session); err != nil {
		return View{}, err
	}
	for {
		s.mu.Lock()
		if r := s.bySession[session]; r != nil && r.status == Released {
			id, reason := r.ReservationID, r.Reason
			s.mu.Unlock()
			return View{}, releasedError{id, reason}
		}
		if r := s.bySession[session]; r != nil {
			s.mu.Unlock()
			// Wait for an emission in flight, then answer what it decided.
			r.mu.Lock()
			s.mu.Lock()
			v, gone := r.view(), r.gone
			s.mu.Unlock()
			r.mu.Unlock()
			if gone {
				continue
			}
			return v, nil
		}
		if s.available < quantity {
			left := s.available
			s.mu.Unlock()
			return View{}, s.reject(ctx, session, quantity, typ, left)
		}
		r := &reservation{status: Held, expires: s.cfg.Now().Add(s.cfg.Hold)}
		model := s.modelLocked(s.admitted[session])
		r.Reservation = events.Reservation{
			SessionID: session, ReservationID: newID("r-"), TicketsQuantity: quantity, TicketsType: typ,
			Amount: price * quantity, ExpiresAt: r.expires.UTC().Format(time.RFC3339Nano),
			PaymentMethod: s.method(model, quantity), Model: model,
		}
		r.mu.Lock()
		s.available -= quantity
		s.held += quantity
		s.byID[r.ReservationID] = r
		s.bySession[session] = r
		s.mu.Unlock()

		err := s.pub.EmitDetached(ctx, events.Out{
			Type: events.TicketsReserved, ID: "reserved-" + r.ReservationID, SessionID: session, CorrelationKey: session, Data: r.Reservation,
		})
		s.mu.Lock()
		if err != nil {
			s.available += quantity
			s.held -= quantity
			delete(s.byID, r.ReservationID)
			if s.bySession[session] == r {
				delete(s.bySession, session)
			}
			r.gone = true
		}
		v := r.view()
		s.mu.Unlock()
		r.mu.Unlock()
		return v, err
	}
}

// method is how an order of quantity is paid under model (resolved).
func (s *Service) method(model string, quantity int) string {
	if from := s.cfg.Rules[model].TransferFrom; from > 0 && quantity >= from {
		return "transfer"
	}
	return "card"
}

// Count says n tickets, in the singular for one.
func Count(n int) string {
	if n == 1 {
		return "1 ticket"
	}
	return fmt.Sprintf("%d tickets", n)
}

// reject announces that a reservation could not be made.
func (s *Service) reject(ctx context.Context, session string, quantity int, typ string, left int) error {
	reason := fmt.Sprintf("%s asked, %d left", Count(quantity), left)
	err := s.pub.Emit(ctx, events.Out{
		Type: events.TicketsReservationRejected, ID: "rejected-" + newID(""), SessionID: session,
		Data: events.Reservation{SessionID: session, TicketsQuantity: quantity, TicketsType: typ, Reason: reason},
	})
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrSoldOut, reason)
}

// awaitAdmission waits until the session's Queue.CustomerExited arrived.
func (s *Service) awaitAdmission(ctx context.Context, session string) error {
	s.mu.Lock()
	if s.left[session] {
		s.mu.Unlock()
		return ErrLeft
	}
	if _, ok := s.admitted[session]; ok {
		s.mu.Unlock()
		return nil
	}
	ch, ok := s.admission[session]
	if !ok {
		ch = make(chan struct{})
		s.admission[session] = ch
	}
	s.mu.Unlock()
	t := time.NewTimer(s.cfg.AdmissionWait)
	defer t.Stop()
	select {
	case <-ch:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.left[session] {
			return ErrLeft
		}
		return nil
	case <-t.C:
		return ErrNotAdmitted
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pay starts the payment of a held reservation: Tickets.PaymentRequested
// for the payments service, or Tickets.MoneyTransferRequested for a large
// order under v4. Paying again is harmless.
func (s *Service) Pay(ctx context.Context, session, id string) (View, error) {
	s.mu.Lock()
	r := s.byID[id]
	s.mu.Unlock()
	if r == nil || r.SessionID != session {
		return View{}, ErrNotFound
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.mu.Lock()
	st, expired := r.status, !s.cfg.Now().Before(r.expires)
	s.mu.Unlock()
	switch {
	case r.gone:
		return View{}, ErrNotFound
	case st == Released:
		return View{}, ErrReleased
	case st == Held && expired:
		if err := s.releaseLocked(ctx, r, "the hold ran out", false); err != nil {
			return View{}, err
		}
		return View{}, ErrReleased
	case st != Held:
		return s.viewOf(r), nil
	}
	out := events.Out{
		Type: events.TicketsPaymentRequested, ID: "payment-requested-" + id, SessionID: session, CorrelationKey: id, Data: r.Reservation,
	}
	if r.PaymentMethod == "transfer" {
		// v4 waits for MoneyTransfer.Accepted instead: nothing
		// correlates this event.
		out.Type, out.ID, out.CorrelationKey = events.TicketsMoneyTransferRequested, "transfer-requested-"+id, ""
	}
	if err := s.pub.EmitDetached(ctx, out); err != nil {
		return View{}, err
	}
	s.mu.Lock()
	r.status = Paying
	v := r.view()
	s.mu.Unlock()
	return v, nil
}

// Reservation returns a reservation.
func (s *Service) Reservation(id string) (View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byID[id]
	if r == nil {
		return View{}, ErrNotFound
	}
	return r.view(), nil
}

func (s *Service) viewOf(r *reservation) View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.view()
}

// releaseLocked puts a reservation's tickets back on sale once
// Tickets.Released is durable; r.mu is held. A held reservation is
// released; one being paid only if paying is set: the model timed it out
// or the customer left, and the payment, when it comes, is refused. Sold
// and released reservations are left alone.
func (s *Service) releaseLocked(ctx context.Context, r *reservation, reason string, paying bool) error {
	s.mu.Lock()
	st := r.status
	s.mu.Unlock()
	if r.gone || st != Held && !(paying && st == Paying) {
		return nil
	}
	d := r.Reservation
	d.Reason = reason
	err := s.pub.Emit(ctx, events.Out{Type: events.TicketsReleased, ID: "released-" + r.ReservationID, SessionID: r.SessionID, Data: d})
	if err != nil {
		return err
	}
	s.mu.Lock()
	r.status = Released
	r.Reason = reason
	s.held -= r.TicketsQuantity
	s.available += r.TicketsQuantity
	s.mu.Unlock()
	return nil
}

// sellLocked sells a reservation being paid; r.mu is held. It emits
// Tickets.PaymentsAuthorized for a card payment (the models wait for it)
// and Tickets.Emitted if the service emits tickets, then moves the
// tickets from held to sold. Selling twice is harmless.
func (s *Service) sellLocked(ctx context.Context, r *reservation, p events.Payment) error {
	s.mu.Lock()
	st := r.status
	if st == Paying && r.Tickets == nil {
		// Numbers are given once; a failed emission keeps them for the
		// next try.
		r.Tickets = make([]string, r.TicketsQuantity)
		for i := range r.Tickets {
			s.ticketSeq++
			r.Tickets[i] = fmt.Sprintf("T-%06d", s.ticketSeq)
		}
	}
	d, model := r.Reservation, s.modelLocked(r.Model)
	s.mu.Unlock()
	switch st {
	case Sold:
		return nil
	case Held, Released:
		// Paid for something no longer (or not yet) being paid: refuse,
		// so that the payments service refunds.
		d.Reason = fmt.Sprintf("payment %s arrived for a reservation that is %s", p.PaymentID, st)
		return s.pub.Emit(ctx, events.Out{Type: events.TicketsPaymentRefused, ID: "refused-" + p.PaymentID, SessionID: r.SessionID, Data: d})
	}
	var outs []events.Out
	if p.Method != "transfer" {
		outs = append(outs, events.Out{Type: events.TicketsPaymentsAuthorized, ID: "authorized-" + r.ReservationID, SessionID: r.SessionID, CorrelationKey: r.ReservationID, Data: d})
	}
	if s.cfg.Rules[model].EmitTickets {
		outs = append(outs, events.Out{Type: events.TicketsEmitted, ID: "emitted-" + r.ReservationID, SessionID: r.SessionID, Data: d})
	}
	if len(outs) == 0 {
		// A transfer where the model emits the tickets (a v4 purchase
		// from a log of an earlier Eddy, whose events do not say their
		// model, finished under v3): the sale still needs an event of the
		// service's own, with its numbers, or a restore would not know
		// of it. Nothing waits for this one.
		outs = append(outs, events.Out{Type: events.TicketsPaymentsAuthorized, ID: "authorized-" + r.ReservationID, SessionID: r.SessionID, Data: d})
	}
	// One request: the two are durable together before the sale counts.
	if err := s.pub.Emit(ctx, outs...); err != nil {
		return err
	}
	s.mu.Lock()
	r.status = Sold
	s.held -= r.TicketsQuantity
	s.sold += r.TicketsQuantity
	s.mu.Unlock()
	return nil
}

// Run releases the holds that ran out, until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.cfg.Now()
		var due []*reservation
		s.mu.Lock()
		for _, r := range s.byID {
			if r.status == Held && !now.Before(r.expires) {
				due = append(due, r)
			}
		}
		s.mu.Unlock()
		for _, r := range due {
			r.mu.Lock()
			err := s.releaseLocked(ctx, r, "the hold ran out", false)
			r.mu.Unlock()
			if err != nil && ctx.Err() == nil {
				s.log.Warn("tickets: releasing an expired hold failed; trying again", "reservation", r.ReservationID, "error", err)
			}
		}
	}
}

func newID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
