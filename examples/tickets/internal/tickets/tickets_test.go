package tickets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/eventsink"
)

func newService(t *testing.T, cfg Config) (*Service, *eventsink.Sink) {
	t.Helper()
	sink := eventsink.New(t)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return New(events.NewPublisher(sink.URL, "/test/tickets", nil), cfg), sink
}

// admit delivers the sessions' Queue.CustomerExited, as the trigger does,
// with no model (as an earlier Eddy's queue sent it).
func admit(t *testing.T, s *Service, sessions ...string) {
	t.Helper()
	for _, id := range sessions {
		admitUnder(t, s, "", id)
	}
}

// admitUnder admits session as a customer who joined under model.
func admitUnder(t *testing.T, s *Service, model, session string) {
	t.Helper()
	if code, _ := eventsink.Deliver(t, s.Events(), events.QueueCustomerExited, "exited-"+session, events.Customer{SessionID: session, Model: model}); code != http.StatusAccepted {
		t.Fatalf("Queue.CustomerExited for %s: status %d", session, code)
	}
}

// underOneModel is cfg with one model, whose rules are r.
func underOneModel(cfg Config, r Rules) Config {
	cfg.Model, cfg.Rules = "m", map[string]Rules{"m": r}
	return cfg
}

func checkStock(t *testing.T, s *Service) Stock {
	t.Helper()
	st := s.Stock()
	if st.Available+st.Held+st.Sold != st.Stock || st.Available < 0 || st.Sold > st.Stock {
		t.Fatalf("the stock does not add up: %+v", st)
	}
	return st
}

// TestNeverOversold has many customers reserve at once from a small stock:
// what is held never exceeds the stock, every refusal says so, and the
// counts always add up.
func TestNeverOversold(t *testing.T) {
	s, sink := newService(t, Config{Stock: 100})
	const customers = 300
	var ids []string
	for i := range customers {
		ids = append(ids, fmt.Sprintf("c%d", i))
	}
	admit(t, s, ids...)
	var held, refused atomic.Int64
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := 1 + i%3
			v, err := s.Reserve(context.Background(), id, q, "general")
			switch {
			case err == nil:
				held.Add(int64(v.TicketsQuantity))
			case errors.Is(err, ErrSoldOut):
				refused.Add(1)
			default:
				t.Error(err)
			}
			checkStock(t, s)
		}()
	}
	wg.Wait()
	st := checkStock(t, s)
	// A refusal means fewer tickets were left than asked (at most 3); the
	// stock only shrinks here, so fewer are left at the end.
	if held.Load() != int64(st.Held) || st.Held > 100 || refused.Load() > 0 && st.Available >= 3 {
		t.Errorf("held %d, refused %d, stock %+v", held.Load(), refused.Load(), st)
	}
	reserved, rejected := sink.OfType(events.TicketsReserved), sink.OfType(events.TicketsReservationRejected)
	if len(reserved)+len(rejected) != customers || int64(len(rejected)) != refused.Load() {
		t.Errorf("%d Tickets.Reserved and %d Tickets.ReservationRejected for %d customers (%d refused)", len(reserved), len(rejected), customers, refused.Load())
	}
}

