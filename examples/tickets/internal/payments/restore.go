package payments

import (
	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
)

// The payments' state is the history of the service's events on Eddy's
// log: at start, before it serves anything, the service is handed that
// history (Restore, one event at a time, then Restored), so that a restart
// neither takes a payment twice nor forgets one under way. A replay reads
// the log in order only within each partition, so each event moves a
// payment forward and never back: received, authorized, refunded.

// paymentRank orders the states a payment goes through.
func paymentRank(status string) int {
	switch status {
	case Received:
		return 0
	case Authorized:
		return 1
	}
	return 2 // refunded
}

// Restore applies one event of the log's history; events the service did
// not emit are ignored. The service must not serve yet.
func (s *Service) Restore(e *cloudevents.Event) error {
	if e.Source != s.pub.Source() {
		return nil
	}
	var status string
	switch e.Type {
	case events.PaymentsRequestReceived:
		status = Received
	case events.PaymentsAuthorized, events.MoneyTransferAccepted:
		status = Authorized
	case events.PaymentsRefunded:
		status = Refunded
	default:
		return nil
	}
	var p events.Payment
	if err := events.DecodeData(e, &p); err != nil {
		return err
	}
	if p.PaymentID == "" {
		return events.Malformed("event %s %s: no paymentId in its data", e.Type, e.ID)
	}
	p.Status = status
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.payments[p.PaymentID]; q == nil || paymentRank(status) > paymentRank(q.Status) {
		s.payments[p.PaymentID] = &p
	}
	return nil
}

// Restored ends a replay: the payments received but not yet authorized
// are authorized after the delay, as if just received.
func (s *Service) Restored() {
	s.mu.Lock()
	var pending []events.Payment
	for _, p := range s.payments {
		if p.Status == Received {
			pending = append(pending, *p)
		}
	}
	s.mu.Unlock()
	for _, p := range pending {
		s.wg.Add(1)
		go s.authorize(p)
	}
}
