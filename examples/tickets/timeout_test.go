package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/tickets"
)

// feed is what Eddy's WebSocket push delivered to one session's socket.
type feed struct {
	t       *testing.T
	session string
	mu      sync.Mutex
	events  []cloudevents.Event
	closed  bool
	changed chan struct{} // closed and replaced when an event arrives
}

// follow subscribes to the session's events over Eddy's WebSocket push,
// with the page's filter.
func follow(t *testing.T, a *app, session string) *feed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	url := "ws" + strings.TrimPrefix(a.URL, "http") + "/v1/events/ws?" + events.ExtSessionID + "=" + session
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	f := &feed{t: t, session: session, changed: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, b, err := c.Read(ctx)
			var e cloudevents.Event
			if err == nil {
				if e, err = cloudevents.DecodeJSON(b); err != nil {
					t.Errorf("the WebSocket pushed something that is not a CloudEvent: %v: %s", err, b)
				}
			}
			f.mu.Lock()
			if err != nil {
				f.closed = true
			} else {
				f.events = append(f.events, e)
			}
			close(f.changed)
			f.changed = make(chan struct{})
			f.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		c.CloseNow()
		<-done
	})
	return f
}

// await waits until an event that satisfies ok was pushed (in any order
// with the others), failing after a deadline. Every event pushed must be
// about the session.
func (f *feed) await(what string, ok func(e *cloudevents.Event) bool) {
	f.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		f.mu.Lock()
		found := false
		for i := range f.events {
			e := &f.events[i]
			if v, _ := e.Extension(events.ExtSessionID); v.Text != f.session {
				f.t.Errorf("pushed %s %s for session %q to session %s's socket", e.Type, e.ID, v.Text, f.session)
			}
			found = found || ok(e)
		}
		closed, changed := f.closed, f.changed
		f.mu.Unlock()
		switch {
		case found:
			return
		case closed:
			f.t.Fatalf("the WebSocket closed before %s", what)
		}
		select {
		case <-changed:
		case <-deadline:
			f.t.Fatalf("no %s pushed", what)
		}
	}
}

func notification(kind string) func(e *cloudevents.Event) bool {
	return func(e *cloudevents.Event) bool {
		var n events.Notification
		return e.Type == events.NotificationsRequested && events.DecodeData(e, &n) == nil && n.Kind == kind
	}
}

