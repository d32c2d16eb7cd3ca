package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/queue"
	"eddy/examples/tickets/internal/tickets"
)

// TestRestartKeepsTheSale: the example started again on an earlier run's
// data directory takes up where it was. Its services rebuild their state
// from the log: the tickets sold stay sold with their numbers, the held
// ones stay held, a customer who left the queue does not join it again,
// and a payment that was under way when the example stopped is completed.
// Before, the services started afresh and the tickets sold before were on
// sale again.
func TestRestartKeepsTheSale(t *testing.T) {
	dir := t.TempDir()
	first := startTest(t, config{Model: "v1", Dir: dir, Stock: 10, PaymentDelay: 2 * time.Second})
	l := newLedger()
	paid := &customer{t: t, a: first, l: l, session: "s-paid"}
	paidView := paid.buy(2)
	l.waitEvent(t, first, paid.session, events.TicketsEmitted)
	sold, err := first.tickets.Reservation(paidView.ReservationID)
	if err != nil || sold.Status != tickets.Sold || len(sold.Tickets) != 2 {
		t.Fatalf("the first sale: %+v, %v", sold, err)
	}
	paying := &customer{t: t, a: first, l: l, session: "s-paying"}
	payingView := paying.buy(3)
	l.waitEvent(t, first, paying.session, events.PaymentsRequestReceived)
	holding := &customer{t: t, a: first, l: l, session: "s-holding"}
	holding.join()
	held := holding.reserve(1, "vip")
	first.close() // the payment under way is 2 s from its authorization

	second := startTest(t, config{Model: "v1", Dir: dir, Stock: 10, PaymentDelay: 50 * time.Millisecond})
	if st := second.tickets.Stock(); st.Sold < 2 || st.Sold+st.Held != 6 || st.Available != 4 {
		t.Errorf("the stock after the restart: %+v; want 2 sold (5 once the payment under way is done), 6 sold or held, 4 available", st)
	}
	if v, err := second.tickets.Reservation(paidView.ReservationID); err != nil || v.Status != tickets.Sold || !slices.Equal(v.Tickets, sold.Tickets) {
		t.Errorf("the sold reservation after the restart: %+v, %v; want it sold with tickets %v", v, err, sold.Tickets)
	}
	if v, err := second.tickets.Reservation(held.ReservationID); err != nil || v.Status != tickets.Held {
		t.Errorf("the held reservation after the restart: %+v, %v; want it held", v, err)
	}
	var again queue.Status
	if st := call(t, second, "POST", "/queue/join", map[string]string{"sessionId": paid.session}, &again); st != http.StatusOK || again.State != queue.Exited {
		t.Errorf("joining again after the restart: status %d, %+v; want the customer's state, exited", st, again)
	}

	l2 := newLedger()
	l2.waitFor(t, second, "the payment under way to be completed", func() bool { return second.tickets.Stock().Sold == 5 })
	latecomer := &customer{t: t, a: second, l: l2, session: "s-late"}
	v := latecomer.buy(1)
	l2.waitEvent(t, second, latecomer.session, events.TicketsEmitted)
	numbers := map[string]string{}
	for _, id := range []string{paidView.ReservationID, payingView.ReservationID, v.ReservationID} {
		r, err := second.tickets.Reservation(id)
		if err != nil || r.Status != tickets.Sold {
			t.Fatalf("reservation %s: %+v, %v; want sold", id, r, err)
		}
		for _, n := range r.Tickets {
			if other, dup := numbers[n]; dup {
				t.Errorf("ticket %s sold to reservations %s and %s", n, other, id)
			}
			numbers[n] = id
		}
	}
	if st := second.tickets.Stock(); st.Sold != 6 || st.Held != 1 || st.Available != 3 {
		t.Errorf("the stock at the end: %+v; want 6 sold, 1 held, 3 available", st)
	}
	if n := l2.types(paid.session)[events.QueueCustomerJoined]; n != 1 {
		t.Errorf("%s joined the queue %d times on the log, want once", paid.session, n)
	}
}

// buy joins the queue, reserves quantity general tickets and starts paying.
func (c *customer) buy(quantity int) tickets.View {
	c.t.Helper()
	c.join()
	v := c.reserve(quantity, "general")
	if st := c.pay(v); st != http.StatusOK {
		c.t.Fatalf("pay: status %d", st)
	}
	return v
}
