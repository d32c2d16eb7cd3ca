package frontend

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/eventsink"
)

// TestNotifier answers each event a model emits with a notification for
// the customer named in the process variables, as a Knative reply.
func TestNotifier(t *testing.T) {
	s := New(Config{Model: "v2", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for typ, n := range notices {
		e, err := events.Build("/eddy/processes/TICKETS", time.Now(), events.Out{Type: typ, ID: "2251799813685302",
			Data: map[string]any{"sessionId": "s-1", "reservationId": "r-1", "ticketsQuantity": 2}})
		if err != nil {
			t.Fatal(err)
		}
		e.SetExtension(events.ExtBpmnProcessID, cloudevents.StringValue("TICKETS"))
		code, reply := eventsink.DeliverEvent(t, s.Notifier(), &e)
		if code != http.StatusOK || reply == nil {
			t.Fatalf("%s: status %d, reply %v", typ, code, reply)
		}
		var got events.Notification
		sid, _ := reply.Extension(events.ExtSessionID)
		if err := events.DecodeData(reply, &got); err != nil || reply.Type != events.NotificationsRequested || sid.Text != "s-1" ||
			reply.ID != "notify-2251799813685302" || got.Kind != n.kind || got.Cause != typ || got.SessionID != "s-1" {
			t.Errorf("%s: reply %+v, notification %+v %v", typ, reply, got, err)
		}
	}
	if code, _ := eventsink.Deliver(t, s.Notifier(), events.TicketsReservation1MExpired, "1", map[string]any{"reservationId": "r-1"}); code != http.StatusBadRequest {
		t.Errorf("no sessionId: status %d, want 400", code)
	}
}

// TestPage serves the page, its script and its configuration.
func TestPage(t *testing.T) {
	srv := httptest.NewServer(New(Config{Model: "v4", Models: map[string]Terms{"v1": {}, "v4": {TransferFrom: 10, PaymentWindow: 2 * time.Minute}}}).Handler())
	defer srv.Close()
	for path, want := range map[string]string{
		"/":            `<script src="app.js"`,
		"/app.js":      `/v1/events/ws?sessionid=`,
		"/style.css":   `body`,
		"/config.json": `{"model":"v4","models":{"v1":{"transferFrom":0,"paymentWindowMs":0},"v4":{"transferFrom":10,"paymentWindowMs":120000}}}`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, want %q in %.200s", path, resp.StatusCode, want, b)
		}
	}
}
