package events_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/eventsink"
)

// TestPublisher posts one event in binary mode and several as a batch,
// with the extensions set, and retries what the broker may recover from.
func TestPublisher(t *testing.T) {
	sink := eventsink.New(t)
	p := events.NewPublisher(sink.URL, "/test", nil)
	ctx := context.Background()
	err := p.Emit(ctx, events.Out{Type: "A.One", ID: "1", SessionID: "s", CorrelationKey: "k", Data: map[string]int{"n": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Emit(ctx, events.Out{Type: "A.Two", ID: "2"}, events.Out{Type: "A.Three", ID: "3"}); err != nil {
		t.Fatal(err)
	}
	got := sink.Events()
	if len(got) != 3 || sink.Requests() != 2 {
		t.Fatalf("%d events in %d requests", len(got), sink.Requests())
	}
	sid, _ := got[0].Extension(events.ExtSessionID)
	ck, _ := got[0].Extension(events.ExtCorrelationKey)
	if sid.Text != "s" || ck.Text != "k" || string(got[0].Data) != `{"n":1}` || got[0].DataContentType != "application/json" || got[0].Source != "/test" {
		t.Errorf("event %+v", got[0])
	}
	if _, ok := got[1].Extension(events.ExtSessionID); ok || got[1].Data != nil {
		t.Errorf("event without session or data: %+v", got[1])
	}

	// 503 twice, then taken.
	sink.Refuse(2)
	before := sink.Requests()
	if err := p.Emit(ctx, events.Out{Type: "A.Retried", ID: "4"}); err != nil {
		t.Fatal(err)
	}
	if n := sink.Requests() - before; n != 3 {
		t.Errorf("%d requests for one retried event, want 3", n)
	}
	if err := p.Emit(ctx, events.Out{Type: "", ID: "5"}); err == nil || !strings.Contains(err.Error(), "type") {
		t.Errorf("an event without a type: %v", err)
	}
}

// TestPublisherGivesUp: a 400 is not retried, and an ingress that keeps
// failing is an error that says so.
func TestPublisherGivesUp(t *testing.T) {
	var calls atomic.Int32
	status := http.StatusBadRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no thanks", status)
	}))
	defer srv.Close()
	p := events.NewPublisher(srv.URL, "/test", nil)
	err := p.Emit(context.Background(), events.Out{Type: "A.B", ID: "1"})
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "no thanks") || calls.Load() != 1 {
		t.Errorf("after a 400: %v, %d calls", err, calls.Load())
	}
	status = http.StatusInternalServerError
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Emit(ctx, events.Out{Type: "A.B", ID: "2"}); err == nil {
		t.Error("a failing ingress is not an error")
	}
}

// TestReceiver answers as Knative's data plane expects.
func TestReceiver(t *testing.T) {
	r := events.NewReceiver("test", nil)
	r.Handle("Ok", func(context.Context, *cloudevents.Event) (*cloudevents.Event, error) { return nil, nil })
	r.Handle("Bad", func(context.Context, *cloudevents.Event) (*cloudevents.Event, error) {
		return nil, events.Malformed("missing things")
	})
	r.Handle("Down", func(context.Context, *cloudevents.Event) (*cloudevents.Event, error) {
		return nil, errors.New("broker down")
	})
	r.Handle("Reply", func(_ context.Context, e *cloudevents.Event) (*cloudevents.Event, error) {
		out, err := events.Build("/test", time.Now(), events.Out{Type: "Answer", ID: "re-" + e.ID})
		return &out, err
	})
	for _, tc := range []struct {
		typ    string
		status int
	}{{"Ok", 202}, {"Bad", 400}, {"Down", 503}, {"Unknown", 400}} {
		if code, _ := eventsink.Deliver(t, r, tc.typ, "1", nil); code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.typ, code, tc.status)
		}
	}
	code, reply := eventsink.Deliver(t, r, "Reply", "7", nil)
	if code != 200 || reply == nil || reply.Type != "Answer" || reply.ID != "re-7" {
		t.Errorf("reply: %d %+v", code, reply)
	}
	for _, req := range []*http.Request{
		httptest.NewRequest("GET", "/", nil),
		httptest.NewRequest("POST", "/", strings.NewReader("{}")),
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code/100 != 4 {
			t.Errorf("%s without an event: %d", req.Method, w.Code)
		}
	}
	e1, _ := events.Build("/t", time.Now(), events.Out{Type: "Ok", ID: "1"})
	e2, _ := events.Build("/t", time.Now(), events.Out{Type: "Ok", ID: "2"})
	req, _ := cloudevents.NewBatchRequest(context.Background(), "http://x/", []cloudevents.Event{e1, e2})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != 400 {
		t.Errorf("a batch: %d, want 400", w.Code)
	}
}

func TestDecodeData(t *testing.T) {
	var v struct{ A int }
	for _, tc := range []struct {
		data []byte
		ok   bool
	}{{[]byte(`{"A":1}`), true}, {nil, false}, {[]byte(`[1]`), false}, {[]byte(`{`), false}} {
		e := cloudevents.Event{Type: "T", ID: "1", Source: "/s", Data: tc.data}
		err := events.DecodeData(&e, &v)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, events.ErrMalformed) {
			t.Errorf("%s: %v", tc.data, err)
		}
	}
}

func TestCheckSessionID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"s-0a1b2c", true}, {"A.b_C-9", true}, {"", false}, {"has space", false}, {"é", false},
		{strings.Repeat("x", 128), true}, {strings.Repeat("x", 129), false}, {"a/b", false},
	} {
		if err := events.CheckSessionID(tc.id); (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.id, err)
		}
	}
}

// FuzzCheckSessionID: a session id the services accept makes valid
// CloudEvents as an id part, a correlation key and an extension.
func FuzzCheckSessionID(f *testing.F) {
	for _, s := range []string{"s-1", "", "a b", "\x00", "é", strings.Repeat("z", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if events.CheckSessionID(id) != nil {
			return
		}
		if _, err := events.Build("/s", time.Unix(0, 0), events.Out{Type: "T", ID: "joined-" + id, SessionID: id, CorrelationKey: id}); err != nil {
			t.Fatalf("accepted %q, which makes an invalid event: %v", id, err)
		}
	})
}

// TestEmitDetachedOutlivesItsRequest: an emission for a request whose
// client hung up still reaches the broker.
func TestEmitDetachedOutlivesItsRequest(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	p := events.NewPublisher(srv.URL, "/test", nil)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Emit(gone, events.Out{Type: "A.B", ID: "1"}); err == nil {
		t.Fatal("Emit with a cancelled context succeeded: the test proves nothing")
	}
	if err := p.EmitDetached(gone, events.Out{Type: "A.B", ID: "2"}); err != nil || calls.Load() != 1 {
		t.Fatalf("EmitDetached for a request whose client hung up: %v, %d posts; want the event posted", err, calls.Load())
	}
}
