package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/tickets"
)

var loadCustomers = flag.Int("tickets.load", 0, "customers in TestLoad (default 500, 200 under -race, 100 with -short; the full run is -tickets.load=10000)")

// crowd is the load test's customers: each joins the queue, and, told by
// a trigger that it left the queue, reserves 1 to 4 tickets (every 50th
// customer 12, paid by transfer under v4) and pays, or gives up when the
// tickets ran out.
type crowd struct {
	t      testing.TB
	a      *app
	client *http.Client
	srv    *httptest.Server
	work   chan string
	wg     sync.WaitGroup

	mu        sync.Mutex
	quantity  map[string]int
	exits     map[string]int
	emitted   map[string][]events.Reservation // by session
	rejected  map[string]bool
	failures  []string
	finished  int
	allDone   chan struct{}
	customers int
}

func newCrowd(t testing.TB, a *app, customers int) *crowd {
	c := &crowd{
		t: t, a: a, work: make(chan string, customers), customers: customers,
		client:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: time.Minute},
		quantity: map[string]int{}, exits: map[string]int{}, emitted: map[string][]events.Reservation{},
		rejected: map[string]bool{}, allDone: make(chan struct{}),
	}
	rcv := events.NewReceiver("crowd", nil)
	rcv.Handle(events.QueueCustomerExited, c.onExited)
	rcv.Handle(events.TicketsEmitted, c.onEmitted)
	c.srv = httptest.NewServer(rcv)
	t.Cleanup(c.srv.Close)
	for range 64 {
		c.wg.Add(1)
		go c.shop()
	}
	t.Cleanup(func() { close(c.work); c.wg.Wait() })
	doc := ""
	for _, typ := range []string{events.QueueCustomerExited, events.TicketsEmitted} {
		doc += fmt.Sprintf(`---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: crowd-%s, namespace: loadtest}
spec:
  broker: default
  filter: {attributes: {type: %s}}
  subscriber: {uri: %s}
  delivery: {retry: 8, backoffPolicy: exponential, backoffDelay: PT0.05S}
`, strings.ToLower(strings.ReplaceAll(typ, ".", "-")), typ, c.srv.URL)
	}
	if err := a.node.Broker.Triggers.Apply(context.Background(), []byte(doc)); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *crowd) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

func (c *crowd) post(path string, body any, out any) (int, error) {
	b, _ := json.Marshal(body)
	resp, err := c.client.Post(c.a.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, err
		}
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(data))
	}
	return resp.StatusCode, nil
}

// joinAll has every customer join the queue at once.
func (c *crowd) joinAll() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 512)
	for i := range c.customers {
		session := fmt.Sprintf("c%05d", i)
		q := 1 + i%4
		if i%50 == 49 {
			q = 12
		}
		c.mu.Lock()
		c.quantity[session] = q
		c.mu.Unlock()
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := c.post("/queue/join", map[string]string{"sessionId": session}, nil); err != nil {
				c.fail("%s joining: %v", session, err)
			}
		}()
	}
	wg.Wait()
}

func (c *crowd) onExited(_ context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var d events.Customer
	if err := events.DecodeData(e, &d); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.exits[d.SessionID]++
	first := c.exits[d.SessionID] == 1
	c.mu.Unlock()
	if first { // a redelivery must not send the customer shopping twice
		c.work <- d.SessionID
	}
	return nil, nil
}

func (c *crowd) onEmitted(_ context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
	var r events.Reservation
	if err := events.DecodeData(e, &r); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, prev := range c.emitted[r.SessionID] {
		if prev.ReservationID == r.ReservationID {
			return nil, nil // a redelivery of the same event
		}
	}
	c.emitted[r.SessionID] = append(c.emitted[r.SessionID], r)
	if len(c.emitted[r.SessionID]) == 1 {
		c.doneLocked()
	}
	return nil, nil
}

func (c *crowd) doneLocked() {
	c.finished++
	if c.finished == c.customers {
		close(c.allDone)
	}
}

