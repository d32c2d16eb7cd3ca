package queue

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/eventsink"
)

func newQueue(t *testing.T, cfg Config) (*Service, *eventsink.Sink) {
	t.Helper()
	sink := eventsink.New(t)
	return New(events.NewPublisher(sink.URL, "/test/queue", nil), cfg), sink
}

func run(t *testing.T, s *Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestFirstComeFirstServed joins customers one after the other and checks
// that they leave in that order, each once, with the extensions the
// models and the page need.
func TestFirstComeFirstServed(t *testing.T) {
	s, sink := newQueue(t, Config{MaxBatch: 3})
	ctx := context.Background()
	var want []string
	for i := range 10 {
		id := fmt.Sprintf("s%d", i)
		st, err := s.Join(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State != Waiting || st.Position != i {
			t.Fatalf("join %s: %+v, want waiting at position %d", id, st, i)
		}
		want = append(want, id)
	}
	run(t, s)
	exited := sink.Await(t, events.QueueCustomerExited, 10)
	for i, e := range exited {
		ck, _ := e.Extension(events.ExtCorrelationKey)
		sid, _ := e.Extension(events.ExtSessionID)
		if ck.Text != want[i] || sid.Text != want[i] || e.ID != "exited-"+want[i] {
			t.Errorf("exit %d: id %s correlationkey %q sessionid %q, want %s", i, e.ID, ck.Text, sid.Text, want[i])
		}
	}
	joined := sink.OfType(events.QueueCustomerJoined)
	if len(joined) != 10 {
		t.Fatalf("%d joins emitted", len(joined))
	}
	if ck, _ := joined[3].Extension(events.ExtCorrelationKey); ck.Text != "s3" || !strings.Contains(string(joined[3].Data), `"position":3`) {
		t.Errorf("join event: %s %s", ck.Text, joined[3].Data)
	}
	eventsink.Eventually(t, "10 exits counted", func() bool { st := s.Stats(); return st.Exited == 10 && st.Waiting == 0 })
}

// TestJoinOnce joins the same session concurrently: one Queue.CustomerJoined,
// one place in the line, one exit.
func TestJoinOnce(t *testing.T) {
	s, sink := newQueue(t, Config{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Join(context.Background(), "same"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	run(t, s)
	sink.Await(t, events.QueueCustomerExited, 1)
	if n := len(sink.OfType(events.QueueCustomerJoined)); n != 1 {
		t.Errorf("%d joins emitted for one session", n)
	}
	eventsink.Eventually(t, "1 exit counted", func() bool { return s.Stats().Exited == 1 })
}

// TestBrokerDown checks that nothing is counted before the broker has it:
// a join the broker refused leaves no trace, and exits the broker refused
// are emitted again, to the same customers, in the same order.
func TestBrokerDown(t *testing.T) {
	s, sink := newQueue(t, Config{})
	sink.Refuse(10) // more than the publisher's attempts
	if _, err := s.Join(context.Background(), "early"); err == nil {
		t.Fatal("join succeeded while the broker refused")
	}
	if _, err := s.Status("early"); err != ErrUnknown {
		t.Fatalf("a refused join left the customer known: %v", err)
	}
	sink.Refuse(0)
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.Join(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	sink.Refuse(8) // the first exit batch fails once (6 attempts), then again partly
	run(t, s)
	exited := sink.Await(t, events.QueueCustomerExited, 3)
	for i, id := range []string{"a", "b", "c"} {
		if exited[i].ID != "exited-"+id {
			t.Errorf("exit %d is %s", i, exited[i].ID)
		}
	}
	eventsink.Eventually(t, "3 exits counted", func() bool { return s.Stats().Exited == 3 })
}

// TestAbandonAndCleanUp: a customer who abandons, or whose session v3
// cleans up, never leaves the queue.
func TestAbandonAndCleanUp(t *testing.T) {
	s, sink := newQueue(t, Config{})
	ctx := context.Background()
	for _, id := range []string{"stays", "leaves", "cleaned"} {
		if _, err := s.Join(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Abandon(ctx, "nobody"); err != ErrUnknown {
		t.Errorf("abandoning an unknown session: %v", err)
	}
	if st, err := s.Abandon(ctx, "leaves"); err != nil || st.State != Abandoned {
		t.Fatalf("abandon: %+v %v", st, err)
	}
	if _, err := s.Abandon(ctx, "leaves"); err != nil {
		t.Fatal(err)
	}
	if code, _ := eventsink.Deliver(t, s.Events(), events.SessionCleanUp, "job-1", map[string]any{"sessionId": "cleaned", "other": 1}); code != http.StatusAccepted {
		t.Fatalf("Session.CleanUp: status %d", code)
	}
	if code, _ := eventsink.Deliver(t, s.Events(), events.SessionCleanUp, "job-2", map[string]any{"other": 1}); code != http.StatusBadRequest {
		t.Errorf("Session.CleanUp without sessionId: status %d, want 400", code)
	}
	if st, _ := s.Status("cleaned"); st.State != Abandoned {
		t.Errorf("cleaned session: %+v", st)
	}
	run(t, s)
	sink.Await(t, events.QueueCustomerExited, 1)
	if exits := sink.OfType(events.QueueCustomerExited); len(exits) != 1 || exits[0].ID != "exited-stays" {
		t.Errorf("exits: %v", exits)
	}
	abandoned := sink.OfType(events.QueueCustomerAbandoned)
	if len(abandoned) != 1 {
		t.Fatalf("%d abandon events", len(abandoned))
	}
	if ck, _ := abandoned[0].Extension(events.ExtCorrelationKey); ck.Text != "leaves" {
		t.Errorf("abandon correlation key %q", ck.Text)
	}
	eventsink.Eventually(t, "the counts", func() bool { st := s.Stats(); return st.Abandoned == 2 && st.Exited == 1 && st.Waiting == 0 })
}

// TestAbandonWhileJoining: an abandon that comes while the join's event is
// still in flight waits for it, so that the broker (and the model) sees the
// join first; the customer ends abandoned, never in the line.
func TestAbandonWhileJoining(t *testing.T) {
	s, sink := newQueue(t, Config{})
	ctx := context.Background()
	release := sink.Hold()
	t.Cleanup(release) // a failed check must not leave requests held
	joined := make(chan error, 1)
	go func() { _, err := s.Join(ctx, "late"); joined <- err }()
	eventsink.Eventually(t, "the join in flight", func() bool { return sink.Requests() == 1 })
	abandoned := make(chan error, 1)
	go func() {
		st, err := s.Abandon(ctx, "late")
		if err == nil && st.State != Abandoned {
			err = fmt.Errorf("abandon answered %+v", st)
		}
		abandoned <- err
	}()
	// The abandon must not emit while the join is in flight.
	time.Sleep(100 * time.Millisecond)
	if n := sink.Requests(); n != 1 {
		t.Fatalf("%d requests reached the broker while the join was in flight, want the join's alone", n)
	}
	release()
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	if err := <-abandoned; err != nil {
		t.Fatal(err)
	}
	evs := sink.Events()
	if len(evs) != 2 || evs[0].Type != events.QueueCustomerJoined || evs[1].Type != events.QueueCustomerAbandoned {
		t.Fatalf("the broker got %v, want the join, then the abandon", evs)
	}
	if st := s.Stats(); st.Abandoned != 1 || st.Waiting != 0 {
		t.Fatalf("counts %+v, want one abandoned and nobody waiting", st)
	}
	run(t, s)
	if _, err := s.Join(ctx, "after"); err != nil {
		t.Fatal(err)
	}
	sink.Await(t, events.QueueCustomerExited, 1)
	if exits := sink.OfType(events.QueueCustomerExited); len(exits) != 1 || exits[0].ID != "exited-after" {
		t.Fatalf("exits %v: the abandoned customer left the queue", exits)
	}
}

// An abandon whose join failed finds no customer, and emits nothing.
func TestAbandonAfterFailedJoin(t *testing.T) {
	s, sink := newQueue(t, Config{})
	release := sink.Hold()
	t.Cleanup(release)
	sink.Refuse(100)
	joined := make(chan error, 1)
	go func() { _, err := s.Join(context.Background(), "refused"); joined <- err }()
	eventsink.Eventually(t, "the join in flight", func() bool { return sink.Requests() == 1 })
	abandoned := make(chan error, 1)
	go func() { _, err := s.Abandon(context.Background(), "refused"); abandoned <- err }()
	release()
	if err := <-joined; err == nil {
		t.Fatal("the join succeeded while the broker refused")
	}
	if err := <-abandoned; err != ErrUnknown {
		t.Fatalf("abandoning after a failed join: %v, want ErrUnknown", err)
	}
	if n := len(sink.OfType(events.QueueCustomerAbandoned)); n != 0 {
		t.Fatalf("%d abandon events for a customer who never joined", n)
	}
}

// TestPacer feeds the bucket synthetic times.
func TestPacer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name  string
		rate  float64
		steps []time.Duration // offsets from t0 at which grant is called
		spend bool
		want  []int
	}{
		{"one a second", 1, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second}, true, []int{0, 1, 1, 0}},
		{"idle does not burst", 1, []time.Duration{time.Hour}, false, []int{2}},
		{"fast rate per tick", 1000, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, true, []int{10, 10}},
		{"fast rate capped at two ticks", 1000, []time.Duration{time.Second}, false, []int{20}},
		{"limit", 1000, []time.Duration{time.Second}, false, []int{5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer(tc.rate, t0)
			limit := 100
			if tc.name == "limit" {
				limit = 5
			}
			for i, d := range tc.steps {
				n := p.grant(t0.Add(d), limit)
				if n != tc.want[i] {
					t.Fatalf("step %d (+%v): granted %d, want %d", i, d, n, tc.want[i])
				}
				if tc.spend {
					p.spend(n)
				}
			}
		})
	}
}

// TestHTTP drives the API as the page does.
func TestHTTP(t *testing.T) {
	s, _ := newQueue(t, Config{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	cases := []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"POST", "/join", `{"sessionId":"web-1"}`, 200, `"state":"waiting"`},
		{"POST", "/join", `{"sessionId":"web-2"}`, 200, `"position":1`},
		{"GET", "/customers/web-2", ``, 200, `"position":1`},
		{"GET", "/customers/nobody", ``, 404, `not joined`},
		{"POST", "/join", `{"sessionId":"bad id"}`, 400, `sessionId has ' '`},
		{"POST", "/join", `{"session":"x"}`, 400, `unknown field`},
		{"POST", "/join", ``, 400, `empty`},
		{"POST", "/abandon", `{"sessionId":"web-1"}`, 200, `"state":"abandoned"`},
		{"GET", "/stats", ``, 200, `"waiting":1`},
		{"GET", "/join", ``, 405, ``},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.contains) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", tc.method, tc.path, tc.body, resp.StatusCode, b, tc.status, tc.contains)
		}
	}
}