// TestPurchase walks a card purchase and a transfer through the service,
// with redelivered events, and checks what it emits.
func TestPurchase(t *testing.T) {
	for _, tc := range []struct {
		name        string
		quantity    int
		emitTickets bool
		method      string
		request     string // the event Pay emits
		paid        string // the event that pays
		want        []string
	}{
		{"card", 3, true, "card", events.TicketsPaymentRequested, events.PaymentsAuthorized,
			[]string{events.TicketsReserved, events.TicketsPaymentRequested, events.TicketsPaymentsAuthorized, events.TicketsEmitted}},
		{"card, the model emits the tickets", 3, false, "card", events.TicketsPaymentRequested, events.PaymentsAuthorized,
			[]string{events.TicketsReserved, events.TicketsPaymentRequested, events.TicketsPaymentsAuthorized}},
		{"transfer", 12, true, "transfer", events.TicketsMoneyTransferRequested, events.MoneyTransferAccepted,
			[]string{events.TicketsReserved, events.TicketsMoneyTransferRequested, events.TicketsEmitted}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, sink := newService(t, underOneModel(Config{Stock: 20}, Rules{TransferFrom: 10, EmitTickets: tc.emitTickets}))
			ctx := context.Background()
			admit(t, s, "buyer")
			v, err := s.Reserve(ctx, "buyer", tc.quantity, "vip")
			if err != nil {
				t.Fatal(err)
			}
			if v.PaymentMethod != tc.method || v.Amount != 120*tc.quantity || v.Status != Held {
				t.Fatalf("reservation %+v", v)
			}
			again, err := s.Reserve(ctx, "buyer", 1, "general")
			if err != nil || again.ReservationID != v.ReservationID {
				t.Fatalf("reserving again: %+v %v; want the same reservation", again, err)
			}
			for range 2 {
				if p, err := s.Pay(ctx, "buyer", v.ReservationID); err != nil || p.Status != Paying {
					t.Fatalf("pay: %+v %v", p, err)
				}
			}
			if _, err := s.Pay(ctx, "someone-else", v.ReservationID); !errors.Is(err, ErrNotFound) {
				t.Errorf("paying another customer's reservation: %v", err)
			}
			pay := events.Payment{PaymentID: "p-" + v.ReservationID, SessionID: "buyer", ReservationID: v.ReservationID, Amount: v.Amount}
			for range 2 { // a trigger delivers at least once
				if code, _ := eventsink.Deliver(t, s.Events(), tc.paid, "paid-1", pay); code != http.StatusAccepted {
					t.Fatalf("%s: status %d", tc.paid, code)
				}
			}
			var got []string
			for _, e := range sink.Events() {
				got = append(got, e.Type)
				if sid, _ := e.Extension(events.ExtSessionID); sid.Text != "buyer" {
					t.Errorf("%s has sessionid %q", e.Type, sid.Text)
				}
				ck, _ := e.Extension(events.ExtCorrelationKey)
				want := map[string]string{
					events.TicketsReserved: "buyer", events.TicketsPaymentRequested: v.ReservationID, events.TicketsPaymentsAuthorized: v.ReservationID,
				}[e.Type]
				if ck.Text != want {
					t.Errorf("%s has correlationkey %q, want %q", e.Type, ck.Text, want)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("emitted %v, want %v", got, tc.want)
			}
			st := checkStock(t, s)
			if st.Sold != tc.quantity || st.Held != 0 {
				t.Errorf("stock %+v", st)
			}
			if tc.emitTickets {
				var r events.Reservation
				if err := events.DecodeData(&sink.OfType(events.TicketsEmitted)[0], &r); err != nil || len(r.Tickets) != tc.quantity {
					t.Errorf("Tickets.Emitted: %+v %v", r, err)
				}
			}
		})
	}
}

