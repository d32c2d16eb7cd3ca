package main

import (
	"net/http"
	"slices"
	"testing"

	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/tickets"
)

// customer is one buyer going through the example's HTTP APIs, as the page
// does.
type customer struct {
	t       testing.TB
	a       *app
	l       *ledger
	session string
}

func (c *customer) join() {
	c.t.Helper()
	if st := call(c.t, c.a, "POST", "/queue/join", map[string]string{"sessionId": c.session}, nil); st != http.StatusOK {
		c.t.Fatalf("join: status %d", st)
	}
}

// reserve waits until the customer is out of the queue, then reserves.
func (c *customer) reserve(quantity int, typ string) tickets.View {
	c.t.Helper()
	c.l.waitEvent(c.t, c.a, c.session, events.QueueCustomerExited)
	var v tickets.View
	body := map[string]any{"sessionId": c.session, "ticketsQuantity": quantity, "ticketsType": typ}
	if st := call(c.t, c.a, "POST", "/tickets/reservations", body, &v); st != http.StatusOK {
		c.t.Fatalf("reserve: status %d", st)
	}
	if v.Status != tickets.Held || v.TicketsQuantity != quantity || v.SessionID != c.session {
		c.t.Fatalf("reserve: got %+v", v)
	}
	return v
}

func (c *customer) pay(v tickets.View) int {
	c.t.Helper()
	return call(c.t, c.a, "POST", "/tickets/reservations/"+v.ReservationID+"/payment", map[string]string{"sessionId": c.session}, nil)
}

// Events every purchase shows, whatever the model.
var cardPurchase = map[string]int{
	events.QueueCustomerJoined:       1,
	events.QueueCustomerExited:       1,
	events.TicketsReserved:           1,
	events.TicketsPaymentRequested:   1,
	events.PaymentsRequestReceived:   1,
	events.PaymentsAuthorized:        1,
	events.TicketsPaymentsAuthorized: 1,
	events.TicketsEmitted:            1,
}

func with(base map[string]int, more map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range more {
		if v == 0 {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// TestPurchaseThroughEachModel buys tickets under each model version, end
// to end: the customer joins the queue, leaves it, reserves, pays, and gets
// the tickets; the events on the log and the path of the process instance
// show each model's part.
func TestPurchaseThroughEachModel(t *testing.T) {
	cases := []struct {
		name, model string
		quantity    int
		// events about the session, by type, exactly.
		events map[string]int
		// path is a subsequence of the elements the instance completed;
		// end is the end event it reached.
		path []string
		end  string
	}{
		{
			name: "v1 observes", model: "v1", quantity: 2, events: cardPurchase,
			path: []string{"StartEvent_1", "Activity_05megik", "Activity_1qqr2bj", "Activity_1pbxlqk", "Activity_0p0qutd"},
			end:  "Event_0y9tphm",
		},
		{
			name: "v2 with timers", model: "v2", quantity: 3, events: cardPurchase,
			path: []string{"Event_0jpp9tr", "Activity_0w3e1p8", "Activity_0e3bbyt", "Activity_0x1u8c5", "Activity_0vrn3yu"},
			end:  "Event_0qczi3x",
		},
		{
			// v3 books a follow-up and emits the tickets itself; the
			// front end's notifier tells the browser of both.
			name: "v3 orchestrates", model: "v3", quantity: 4,
			events: with(cardPurchase, map[string]int{events.CustomerFollowUpBooked: 1, events.NotificationsRequested: 2}),
			path:   []string{"Event_12583m9", "Activity_1a3zgtc", "Activity_1uqxy1n", "Activity_0bkjy3q", "Activity_0nh4mdv", "Activity_17uj0b6", "Activity_0bfem6c", "Event_1yzu0ii", "Activity_0uir0bf"},
			end:    "Event_1r97kjj",
		},
		{
			name: "v4 small order", model: "v4", quantity: 9, events: cardPurchase,
			path: []string{"Event_1am8qa2", "Activity_0myg5d8", "Activity_0nzh2ra", "Gateway_0541qfn", "Activity_1qktir3", "Activity_0rehkgg"},
			end:  "Event_1l0ufzi",
		},
		{
			// Ten tickets or more: v4's gateway waits for a money transfer.
			name: "v4 large order", model: "v4", quantity: 10,
			events: with(cardPurchase, map[string]int{
				events.TicketsPaymentRequested: 0, events.PaymentsAuthorized: 0, events.TicketsPaymentsAuthorized: 0,
				events.TicketsMoneyTransferRequested: 1, events.MoneyTransferAccepted: 1,
			}),
			path: []string{"Event_1am8qa2", "Activity_0myg5d8", "Activity_0nzh2ra", "Gateway_0541qfn", "Activity_0penvj4"},
			end:  "Event_012ngl9",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := startTest(t, config{Model: tc.model, Stock: 50})
			l := newLedger()
			c := &customer{t: t, a: a, l: l, session: "buyer-" + tc.model}
			c.join()
			v := c.reserve(tc.quantity, "vip")
			if st := c.pay(v); st != http.StatusOK {
				t.Fatalf("pay: status %d", st)
			}
			in := l.waitEnded(t, a, c.session)
			if !inOrder(in.completed, tc.path) || !slices.Contains(in.completed, tc.end) {
				t.Errorf("the instance completed %v; want %v in that order, then %s", in.completed, tc.path, tc.end)
			}
			// The instance may end before the last events (the service
			// emits Tickets.Emitted after the model's last message) and
			// before the stock moves: wait for them.
			var got map[string]int
			ok := l.settle(t, a, func() bool {
				got = l.types(c.session)
				// A slow machine may let v2-v4's 10 s reminder fire
				// before the payment, with its notification: allowed,
				// not required.
				if n := got[events.TicketsReservation1MExpired]; n > 0 {
					delete(got, events.TicketsReservation1MExpired)
					got[events.NotificationsRequested] -= n
				}
				return mapsEqual(got, tc.events)
			})
			if !ok {
				t.Errorf("events about the purchase:\n got %v\nwant %v", got, tc.events)
			}
			var s tickets.Stock
			ok = l.settle(t, a, func() bool {
				s = a.tickets.Stock()
				return s.Sold == tc.quantity
			})
			if !ok || s.Held != 0 || s.Available != 50-tc.quantity {
				t.Errorf("stock after the purchase: %+v", s)
			}
			if len(l.incidents) > 0 {
				t.Errorf("incidents: %v", l.incidents)
			}
		})
	}
}

// inOrder reports whether want is a subsequence of got.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// mapsEqual compares counts; a missing key counts 0.
func mapsEqual(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