// TestReminderAndTimeout leaves a reservation unpaid under v2, v3 and v4:
// the model's non-interrupting timer sends payment reminders, which reach
// the customer's browser over the WebSocket, and its interrupting timer
// times the reservation out, upon which the tickets service puts the
// tickets back on sale. The models wait 10 s between reminders and 2
// minutes before the timeout; the test deploys copies with 0.3 s and 1.5 s
// (a text substitution of the timer expressions).
func TestReminderAndTimeout(t *testing.T) {
	cases := []struct {
		model string
		// path: timeout boundary event, timed-out task, end event.
		path     []string
		reminder string // the reminder task
	}{
		{"v2", []string{"Event_00j1ebx", "Activity_1ttesp5", "Event_0x80dde"}, "Activity_0ocnk12"},
		// v3's timeout ends the subprocess, which then reaches the
		// process's only end event, "Tickets Purchased": the model says
		// so, the tickets service knows better.
		{"v3", []string{"Event_1pwylet", "Activity_0zfzhn3", "Event_190tqp2", "Activity_0uir0bf", "Event_1r97kjj"}, "Activity_068941a"},
		{"v4", []string{"Event_0w1lr1o", "Activity_03gzjqi", "Event_0uwn04h"}, "Activity_0rxxypw"},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			xml := model(t, tc.model, "R/PT10S", "R/PT0.3S", "PT2M", "PT1.5S")
			a := startTest(t, config{Model: tc.model, ModelXML: xml, Stock: 20})
			l := newLedger()
			c := &customer{t: t, a: a, l: l, session: "late-" + tc.model}
			pushed := follow(t, a, c.session)
			c.join()
			pushed.await("Queue.CustomerExited", func(e *cloudevents.Event) bool { return e.Type == events.QueueCustomerExited })
			v := c.reserve(5, "general")
			pushed.await("a payment reminder", notification("payment-reminder"))
			pushed.await("the timeout notification", notification("reservation-timed-out"))
			pushed.await("Tickets.Released", func(e *cloudevents.Event) bool {
				var r events.Reservation
				return e.Type == events.TicketsReleased && events.DecodeData(e, &r) == nil &&
					r.ReservationID == v.ReservationID && r.Reason == "the reservation timed out"
			})

			in := l.waitEnded(t, a, c.session)
			if !inOrder(in.completed, tc.path) || !slices.Contains(in.completed, tc.reminder) {
				t.Errorf("the instance completed %v; want %v in that order, and %s", in.completed, tc.path, tc.reminder)
			}
			got := l.types(c.session)
			if got[events.TicketsReservation1MExpired] < 1 || got[events.TicketsReservationTimedOut] != 1 || got[events.TicketsReleased] != 1 ||
				got[events.TicketsPaymentRequested] != 0 || got[events.TicketsEmitted] != 0 {
				t.Errorf("events about the reservation: %v", got)
			}
			// The service moves the stock once Tickets.Released is durable.
			var s tickets.Stock
			if !l.settle(t, a, func() bool { s = a.tickets.Stock(); return s.Available == 20 }) || s.Held != 0 || s.Sold != 0 {
				t.Errorf("stock after the timeout: %+v", s)
			}
			if st := c.pay(v); st != http.StatusConflict {
				t.Errorf("paying a released reservation: status %d, want 409", st)
			}
			var after tickets.View
			call(t, a, "GET", "/tickets/reservations/"+v.ReservationID, nil, &after)
			if after.Status != tickets.Released {
				t.Errorf("the reservation is %s after the timeout", after.Status)
			}
		})
	}
}

// TestAbandonUnderV3 has a customer give up after reserving: v3's boundary
// event on Queue.CustomerAbandoned ends the purchase through Clean Up,
// whose Session.CleanUp event closes the session in the queue, releases
// the tickets and reaches the browser.
func TestAbandonUnderV3(t *testing.T) {
	a := startTest(t, config{Model: "v3", Stock: 20})
	l := newLedger()
	c := &customer{t: t, a: a, l: l, session: "quitter"}
	pushed := follow(t, a, c.session)
	c.join()
	v := c.reserve(3, "vip")
	if st := call(t, a, "POST", "/queue/abandon", map[string]string{"sessionId": c.session}, nil); st != http.StatusOK {
		t.Fatalf("abandon: status %d", st)
	}
	pushed.await("the session-closed notification", notification("session-closed"))
	pushed.await("Tickets.Released", func(e *cloudevents.Event) bool { return e.Type == events.TicketsReleased })
	in := l.waitEnded(t, a, c.session)
	want := []string{"Event_0deuwuq", "Activity_19ngein", "Event_0qimwtl"}
	if !inOrder(in.completed, want) || slices.Contains(in.completed, "Event_1r97kjj") {
		t.Errorf("the instance completed %v; want %v and not the purchase's end", in.completed, want)
	}
	var s tickets.Stock
	if !l.settle(t, a, func() bool { s = a.tickets.Stock(); return s.Available == 20 }) {
		t.Errorf("stock after abandoning: %+v", s)
	}
	if st := c.pay(v); st != http.StatusConflict {
		t.Errorf("paying an abandoned reservation: status %d, want 409", st)
	}
	got := l.types(c.session)
	if got[events.QueueCustomerAbandoned] != 1 || got[events.SessionCleanUp] != 1 || got[events.TicketsReleased] != 1 {
		t.Errorf("events about the session: %v", got)
	}
}