// TestRelease covers the ways tickets go back on sale, and a payment that
// arrives for a released reservation, which is refused (and refunded by
// the payments service).
func TestRelease(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Unix(1000, 0).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	s, sink := newService(t, Config{Stock: 10, Hold: time.Minute, Now: now})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	admit(t, s, "timed-out", "left", "cleaned", "expired", "racing")
	reserve := func(id string) View {
		v, err := s.Reserve(ctx, id, 2, "general")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	timedOut, left, cleaned := reserve("timed-out"), reserve("left"), reserve("cleaned")
	// The customer pays as the model's timer fires: the model ended the
	// purchase, so the payment will be refused.
	racing := reserve("racing")
	if _, err := s.Pay(ctx, "racing", racing.ReservationID); err != nil {
		t.Fatal(err)
	}
	if code, _ := eventsink.Deliver(t, s.Events(), events.TicketsReservationTimedOut, "job-6", map[string]any{"sessionId": "racing", "reservationId": racing.ReservationID}); code != http.StatusAccepted {
		t.Fatalf("timed out while paying: status %d", code)
	}

	// v2-v4's timer; the event's data are the process variables.
	vars := map[string]any{"sessionId": "timed-out", "reservationId": timedOut.ReservationID, "ticketsQuantity": 2}
	if code, _ := eventsink.Deliver(t, s.Events(), events.TicketsReservationTimedOut, "job-7", vars); code != http.StatusAccepted {
		t.Fatalf("timed out: status %d", code)
	}
	if code, _ := eventsink.Deliver(t, s.Events(), events.QueueCustomerAbandoned, "abandoned-left", events.Customer{SessionID: "left"}); code != http.StatusAccepted {
		t.Fatalf("abandoned: status %d", code)
	}
	if code, _ := eventsink.Deliver(t, s.Events(), events.SessionCleanUp, "job-8", map[string]any{"sessionId": "cleaned"}); code != http.StatusAccepted {
		t.Fatalf("clean-up: status %d", code)
	}
	// The service's own hold runs out for a reservation nobody pays.
	expired := reserve("expired")
	clock.Add(int64(2 * time.Minute))
	eventsink.Eventually(t, "the expired hold released", func() bool {
		v, _ := s.Reservation(expired.ReservationID)
		return v.Status == Released
	})
	if st := checkStock(t, s); st.Available != 10 {
		t.Errorf("stock after the releases: %+v", st)
	}
	reasons := map[string]string{}
	for _, e := range sink.OfType(events.TicketsReleased) {
		var r events.Reservation
		_ = events.DecodeData(&e, &r)
		reasons[r.SessionID] = r.Reason
	}
	want := map[string]string{
		"timed-out": "the reservation timed out", "left": "the customer left (Queue.CustomerAbandoned)",
		"cleaned": "the customer left (Session.CleanUp)", "expired": "the hold ran out", "racing": "the reservation timed out",
	}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("releases %v, want %v", reasons, want)
	}
	if _, err := s.Pay(ctx, "left", left.ReservationID); !errors.Is(err, ErrReleased) {
		t.Errorf("paying a released reservation: %v", err)
	}
	// A session whose reservation was released reserves no more: its
	// process instance has ended (or waits for that reservation's
	// payment), so a purchase made after would go on without the model.
	reserved := len(sink.OfType(events.TicketsReserved))
	for _, c := range []struct{ session, why string }{
		{"timed-out", "the reservation timed out"}, {"racing", "the reservation timed out"}, {"expired", "the hold ran out"},
	} {
		_, err := s.Reserve(ctx, c.session, 1, "general")
		if !errors.Is(err, ErrReleased) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("%s reserves again after its reservation was released: %v, want ErrReleased saying %q", c.session, err, c.why)
		}
	}
	if n := len(sink.OfType(events.TicketsReserved)); n != reserved {
		t.Errorf("%d Tickets.Reserved after the released sessions asked again, want %d", n, reserved)
	}
	// A payment that arrives anyway is refused, once per payment.
	for _, v := range []View{cleaned, racing} {
		pay := events.Payment{PaymentID: "p-" + v.ReservationID, SessionID: v.SessionID, ReservationID: v.ReservationID, Amount: 100}
		for range 2 {
			if code, _ := eventsink.Deliver(t, s.Events(), events.PaymentsAuthorized, "late-"+v.SessionID, pay); code != http.StatusAccepted {
				t.Fatalf("late payment: status %d", code)
			}
		}
	}
	if refused := sink.OfType(events.TicketsPaymentRefused); len(refused) != 2 || checkStock(t, s).Sold != 0 {
		t.Errorf("%d refusals, stock %+v", len(refused), s.Stock())
	}
}

