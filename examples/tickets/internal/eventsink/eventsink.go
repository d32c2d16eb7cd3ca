// Package eventsink is an HTTP endpoint that takes CloudEvents as an
// ingress does and records them, for the tests of the tickets example's
// services: they post to it exactly as they post to Eddy, and it can be
// told to refuse, to see how a service copes with a broker that is down.
package eventsink

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
)

// Sink records the events posted to it.
type Sink struct {
	// URL is where to post.
	URL string

	mu       sync.Mutex
	events   []cloudevents.Event
	seen     map[string]bool // source + id: a repeat is recorded once
	refuse   int             // requests still to refuse
	requests int
	changed  chan struct{}
	held     chan struct{} // non-nil: requests wait until it is closed
}

// New starts a sink that stops with the test.
func New(t testing.TB) *Sink {
	s := &Sink{seen: map[string]bool{}, changed: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/v1/events"
	return s
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	evs, err := cloudevents.ReadRequest(r, 0)
	if err != nil {
		cloudevents.WriteError(w, err)
		return
	}
	s.mu.Lock()
	s.requests++
	if held := s.held; held != nil {
		s.mu.Unlock()
		select {
		case <-held:
		case <-r.Context().Done():
			return
		}
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if s.refuse > 0 {
		s.refuse--
		http.Error(w, "refused by the test", http.StatusServiceUnavailable)
		return
	}
	for _, e := range evs {
		// As Eddy does: a source and id already taken is a duplicate.
		k := e.Source + "\x00" + e.ID
		if !s.seen[k] {
			s.seen[k] = true
			s.events = append(s.events, e.Clone())
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
	w.WriteHeader(http.StatusAccepted)
}

// Refuse makes the next n requests fail with 503.
func (s *Sink) Refuse(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = n
}

// Hold makes requests wait, counted but not answered, until release is
// called: what a service emits stays in flight meanwhile. Calling release
// again does nothing, so a test can also leave it to t.Cleanup.
func (s *Sink) Hold() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := make(chan struct{})
	s.held = held
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.held == held {
				s.held = nil
			}
			close(held)
		})
	}
}

// Requests counts the requests received, refused ones included.
func (s *Sink) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Events returns the events taken so far, in order of arrival.
func (s *Sink) Events() []cloudevents.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]cloudevents.Event(nil), s.events...)
}

// OfType returns the events of type typ taken so far.
func (s *Sink) OfType(typ string) []cloudevents.Event {
	var out []cloudevents.Event
	for _, e := range s.Events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// Changed is closed when the next event arrives.
func (s *Sink) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Await waits until at least n events of type typ were taken, failing the
// test after a deadline, and returns them.
func (s *Sink) Await(t testing.TB, typ string, n int) []cloudevents.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ch := s.Changed()
		if evs := s.OfType(typ); len(evs) >= n {
			return evs
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waited for %d %s events, got %d", n, typ, len(s.OfType(typ)))
		}
	}
}

// Deliver hands an event of type typ with data (marshalled as JSON) to h
// as a trigger does, in binary mode, and returns the status and the reply
// event, if any.
func Deliver(t testing.TB, h http.Handler, typ, id string, data any) (int, *cloudevents.Event) {
	t.Helper()
	e, err := events.Build("/test", time.Now(), events.Out{Type: typ, ID: id, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return DeliverEvent(t, h, &e)
}

// DeliverEvent hands e to h as a trigger does.
func DeliverEvent(t testing.TB, h http.Handler, e *cloudevents.Event) (int, *cloudevents.Event) {
	t.Helper()
	req, err := cloudevents.NewRequest(context.Background(), "http://service/events", e, cloudevents.Binary)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		return w.Code, nil // an error, or 202 without a reply
	}
	reply, err := cloudevents.ReadResponse(w.Result(), 0)
	if err != nil {
		t.Fatalf("the reply to %s %s: %v", e.Type, e.ID, err)
	}
	return w.Code, reply
}

// Eventually polls cond until it holds, failing the test after a deadline:
// the services count a change once its event is durable, a moment after
// the sink has it.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
