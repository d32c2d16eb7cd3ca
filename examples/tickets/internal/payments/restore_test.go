package payments

import (
	"fmt"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/eventsink"
)

// TestRestore: a replay of the service's history, read in either order,
// leaves each payment in the furthest state its events say; a payment
// received but not authorized before the stop is authorized after the
// delay, once; one authorized or refunded is not announced again; and
// other services' events are not taken for its own.
func TestRestore(t *testing.T) {
	pay := func(id, method string) events.Payment {
		return events.Payment{PaymentID: id, SessionID: "s-" + id, ReservationID: "r-" + id, Amount: 50, Method: method}
	}
	type entry struct {
		source, typ string
		p           events.Payment
	}
	const own = "/test/payments"
	history := []entry{
		{own, events.PaymentsRequestReceived, pay("p-pending", "card")},
		{own, events.PaymentsRequestReceived, pay("p-transfer", "transfer")},
		{own, events.PaymentsRequestReceived, pay("p-done", "card")},
		{own, events.PaymentsAuthorized, pay("p-done", "card")},
		{own, events.PaymentsRequestReceived, pay("p-refunded", "card")},
		{own, events.PaymentsAuthorized, pay("p-refunded", "card")},
		{own, events.PaymentsRefunded, pay("p-refunded", "card")},
		{"/test/elsewhere", events.PaymentsRequestReceived, pay("p-stranger", "card")},
	}
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprint("reversed ", reverse), func(t *testing.T) {
			s, sink := newService(t)
			for i := range history {
				h := history[i]
				if reverse {
					h = history[len(history)-1-i]
				}
				e, err := events.Build(h.source, time.Now(), events.Out{Type: h.typ, ID: fmt.Sprint(i), Data: h.p})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Restore(&e); err != nil {
					t.Fatal(err)
				}
			}
			s.Restored()
			sink.Await(t, events.PaymentsAuthorized, 1)
			sink.Await(t, events.MoneyTransferAccepted, 1)
			for id, want := range map[string]string{"p-pending": Authorized, "p-transfer": Authorized, "p-done": Authorized, "p-refunded": Refunded} {
				var got events.Payment
				eventsink.Eventually(t, id+" "+want, func() bool { got, _ = s.Payment(id); return got.Status == want })
			}
			if _, ok := s.Payment("p-stranger"); ok {
				t.Error("another source's event was taken for a payment of the service")
			}
			s.Close()
			for _, typ := range []string{events.PaymentsAuthorized, events.MoneyTransferAccepted} {
				if got := sink.OfType(typ); len(got) != 1 || !authorizes(got[0], "p-pending", "p-transfer") {
					t.Errorf("%s announced %d times (%v); want once, for the payment under way", typ, len(got), got)
				}
			}
		})
	}
}

func authorizes(e cloudevents.Event, ids ...string) bool {
	var p events.Payment
	if events.DecodeData(&e, &p) != nil {
		return false
	}
	for _, id := range ids {
		if p.PaymentID == id {
			return true
		}
	}
	return false
}