// TestAdmission: a customer still in the queue cannot reserve; one whose
// exit is on its way waits for it; one who left is told so.
func TestAdmission(t *testing.T) {
	s, _ := newService(t, Config{Stock: 10, AdmissionWait: 50 * time.Millisecond})
	if _, err := s.Reserve(context.Background(), "queued", 1, "general"); !errors.Is(err, ErrNotAdmitted) {
		t.Fatalf("reserving from the queue: %v", err)
	}
	s, _ = newService(t, Config{Stock: 10, AdmissionWait: time.Minute})
	got := make(chan error, 1)
	go func() {
		_, err := s.Reserve(context.Background(), "soon", 1, "general")
		got <- err
	}()
	eventsink.Eventually(t, "the request waiting", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.admission["soon"] != nil
	})
	admit(t, s, "soon")
	if err := <-got; err != nil {
		t.Fatal(err)
	}

	// A customer who left is told so at once, also one whose request was
	// waiting for the exit (before, both waited for the admission's time,
	// then heard they had not left the queue yet).
	go func() {
		_, err := s.Reserve(context.Background(), "leaving", 1, "general")
		got <- err
	}()
	eventsink.Eventually(t, "the request waiting", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.admission["leaving"] != nil
	})
	if code, _ := eventsink.Deliver(t, s.Events(), events.QueueCustomerAbandoned, "abandoned-leaving", events.Customer{SessionID: "leaving"}); code != http.StatusAccepted {
		t.Fatalf("Queue.CustomerAbandoned: status %d", code)
	}
	if err := <-got; !errors.Is(err, ErrLeft) {
		t.Fatalf("the waiting request of a customer who left: %v, want ErrLeft", err)
	}
	if _, err := s.Reserve(context.Background(), "leaving", 1, "general"); !errors.Is(err, ErrLeft) {
		t.Fatalf("reserving after leaving: %v, want ErrLeft", err)
	}
}

// TestBrokerDown: a reservation whose event the broker refused is undone;
// a payment request it refused leaves the reservation held.
func TestBrokerDown(t *testing.T) {
	s, sink := newService(t, Config{Stock: 10})
	ctx := context.Background()
	admit(t, s, "a")
	sink.Refuse(100)
	if _, err := s.Reserve(ctx, "a", 4, "general"); err == nil {
		t.Fatal("reserved while the broker refused")
	}
	if st := checkStock(t, s); st.Available != 10 {
		t.Fatalf("a refused reservation kept tickets: %+v", st)
	}
	sink.Refuse(0)
	v, err := s.Reserve(ctx, "a", 4, "general")
	if err != nil {
		t.Fatal(err)
	}
	sink.Refuse(100)
	if _, err := s.Pay(ctx, "a", v.ReservationID); err == nil {
		t.Fatal("paid while the broker refused")
	}
	if r, _ := s.Reservation(v.ReservationID); r.Status != Held {
		t.Errorf("after a refused payment request: %s", r.Status)
	}
	// A trigger's delivery fails with 503, so that it is retried.
	code, _ := eventsink.Deliver(t, s.Events(), events.TicketsReservationTimedOut, "job-1", map[string]any{"sessionId": "a", "reservationId": v.ReservationID})
	if code != http.StatusServiceUnavailable || checkStock(t, s).Held != 4 {
		t.Errorf("timing out while the broker refused: status %d, stock %+v", code, s.Stock())
	}
}

// TestBadEvents: what the service cannot act on is a 400, which a trigger
// does not retry.
func TestBadEvents(t *testing.T) {
	s, _ := newService(t, Config{Stock: 10})
	cases := []struct {
		typ  string
		data any
	}{
		{events.QueueCustomerExited, map[string]any{"position": 1}},
		{events.TicketsReservationTimedOut, map[string]any{"sessionId": "x"}},
		{events.TicketsReservationTimedOut, map[string]any{"reservationId": "r-unknown"}},
		{events.PaymentsAuthorized, map[string]any{"reservationId": "r-unknown"}},
		{events.PaymentsAuthorized, "not an object"},
		{"Tickets.Unknown", map[string]any{}},
	}
	for _, tc := range cases {
		if code, _ := eventsink.Deliver(t, s.Events(), tc.typ, "bad", tc.data); code != http.StatusBadRequest {
			t.Errorf("%s %v: status %d, want 400", tc.typ, tc.data, code)
		}
	}
}

