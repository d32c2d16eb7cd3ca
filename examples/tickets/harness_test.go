package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/broker"
	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/tickets"
	"eddy/record"
	"eddy/storage"
)

// startTest runs the example on a free port with its data in a temporary
// directory, and stops it when the test ends.
func startTest(t testing.TB, cfg config) *app {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Stock == 0 {
		cfg.Stock = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	// Trigger processors find their segments at once, not after the
	// default 5 s.
	cfg.Broker = append(cfg.Broker, broker.WithClaimInterval(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return a
}

// model returns an embedded model, with the replacements applied (old,
// new, old, new, ...); each old text must occur.
func model(t testing.TB, version string, replace ...string) []byte {
	t.Helper()
	b, err := models.ReadFile("models/tickets-" + version + ".bpmn")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(replace); i += 2 {
		if !bytes.Contains(b, []byte(replace[i])) {
			t.Fatalf("model %s has no %q to replace", version, replace[i])
		}
		b = bytes.ReplaceAll(b, []byte(replace[i]), []byte(replace[i+1]))
	}
	return b
}

// call sends a JSON request to the example and decodes the answer into
// out (if not nil); it returns the status.
func call(t testing.TB, a *app, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// ledger is what the log says: the CloudEvents the broker took, and what
// became of each TICKETS process instance. It reads the log of every
// partition, and on each update only what was appended since.
type ledger struct {
	mu     sync.Mutex
	next   map[int]uint64
	events []cloudevents.Event
	// instances by process instance key; bySession maps a customer to
	// the instances Queue.CustomerJoined started.
	instances map[int64]*instance
	bySession map[string][]int64
	incidents []string
}

// instance is one process instance as its records tell it.
type instance struct {
	key       int64
	session   string
	completed []string // element ids, in completion order
	ended     bool     // the process itself completed or was terminated
}

func newLedger() *ledger {
	return &ledger{next: map[int]uint64{}, instances: map[int64]*instance{}, bySession: map[string][]int64{}}
}

// update reads what was appended to the log since the last update.
func (l *ledger) update(t testing.TB, a *app) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	st := a.node.Store
	for p := range st.Partitions() {
		err := st.Read(context.Background(), p, l.next[p], 0, func(e storage.Entry) error {
			l.next[p] = e.Position + 1
			var r record.Record
			if err := record.Unmarshal(e.Data, &r); err != nil {
				return fmt.Errorf("partition %d position %d: %w", p, e.Position, err)
			}
			return l.add(&r)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (l *ledger) add(r *record.Record) error {
	if r.Kind != record.Event {
		return nil
	}
	v := &r.Value
	switch r.ValueType {
	case record.CloudEvent:
		if r.Intent != record.Published {
			return nil
		}
		var e cloudevents.Event
		if err := cloudevents.Unmarshal(v.Event, &e); err != nil {
			return err
		}
		l.events = append(l.events, e)
	case record.MessageStartEventSubscription:
		if r.Intent == record.Correlated && v.BpmnProcessID == "TICKETS" {
			l.inst(v.ProcessInstanceKey).session = v.CorrelationKey
			l.bySession[v.CorrelationKey] = append(l.bySession[v.CorrelationKey], v.ProcessInstanceKey)
		}
	case record.ProcessInstance:
		if v.BpmnProcessID != "TICKETS" {
			return nil
		}
		in := l.inst(v.ProcessInstanceKey)
		switch {
		case r.Intent == record.ElementCompleted && v.ElementType == "PROCESS":
			in.ended = true
		case r.Intent == record.ElementTerminated && v.ElementType == "PROCESS":
			in.ended = true
		case r.Intent == record.ElementCompleted:
			in.completed = append(in.completed, v.ElementID)
		}
	case record.Incident:
		if r.Intent == record.Created {
			l.incidents = append(l.incidents, fmt.Sprintf("%s at %s: %s", v.ErrorType, v.ElementID, v.ErrorMessage))
		}
	}
	return nil
}

func (l *ledger) inst(key int64) *instance {
	in := l.instances[key]
	if in == nil {
		in = &instance{key: key}
		l.instances[key] = in
	}
	return in
}

// about reports whether e concerns the session: its sessionid extension,
// or, for the events a model emits, the sessionId among the variables in
// its data.
func about(e *cloudevents.Event, session string) bool {
	if v, ok := e.Extension(events.ExtSessionID); ok {
		return v.Text == session
	}
	var d struct {
		SessionID string `json:"sessionId"`
	}
	return json.Unmarshal(e.Data, &d) == nil && d.SessionID == session
}

// types counts the event types about the session.
func (l *ledger) types(session string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for i := range l.events {
		if about(&l.events[i], session) {
			out[l.events[i].Type]++
		}
	}
	return out
}

// instanceOf returns the session's only instance.
func (l *ledger) instanceOf(t testing.TB, session string) instance {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := l.bySession[session]
	if len(keys) != 1 {
		t.Fatalf("session %s started %d process instances, want 1", session, len(keys))
	}
	in := *l.instances[keys[0]]
	in.completed = append([]string(nil), in.completed...)
	return in
}

// waitFor polls the log until cond holds, failing the test after a
// generous deadline (the machine is small and shared).
func (l *ledger) waitFor(t testing.TB, a *app, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		l.update(t, a)
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			l.mu.Lock()
			var seen []string
			for i := range l.events {
				seen = append(seen, l.events[i].Type)
			}
			l.mu.Unlock()
			t.Fatalf("timed out waiting for %s; events on the log: %s", what, strings.Join(seen, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle polls the log until cond holds or a deadline passes, and reports
// whether it held: the caller says what was wrong.
func (l *ledger) settle(t testing.TB, a *app, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		l.update(t, a)
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stockSettles polls until the stock meets cond (the service counts a sale
// once its events are durable, so after the log and a page hear of it),
// and returns the stock last read and whether it did.
func stockSettles(t testing.TB, a *app, cond func(tickets.Stock) bool) (tickets.Stock, bool) {
	t.Helper()
	s := a.tickets.Stock()
	ok := newLedger().settle(t, a, func() bool { s = a.tickets.Stock(); return cond(s) })
	return s, ok
}

// waitEvent waits until an event of type typ about the session is on the
// log.
func (l *ledger) waitEvent(t testing.TB, a *app, session, typ string) {
	t.Helper()
	l.waitFor(t, a, typ+" for "+session, func() bool { return l.types(session)[typ] > 0 })
}

// waitEnded waits until the session's instance ended and returns it.
func (l *ledger) waitEnded(t testing.TB, a *app, session string) instance {
	t.Helper()
	l.waitFor(t, a, "the end of "+session+"'s process instance", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		keys := l.bySession[session]
		return len(keys) > 0 && l.instances[keys[0]].ended
	})
	return l.instanceOf(t, session)
}