// shop reserves and pays for the customers let out of the queue.
func (c *crowd) shop() {
	defer c.wg.Done()
	for session := range c.work {
		c.mu.Lock()
		q := c.quantity[session]
		c.mu.Unlock()
		var v tickets.View
		st, err := c.post("/tickets/reservations", map[string]any{"sessionId": session, "ticketsQuantity": q, "ticketsType": "general"}, &v)
		if st == http.StatusConflict {
			// Sold out: the customer gives up.
			if _, err := c.post("/queue/abandon", map[string]string{"sessionId": session}, nil); err != nil {
				c.fail("%s abandoning: %v", session, err)
			}
			c.mu.Lock()
			c.rejected[session] = true
			c.doneLocked()
			c.mu.Unlock()
			continue
		}
		if err != nil {
			c.fail("%s reserving: %v", session, err)
			continue
		}
		if _, err := c.post("/tickets/reservations/"+v.ReservationID+"/payment", map[string]string{"sessionId": session}, nil); err != nil {
			c.fail("%s paying: %v", session, err)
		}
	}
}

// TestLoad has many customers join the queue at once and buy what they
// can of a stock that covers about 40% of the demand, under v4. It checks
// that every customer got exactly one process instance and one answer
// (tickets or sold out), that no purchase is lost or doubled, that the
// tickets sold never exceed the stock and no ticket is sold twice, and
// that each instance ended as its purchase did. It logs the time taken
// and the purchases per second; it asserts no time.
func TestLoad(t *testing.T) {
	n := *loadCustomers
	switch {
	case n > 0:
	case testing.Short():
		n = 100
	case raceEnabled:
		n = 200
	default:
		n = 500
	}
	stock := n // the crowd asks for about 2.6 tickets each
	a := startTest(t, config{Model: "v4", Stock: stock})
	c := newCrowd(t, a, n)

	began := time.Now()
	c.joinAll()
	joined := time.Since(began)
	select {
	case <-c.allDone:
	case <-time.After(time.Duration(n)*200*time.Millisecond + 2*time.Minute):
		// A deadline against a hang, not a time to meet.
		c.mu.Lock()
		t.Fatalf("%d of %d customers finished; failures: %v", c.finished, n, c.failures)
	}
	elapsed := time.Since(began)

	// A customer can get Tickets.Emitted before the tickets service has
	// counted the sale and the engine has ended the instance: let them
	// settle before looking (the checks below say what did not).
	l := newLedger()
	l.settle(t, a, func() bool {
		if a.tickets.Stock().Held != 0 {
			return false
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		l.mu.Lock()
		defer l.mu.Unlock()
		for session := range c.emitted {
			if keys := l.bySession[session]; len(keys) != 1 || !l.instances[keys[0]].ended {
				return false
			}
		}
		return true
	})

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) > 0 {
		t.Fatalf("%d customers failed, first: %v", len(c.failures), c.failures[:min(5, len(c.failures))])
	}

	// The stock: never oversold, nothing left held, no ticket sold twice.
	s := a.tickets.Stock()
	sold, numbers := 0, map[string]string{}
	for session, rs := range c.emitted {
		if len(rs) != 1 {
			t.Errorf("%s got tickets %d times", session, len(rs))
		}
		if c.rejected[session] {
			t.Errorf("%s got tickets and was told they ran out", session)
		}
		if rs[0].TicketsQuantity != c.quantity[session] || len(rs[0].Tickets) != rs[0].TicketsQuantity {
			t.Errorf("%s ordered %d tickets and got %+v", session, c.quantity[session], rs[0])
		}
		sold += rs[0].TicketsQuantity
		for _, num := range rs[0].Tickets {
			if other, dup := numbers[num]; dup {
				t.Errorf("ticket %s sold to %s and to %s", num, other, session)
			}
			numbers[num] = session
		}
	}
	if s.Sold != sold || s.Sold > stock || s.Held != 0 || s.Available+s.Sold != stock {
		t.Errorf("stock %+v; the customers got %d tickets", s, sold)
	}
	if len(c.emitted)+len(c.rejected) != n {
		t.Errorf("%d purchases and %d sold-out answers for %d customers", len(c.emitted), len(c.rejected), n)
	}

	// The log: one join, one exit and one instance per customer; each
	// purchase's instance ended at its end event, and the instances of the
	// customers who found nothing left wait at Tickets Reserved (v4 has no
	// path for them).
	l.update(t, a)
	perType := map[string]map[string]int{}
	for i := range l.events {
		e := &l.events[i]
		sid, _ := e.Extension(events.ExtSessionID)
		if perType[e.Type] == nil {
			perType[e.Type] = map[string]int{}
		}
		perType[e.Type][sid.Text]++
	}
	for i := range n {
		session := fmt.Sprintf("c%05d", i)
		for _, typ := range []string{events.QueueCustomerJoined, events.QueueCustomerExited} {
			if got := perType[typ][session]; got != 1 {
				t.Errorf("%s: %d %s events on the log", session, got, typ)
			}
		}
		want := 0
		if _, ok := c.emitted[session]; ok {
			want = 1
		}
		if got := perType[events.TicketsEmitted][session]; got != want {
			t.Errorf("%s: %d Tickets.Emitted on the log, want %d", session, got, want)
		}
		keys := l.bySession[session]
		if len(keys) != 1 {
			t.Errorf("%s started %d process instances", session, len(keys))
			continue
		}
		in := l.instances[keys[0]]
		end := "Event_1l0ufzi"
		if c.quantity[session] >= 10 {
			end = "Event_012ngl9"
		}
		switch {
		case c.rejected[session] && in.ended:
			t.Errorf("%s found no tickets, yet its instance ended: %v", session, in.completed)
		case !c.rejected[session] && (!in.ended || in.completed[len(in.completed)-1] != end):
			t.Errorf("%s bought tickets; its instance ended %v with %v, want %s", session, in.ended, in.completed, end)
		}
	}
	if len(l.incidents) > 0 {
		t.Errorf("%d incidents, first: %s", len(l.incidents), l.incidents[0])
	}
	for _, name := range []string{"tickets-queue-exited", "tickets-payments-authorized", "tickets-money-transfer-accepted", "payments-payment-requested", "payments-money-transfer-requested"} {
		st, err := a.node.Broker.Triggers.Status(context.Background(), "tickets", name)
		if err != nil {
			t.Fatal(err)
		}
		if st.DeadLetters != 0 || st.Deliveries.DeadLettered != 0 {
			t.Errorf("trigger %s dead-lettered events: %+v", name, st)
		}
	}
	t.Logf("%d customers, %d tickets: %d purchases (%d tickets sold), %d sold out; all joined in %v, all done in %v: %.0f purchases/s, %.0f customers/s, %d events on the log",
		n, stock, len(c.emitted), s.Sold, len(c.rejected), joined.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		float64(len(c.emitted))/elapsed.Seconds(), float64(n)/elapsed.Seconds(), len(l.events))
}

// BenchmarkPurchase runs b.N customers through the whole example under v4
// (join, exit, reserve, pay, tickets), all at once, with tickets for all;
// it reports purchases per second.
func BenchmarkPurchase(b *testing.B) {
	a := startTest(b, config{Model: "v4", Stock: 20 * b.N})
	c := newCrowd(b, a, b.N)
	b.ResetTimer()
	c.joinAll()
	select {
	case <-c.allDone:
	case <-time.After(time.Duration(b.N)*200*time.Millisecond + 2*time.Minute):
		b.Fatalf("customers did not finish")
	}
	b.StopTimer()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) > 0 || len(c.rejected) > 0 {
		b.Fatalf("failures %v, %d sold out", c.failures, len(c.rejected))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "purchases/s")
}
