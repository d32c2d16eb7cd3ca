package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
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
	// The service counts the sale once its events are durable: after
	// they are on the log.
	l.waitFor(t, first, "the first sale", func() bool { return first.tickets.Stock().Sold == 2 })
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
	l2.waitFor(t, second, "the latecomer's sale", func() bool { return second.tickets.Stock().Sold == 6 })
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

// TestStartRefusesWhatItCannotRun: started again on an earlier run's data
// with a stock below what that run sold and holds, or with another count of
// partitions, the example does not start, and says why (before, the first
// ran with the stock exceeded, and the second panicked).
func TestStartRefusesWhatItCannotRun(t *testing.T) {
	dir := t.TempDir()
	first := startTest(t, config{Model: "v1", Dir: dir, Stock: 10})
	c := &customer{t: t, a: first, l: newLedger(), session: "s-holding"}
	c.join()
	c.reserve(4, "general")
	first.close()
	for _, tc := range []struct {
		name string
		cfg  config
		says string
	}{
		{"a smaller stock", config{Stock: 3}, "start with a stock of 4 or more"},
		{"other partitions", config{Stock: 10, Partitions: 4}, "holds 2 partitions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Model, cfg.Dir, cfg.Addr = "v1", dir, "127.0.0.1:0"
			var logged lockedBuffer
			cfg.Logger = slog.New(slog.NewTextHandler(&logged, nil))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			a, err := start(ctx, cfg)
			if err == nil {
				a.close()
				t.Fatal("the example started")
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("refused with %q, want it to say %q", err, tc.says)
			}
			// The refusal is all that is said: no error of the HTTP
			// server it stopped (it logged 'serving HTTP failed ... use
			// of closed network connection').
			if strings.Contains(logged.String(), "level=ERROR") {
				t.Errorf("a refused start logged an error:\n%s", logged.String())
			}
		})
	}
}

// lockedBuffer is a log destination the app's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestModelChangeIsTold: started again on an earlier run's data with
// another model, the example warns that the purchases begun before go on
// under the earlier model; with the same model it says nothing of it.
func TestModelChangeIsTold(t *testing.T) {
	dir := t.TempDir()
	for run, tc := range []struct {
		model string
		told  bool
	}{{"v4", false}, {"v4", false}, {"v3", true}} {
		var logs lockedBuffer
		a := startTest(t, config{Model: tc.model, Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		a.close()
		if told := strings.Contains(logs.String(), "deployed another model"); told != tc.told {
			t.Fatalf("run %d (%s): told of a model change: %v, want %v\n%s", run+1, tc.model, told, tc.told, logs.String())
		}
		if tc.told && !strings.Contains(logs.String(), "earlier=v4 now=v3") {
			t.Errorf("the warning does not name both models:\n%s", logs.String())
		}
	}
}

// TestPurchaseGoesOnUnderItsModel: a customer who joined under v1 and pays
// after the example was started again under v3 gets the tickets of a v1
// purchase, emitted once by the tickets service (its v1 instance does not
// emit them), while a customer who joins under v3 gets them once, from the
// model. Before, the service followed the model deployed, and the v1
// purchase got no Tickets.Emitted at all.
func TestPurchaseGoesOnUnderItsModel(t *testing.T) {
	dir := t.TempDir()
	first := startTest(t, config{Model: "v1", Dir: dir, Stock: 10, PaymentDelay: 50 * time.Millisecond})
	early := &customer{t: t, a: first, l: newLedger(), session: "s-v1"}
	early.join()
	held := early.reserve(2, "general")
	if held.Model != "v1" {
		t.Errorf("the reservation under v1 says model %q", held.Model)
	}
	first.close()

	second := startTest(t, config{Model: "v3", Dir: dir, Stock: 10, PaymentDelay: 50 * time.Millisecond})
	l := newLedger()
	early.a, early.l = second, l
	if st := early.pay(held); st != http.StatusOK {
		t.Fatalf("paying the v1 reservation under v3: status %d", st)
	}
	late := &customer{t: t, a: second, l: l, session: "s-v3"}
	if v := late.buy(2); v.Model != "v3" {
		t.Errorf("the reservation under v3 says model %q", v.Model)
	}
	// The service emits a sale's Tickets.Emitted in the request that
	// authorizes it, before the model (v3) could emit its own: once both
	// purchases have theirs, a second would be on the log already.
	l.waitFor(t, second, "both purchases' tickets", func() bool {
		return l.types(early.session)[events.TicketsEmitted] > 0 && l.types(late.session)[events.TicketsEmitted] > 0
	})
	for _, c := range []*customer{early, late} {
		if n := l.types(c.session)[events.TicketsEmitted]; n != 1 {
			t.Errorf("%s: Tickets.Emitted %d times, want once", c.session, n)
		}
	}
	l.waitEnded(t, second, early.session) // the v1 instance completes too
	l.waitFor(t, second, "both sales counted", func() bool { return second.tickets.Stock().Sold == 4 })
}
