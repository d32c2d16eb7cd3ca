package tickets

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
)

// The service's state is the history of the events it emitted and took,
// all on Eddy's log: at start, before it serves anything, the service is
// handed that history (Restore, one event at a time, then Restored) and
// takes up where it was, so that a restart neither forgets a sale nor puts
// sold tickets on sale again.
//
// The events of a reservation may sit on different partitions of the log,
// which a replay reads in order only within each, so each event moves a
// reservation forward and never back: held, then paying, then released
// or sold. The live service never does both, but an emission whose
// outcome was unknown may have landed all the same: sold wins then, since
// the money was taken and the tickets emitted.

// rank orders the states a reservation goes through.
func rank(s Status) int {
	switch s {
	case Held:
		return 0
	case Paying:
		return 1
	case Released:
		return 2
	}
	return 3 // sold
}

// Restore applies one event of the log's history; events that do not
// concern the service are ignored. The service must not serve yet.
func (s *Service) Restore(e *cloudevents.Event) error {
	switch e.Type {
	case events.QueueCustomerExited, events.QueueCustomerAbandoned, events.SessionCleanUp:
		var d events.Customer
		if err := decodeSession(e, &d, &d.SessionID); err != nil {
			return err
		}
		s.mu.Lock()
		if e.Type == events.QueueCustomerExited {
			s.admitted[d.SessionID] = d.Model
		} else {
			s.left[d.SessionID] = true
		}
		s.mu.Unlock()
		return nil
	}
	if e.Source != s.pub.Source() {
		return nil // v3's model emits Tickets.Emitted too: its sale is the service's own event
	}
	var st Status
	switch e.Type {
	case events.TicketsReserved:
		st = Held
	case events.TicketsPaymentRequested, events.TicketsMoneyTransferRequested:
		st = Paying
	case events.TicketsPaymentsAuthorized, events.TicketsEmitted:
		st = Sold
	case events.TicketsReleased:
		st = Released
	default:
		return nil
	}
	var d events.Reservation
	if err := decodeSession(e, &d, &d.ReservationID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byID[d.ReservationID]
	if r == nil {
		r = &reservation{status: st}
		s.byID[d.ReservationID] = r
		if expires, err := time.Parse(time.RFC3339Nano, d.ExpiresAt); err == nil {
			r.expires = expires
		}
	} else if rank(st) > rank(r.status) {
		r.status = st
	}
	// Each event carries the reservation; only a release says its reason,
	// and only a sale its ticket numbers.
	kept := r.Reservation
	r.Reservation = d
	r.Reason, r.Tickets = kept.Reason, kept.Tickets
	if st == Released {
		r.Reason = d.Reason
	}
	if len(d.Tickets) > 0 {
		r.Tickets = d.Tickets
		for _, t := range d.Tickets {
			if n, err := strconv.Atoi(strings.TrimPrefix(t, "T-")); err == nil {
				s.ticketSeq = max(s.ticketSeq, n)
			}
		}
	}
	return nil
}

// later reports whether r is a session's latest reservation rather than
// o: a session holds one live reservation at a time, so one not released
// is the latest; between two released ones, the later to expire.
func later(r, o *reservation) bool {
	if (r.status == Released) != (o.status == Released) {
		return o.status == Released
	}
	return r.expires.After(o.expires)
}

// Restored ends a replay: it counts the stock from the reservations, and
// takes back the admission of the customers who left. It returns an error
// when the history sold or holds more tickets than the stock this run was
// given: the service cannot run so (the tickets held would come back on
// sale beyond the stock), and the error says the stock it needs.
func (s *Service) Restored() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for session := range s.left {
		delete(s.admitted, session)
	}
	s.held, s.sold = 0, 0
	for _, r := range s.byID {
		if o := s.bySession[r.SessionID]; o == nil || later(r, o) {
			s.bySession[r.SessionID] = r
		}
		switch r.status {
		case Held, Paying:
			s.held += r.TicketsQuantity
		case Sold:
			s.sold += r.TicketsQuantity
		}
	}
	s.available = s.cfg.Stock - s.held - s.sold
	if s.available < 0 {
		s.available = 0
		return fmt.Errorf("the log holds %s sold and %d held, more than the stock of %d: start with a stock of %d or more", Count(s.sold), s.held, s.cfg.Stock, s.sold+s.held)
	}
	return nil
}