// TestHTTP drives the API as the page does.
func TestHTTP(t *testing.T) {
	s, _ := newService(t, Config{Stock: 5, AdmissionWait: 20 * time.Millisecond})
	admit(t, s, "web")
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("POST", "/reservations", `{"sessionId":"web","ticketsQuantity":2,"ticketsType":"vip"}`)
	if code != 200 || !strings.Contains(body, `"status":"held"`) {
		t.Fatalf("reserve: %d %s", code, body)
	}
	id := body[strings.Index(body, `"reservationId":"`)+17:]
	id = id[:strings.IndexByte(id, '"')]
	cases := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"GET", "/reservations/" + id, ``, 200, `"amount":240`},
		{"GET", "/reservations/r-nope", ``, 404, `no such reservation`},
		{"POST", "/reservations/" + id + "/payment", `{"sessionId":"web"}`, 200, `"status":"paying"`},
		{"POST", "/reservations/" + id + "/payment", `{"sessionId":"other"}`, 404, `no such reservation`},
		{"POST", "/reservations", `{"sessionId":"queued","ticketsQuantity":1,"ticketsType":"vip"}`, 403, `not left the queue`},
		{"POST", "/reservations", `{"sessionId":"web","ticketsQuantity":0,"ticketsType":"vip"}`, 400, `order 1 to 20`},
		{"POST", "/reservations", `{"sessionId":"web","ticketsQuantity":1,"ticketsType":"balcony"}`, 400, `unknown ticketsType \"balcony\": the types are general, vip`},
		{"POST", "/reservations", `{"sessionId":"","ticketsQuantity":1,"ticketsType":"vip"}`, 400, `sessionId is empty`},
		{"GET", "/stock", ``, 200, `"held":2`},
	}
	for _, tc := range cases {
		code, body := do(tc.method, tc.path, tc.body)
		if code != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", tc.method, tc.path, tc.body, code, body, tc.status, tc.contains)
		}
	}
}

// BenchmarkSale runs reservations through the service, in parallel, from
// Queue.CustomerExited to the sale, against a recording endpoint: the
// service's own cost plus one local HTTP post per event.
func BenchmarkSale(b *testing.B) {
	sink := eventsink.New(b)
	s := New(events.NewPublisher(sink.URL, "/bench/tickets", nil), underOneModel(Config{Stock: 4 * b.N, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Rules{EmitTickets: true}))
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("b%d", n.Add(1))
			if code, _ := eventsink.Deliver(b, s.Events(), events.QueueCustomerExited, "exited-"+id, events.Customer{SessionID: id}); code != http.StatusAccepted {
				b.Fatal(code)
			}
			v, err := s.Reserve(context.Background(), id, 2, "general")
			if err == nil {
				_, err = s.Pay(context.Background(), id, v.ReservationID)
			}
			if err != nil {
				b.Fatal(err)
			}
			pay := events.Payment{PaymentID: "p-" + v.ReservationID, SessionID: id, ReservationID: v.ReservationID, Amount: v.Amount}
			if code, _ := eventsink.Deliver(b, s.Events(), events.PaymentsAuthorized, "paid-"+id, pay); code != http.StatusAccepted {
				b.Fatal(code)
			}
		}
	})
	if st := s.Stock(); st.Sold != 2*b.N {
		b.Fatalf("sold %d for %d sales", st.Sold, b.N)
	}
}

