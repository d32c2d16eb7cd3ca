package payments

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/eventsink"
)

func newService(t *testing.T) (*Service, *eventsink.Sink) {
	t.Helper()
	sink := eventsink.New(t)
	s := New(events.NewPublisher(sink.URL, "/test/payments", nil), Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(s.Close)
	return s, sink
}

// TestPayments takes a card payment and a transfer, each delivered twice,
// and checks that each is one payment, acknowledged then authorized with
// the correlation key its model waits on.
func TestPayments(t *testing.T) {
	cases := []struct {
		request, authorized, correlationKey string
	}{
		{events.TicketsPaymentRequested, events.PaymentsAuthorized, ""},
		{events.TicketsMoneyTransferRequested, events.MoneyTransferAccepted, "s1"},
	}
	for _, tc := range cases {
		t.Run(tc.request, func(t *testing.T) {
			s, sink := newService(t)
			r := events.Reservation{SessionID: "s1", ReservationID: "r-1", TicketsQuantity: 2, Amount: 100}
			for range 2 {
				if code, _ := eventsink.Deliver(t, s.Events(), tc.request, "req-1", r); code != http.StatusAccepted {
					t.Fatalf("status %d", code)
				}
			}
			auth := sink.Await(t, tc.authorized, 1)
			if n := len(sink.OfType(events.PaymentsRequestReceived)); n != 1 {
				t.Errorf("%d Payments.RequestReceived", n)
			}
			var p events.Payment
			if err := events.DecodeData(&auth[0], &p); err != nil || p.PaymentID != "p-r-1" || p.ReservationID != "r-1" || p.Status != Authorized {
				t.Errorf("authorization %+v %v", p, err)
			}
			ck, _ := auth[0].Extension(events.ExtCorrelationKey)
			if ck.Text != tc.correlationKey {
				t.Errorf("correlation key %q, want %q", ck.Text, tc.correlationKey)
			}
			eventsink.Eventually(t, "the payment authorized", func() bool {
				p, _ := s.Payment("p-r-1")
				return p.Status == Authorized
			})
			if len(sink.OfType(tc.authorized)) != 1 {
				t.Errorf("authorized twice")
			}
		})
	}
}

// TestRefund refunds a payment the tickets service refused, and checks the
// API a customer would poll.
func TestRefund(t *testing.T) {
	s, sink := newService(t)
	r := events.Reservation{SessionID: "s1", ReservationID: "r-1", Amount: 100}
	eventsink.Deliver(t, s.Events(), events.TicketsPaymentRequested, "req-1", r)
	sink.Await(t, events.PaymentsAuthorized, 1)
	if code, _ := eventsink.Deliver(t, s.Events(), events.TicketsPaymentRefused, "refused-1", r); code != http.StatusAccepted {
		t.Fatalf("refused: status %d", code)
	}
	sink.Await(t, events.PaymentsRefunded, 1)
	// A redelivery of the refusal, as after the broker's duplicate window,
	// where the refund's own id would no longer be recognised: the refund
	// is not posted again.
	posted := sink.Requests()
	if code, _ := eventsink.Deliver(t, s.Events(), events.TicketsPaymentRefused, "refused-1-again", r); code != http.StatusAccepted {
		t.Fatalf("refused again: status %d", code)
	}
	if n := sink.Requests() - posted; n != 0 {
		t.Fatalf("the refund was posted %d more times for one payment, want none", n)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/payments/p-r-1")
	if err != nil {
		t.Fatal(err)
	}
	var p events.Payment
	_ = json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != 200 || p.Status != Refunded {
		t.Errorf("check: %d %+v", resp.StatusCode, p)
	}
	if resp, _ := http.Get(srv.URL + "/payments/p-nope"); resp.StatusCode != 404 {
		t.Errorf("unknown payment: %d", resp.StatusCode)
	}
	bad := []struct {
		typ  string
		data any
	}{
		{events.TicketsPaymentRequested, events.Reservation{ReservationID: "r-2"}},
		{events.TicketsPaymentRefused, events.Reservation{ReservationID: "r-unknown"}},
	}
	for _, b := range bad {
		if code, _ := eventsink.Deliver(t, s.Events(), b.typ, "bad", b.data); code != http.StatusBadRequest {
			t.Errorf("%s %+v: status %d, want 400", b.typ, b.data, code)
		}
	}
}
