package tickets

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/eventsink"
)

// history builds the events of the log's history, from the service's own
// source unless the type is another service's.
func history(t *testing.T, source string, outs ...events.Out) []*cloudevents.Event {
	t.Helper()
	var evs []*cloudevents.Event
	for _, o := range outs {
		e, err := events.Build(source, time.Now(), o)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, &e)
	}
	return evs
}

// TestRestoreInAnyOrder: whichever order a replay reads a reservation's
// events in (they may sit on different partitions), the service ends with
// the state the last of them says, counts that add up, and ticket numbers
// that go on after the ones sold.
func TestRestoreInAnyOrder(t *testing.T) {
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	res := func(id, session string, n int, tickets ...string) events.Reservation {
		return events.Reservation{SessionID: session, ReservationID: id, TicketsQuantity: n, TicketsType: "general", Amount: 50 * n, ExpiresAt: expires, Tickets: tickets}
	}
	own := []events.Out{
		{Type: events.TicketsReserved, ID: "1", Data: res("r-sold", "a", 2)},
		{Type: events.TicketsPaymentRequested, ID: "2", Data: res("r-sold", "a", 2)},
		{Type: events.TicketsPaymentsAuthorized, ID: "3", Data: res("r-sold", "a", 2, "T-000007", "T-000008")},
		{Type: events.TicketsReserved, ID: "4", Data: res("r-gone", "b", 3)},
		{Type: events.TicketsReleased, ID: "5", Data: res("r-gone", "b", 3)},
		{Type: events.TicketsReserved, ID: "6", Data: res("r-paying", "c", 4)},
		{Type: events.TicketsPaymentRequested, ID: "7", Data: res("r-paying", "c", 4)},
		{Type: events.TicketsReserved, ID: "8", Data: res("r-held", "d", 1)},
		// A release whose outcome was unknown landed, and the sale after
		// it too: sold wins, whatever the order.
		{Type: events.TicketsReserved, ID: "13", Data: res("r-both", "f", 1)},
		{Type: events.TicketsReleased, ID: "14", Data: res("r-both", "f", 1)},
		{Type: events.TicketsPaymentsAuthorized, ID: "15", Data: res("r-both", "f", 1, "T-000003")},
		// Session d's earlier reservation, released in the same second
		// its latest was made: the latest is the one not released.
		{Type: events.TicketsReserved, ID: "16", Data: res("r-old", "d", 2)},
		{Type: events.TicketsReleased, ID: "17", Data: res("r-old", "d", 2)},
	}
	queue := []events.Out{
		{Type: events.QueueCustomerExited, ID: "9", Data: events.Customer{SessionID: "a"}},
		{Type: events.QueueCustomerExited, ID: "10", Data: events.Customer{SessionID: "e"}},
		{Type: events.QueueCustomerAbandoned, ID: "11", Data: events.Customer{SessionID: "e"}},
	}
	// v3's model emits Tickets.Emitted too: not the service's own event.
	model := []events.Out{{Type: events.TicketsEmitted, ID: "12", Data: res("r-held", "d", 1, "T-000099")}}
	all := append(append(history(t, "/test/tickets", own...), history(t, "/test/queue", queue...)...), history(t, "/test/engine", model...)...)
	for i, evs := range orders(all, 30) {
		t.Run(fmt.Sprintf("order %d", i), func(t *testing.T) {
			s, _ := newService(t, Config{Stock: 20})
			for _, e := range evs {
				if err := s.Restore(e); err != nil {
					t.Fatalf("%s %s: %v", e.Type, e.ID, err)
				}
			}
			if err := s.Restored(); err != nil {
				t.Fatal(err)
			}
			if st := checkStock(t, s); st.Sold != 3 || st.Held != 5 || st.Available != 12 {
				t.Errorf("stock %+v; want 3 sold, 5 held (paying and held), 12 available", st)
			}
			if r := s.bySession["d"]; r == nil || r.ReservationID != "r-held" {
				t.Errorf("session d's latest reservation: %+v, want r-held (r-old was released)", r)
			}
			for id, want := range map[string]Status{"r-sold": Sold, "r-gone": Released, "r-paying": Paying, "r-held": Held, "r-both": Sold, "r-old": Released} {
				if v, err := s.Reservation(id); err != nil || v.Status != want {
					t.Errorf("%s: %+v, %v; want %s", id, v, err, want)
				}
			}
			if _, a := s.admitted["a"]; !a {
				t.Errorf("admitted %v; want a", s.admitted)
			}
			if _, e := s.admitted["e"]; e {
				t.Errorf("admitted %v; want not e (who left)", s.admitted)
			}
			if s.ticketSeq != 8 {
				t.Errorf("the next ticket number follows %d, want 8", s.ticketSeq)
			}
		})
	}
}