// A purchase goes on under the model its customer joined under, also
// after another model is deployed and the service restarted: the model's
// instance and the service agree on who emits the tickets and which
// orders are paid by transfer. Before, the service followed the model
// deployed now, and a v1 purchase finished under v3 got no
// Tickets.Emitted (nobody emitted it).
func TestPurchaseRunsUnderItsCustomersModel(t *testing.T) {
	ctx := context.Background()
	rules := map[string]Rules{"v1": {EmitTickets: true}, "v3": {}, "v4": {TransferFrom: 10, EmitTickets: true}}
	s, sink := newService(t, Config{Stock: 100, Model: "v3", Rules: rules})
	admitUnder(t, s, "v1", "early")
	admitUnder(t, s, "v4", "large")
	admitUnder(t, s, "v3", "now")
	admit(t, s, "unknown") // an earlier Eddy's customer: the model deployed now
	reserved := map[string]View{}
	for session, quantity := range map[string]int{"early": 2, "large": 12, "now": 2, "unknown": 12} {
		v, err := s.Reserve(ctx, session, quantity, "general")
		if err != nil {
			t.Fatal(err)
		}
		reserved[session] = v
	}
	for session, want := range map[string]struct{ model, method string }{
		"early": {"v1", "card"}, "large": {"v4", "transfer"}, "now": {"v3", "card"}, "unknown": {"v3", "card"},
	} {
		if v := reserved[session]; v.Model != want.model || v.PaymentMethod != want.method {
			t.Errorf("%s's reservation: model %q, paid by %s; want %s, %s", session, v.Model, v.PaymentMethod, want.model, want.method)
		}
	}
	// The service restarts under v4 with "early" paying: its v1 purchase
	// still gets Tickets.Emitted from the service, "now"'s v3 one not.
	for _, session := range []string{"early", "now"} {
		if _, err := s.Pay(ctx, session, reserved[session].ReservationID); err != nil {
			t.Fatal(err)
		}
	}
	again, sink2 := newService(t, Config{Stock: 100, Model: "v4", Rules: rules})
	for _, e := range sink.Events() {
		if err := again.Restore(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := again.Restored(); err != nil {
		t.Fatal(err)
	}
	for _, session := range []string{"early", "now"} {
		v := reserved[session]
		pay := events.Payment{PaymentID: "p-" + v.ReservationID, SessionID: session, ReservationID: v.ReservationID, Amount: v.Amount, Method: "card"}
		if code, _ := eventsink.Deliver(t, again.Events(), events.PaymentsAuthorized, "paid-"+session, pay); code != http.StatusAccepted {
			t.Fatalf("Payments.Authorized for %s: status %d", session, code)
		}
	}
	emitted := map[string]bool{}
	for _, e := range sink2.Events() {
		if e.Type == events.TicketsEmitted {
			sid, _ := e.Extension(events.ExtSessionID)
			emitted[sid.Text] = true
		}
	}
	if !emitted["early"] || emitted["now"] {
		t.Errorf("Tickets.Emitted by the service after the restart for %v; want early's (v1) only, v3's model emits now's", emitted)
	}
	if st := checkStock(t, again); st.Sold != 4 {
		t.Errorf("after the restart: %+v, want 4 sold", st)
	}
}

// A customer whose events say no model (an earlier example's run, before
// events said it) buys under that run's model, not the one deployed now:
// its instance runs the earlier model.
func TestUnsaidModelIsTheEarlierRuns(t *testing.T) {
	rules := map[string]Rules{"v3": {}, "v4": {TransferFrom: 10, EmitTickets: true}}
	s, _ := newService(t, Config{Stock: 100, Model: "v3", Rules: rules})
	s.SetUnsaidModel("v4")
	admit(t, s, "legacy")
	v, err := s.Reserve(context.Background(), "legacy", 12, "general")
	if err != nil {
		t.Fatal(err)
	}
	if v.Model != "v4" || v.PaymentMethod != "transfer" {
		t.Errorf("the earlier run's customer: model %q, paid by %s; want v4, transfer", v.Model, v.PaymentMethod)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 tickets", 1: "1 ticket", 2: "2 tickets", 400: "400 tickets"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
