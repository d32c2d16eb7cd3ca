package tickets

import (
	"context"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
)

// The handlers of the events the service's triggers deliver.

// onExited admits a customer who left the queue.
func (s *Service) onExited(_ context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var d events.Customer
	if err := decodeSession(e, &d, &d.SessionID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admitted[d.SessionID] = d.Model
	if ch, ok := s.admission[d.SessionID]; ok {
		close(ch)
		delete(s.admission, d.SessionID)
	}
	return nil, nil
}

// onLeft releases the held reservation of a customer who abandoned (or
// whose session v3 cleaned up) and takes back the admission.
func (s *Service) onLeft(ctx context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var d events.Customer
	if err := decodeSession(e, &d, &d.SessionID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.admitted, d.SessionID)
	s.left[d.SessionID] = true
	if ch, ok := s.admission[d.SessionID]; ok {
		close(ch) // a reservation waiting for the exit hears it never comes
		delete(s.admission, d.SessionID)
	}
	r := s.bySession[d.SessionID]
	s.mu.Unlock()
	if r == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return nil, s.releaseLocked(ctx, r, "the customer left ("+e.Type+")", true)
}

// onTimedOut releases a reservation whose payment the model stopped
// waiting for (v2-v4's interrupting timer), even if a payment started in
// the meantime: the model has ended the purchase, so the payment will be
// refused. The event's data are the process variables.
func (s *Service) onTimedOut(ctx context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var d events.Reservation
	if err := decodeSession(e, &d, &d.ReservationID); err != nil {
		return nil, err
	}
	r, err := s.lookup(e, d.ReservationID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return nil, s.releaseLocked(ctx, r, "the reservation timed out", true)
}

// onPaid sells the reservation a payment (Payments.Authorized) or a money
// transfer (MoneyTransfer.Accepted) paid for.
func (s *Service) onPaid(ctx context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var p events.Payment
	if err := decodeSession(e, &p, &p.ReservationID); err != nil {
		return nil, err
	}
	if e.Type == events.MoneyTransferAccepted {
		p.Method = "transfer"
	}
	r, err := s.lookup(e, p.ReservationID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return nil, s.sellLocked(ctx, r, p)
}

func (s *Service) lookup(e *cloudevents.Event, id string) (*reservation, error) {
	s.mu.Lock()
	r := s.byID[id]
	s.mu.Unlock()
	if r == nil {
		return nil, events.Malformed("event %s %s names reservation %q, which this service does not hold", e.Type, e.ID, id)
	}
	return r, nil
}

// decodeSession decodes e's data into v and checks that the field key
// points to is set.
func decodeSession(e *cloudevents.Event, v any, key *string) error {
	if err := events.DecodeData(e, v); err != nil {
		return err
	}
	if *key == "" {
		return events.Malformed("event %s %s from %s: its data lacks the id the service needs (sessionId or reservationId)", e.Type, e.ID, e.Source)
	}
	return nil
}