// orders returns evs in order, reversed, and in n shuffled orders (a fixed
// seed: a failure shows again).
func orders(evs []*cloudevents.Event, n int) [][]*cloudevents.Event {
	out := [][]*cloudevents.Event{evs, slices.Clone(evs)}
	slices.Reverse(out[1])
	rng := rand.New(rand.NewPCG(7, 22))
	for range n {
		o := slices.Clone(evs)
		rng.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
		out = append(out, o)
	}
	return out
}

// TestRestoreBeyondTheStock: a history that holds more than this run's
// stock is refused, saying the stock it needs, and nothing is on sale.
func TestRestoreBeyondTheStock(t *testing.T) {
	s, _ := newService(t, Config{Stock: 1})
	data, _ := json.Marshal(events.Reservation{SessionID: "a", ReservationID: "r", TicketsQuantity: 2, TicketsType: "general"})
	e := &cloudevents.Event{ID: "1", Source: "/test/tickets", SpecVersion: "1.0", Type: events.TicketsReserved, Data: data}
	if err := s.Restore(e); err != nil {
		t.Fatal(err)
	}
	if err := s.Restored(); err == nil || !strings.Contains(err.Error(), "start with a stock of 2 or more") {
		t.Errorf("a history beyond the stock restored with %v; want an error saying the stock it needs", err)
	}
	if st := s.Stock(); st.Available != 0 || st.Held != 2 {
		t.Errorf("stock %+v; want 2 held and none available", st)
	}
}

// TestTransferSaleWithoutTicketsEventIsKept: a sale by transfer where the
// model emits the tickets (a v4 purchase finished under v3) still leaves
// an event of the service's own with the numbers, and a restore from the
// service's events has it sold. Before, such a sale emitted nothing, and
// a restart put it back to paying and handed its numbers out again.
func TestTransferSaleWithoutTicketsEventIsKept(t *testing.T) {
	ctx := context.Background()
	s, sink := newService(t, underOneModel(Config{Stock: 20}, Rules{TransferFrom: 10}))
	admit(t, s, "a")
	v, err := s.Reserve(ctx, "a", 12, "general")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pay(ctx, "a", v.ReservationID); err != nil {
		t.Fatal(err)
	}
	paid := events.Payment{PaymentID: "p-" + v.ReservationID, SessionID: "a", ReservationID: v.ReservationID, Amount: v.Amount, Method: "transfer"}
	if code, _ := eventsink.Deliver(t, s.Events(), events.MoneyTransferAccepted, "accepted-1", paid); code != http.StatusAccepted {
		t.Fatalf("MoneyTransfer.Accepted: status %d", code)
	}
	sold, _ := s.Reservation(v.ReservationID)
	if sold.Status != Sold || len(sold.Tickets) != 12 {
		t.Fatalf("after the transfer: %+v", sold)
	}

	again, _ := newService(t, underOneModel(Config{Stock: 20}, Rules{TransferFrom: 10}))
	for _, e := range sink.Events() {
		if err := again.Restore(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := again.Restored(); err != nil {
		t.Fatal(err)
	}
	if got, err := again.Reservation(v.ReservationID); err != nil || got.Status != Sold || !slices.Equal(got.Tickets, sold.Tickets) {
		t.Errorf("restored: %+v, %v; want sold with %v", got, err, sold.Tickets)
	}
	if st := again.Stock(); st.Sold != 12 || st.Available != 8 {
		t.Errorf("restored stock %+v; want 12 sold, 8 available", st)
	}
	// The hold's end comes back to the nanosecond (it was cut to the
	// second, so a restored hold ran out up to a second early).
	if was, got := s.byID[v.ReservationID].expires, again.byID[v.ReservationID].expires; !got.Equal(was) {
		t.Errorf("restored expiry %v, want %v", got, was)
	}
}
