package broker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/engine"
	"eddy/internal/http1"
	"eddy/internal/pgtest"
	"eddy/processor/deadletter"
	"eddy/record"
	"eddy/storage"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// testEnv is a broker on a real engine on pebble, served over HTTP.
type testEnv struct {
	t   testing.TB
	dir string
	// backend is the store's ("pebble" when empty), at dir.
	backend string
	opts    []Opt
	// wrap, when set, puts something between the broker and the engine
	// (a fault to inject).
	wrap  func(Engine) Engine
	store *storage.Store
	eng   *engine.Engine
	b     *Broker
	srv   *testServer
}

// testServer serves the broker as a node does: the ingress on the lean
// HTTP/1.1 path, the rest on net/http.
type testServer struct {
	URL      string
	Listener net.Listener
	srv      *http1.Server
	done     chan error
}

func serveBroker(t testing.TB, b *Broker) *testServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{URL: "http://" + ln.Addr().String(), Listener: ln, done: make(chan error, 1),
		srv: &http1.Server{Route: b.FastRoute, Fallback: &http.Server{Handler: b.Handler()}}}
	go func() { ts.done <- ts.srv.Serve(ln) }()
	return ts
}

func (ts *testServer) Close() {
	ts.srv.Close()
	<-ts.done
}

// newEnv starts an engine of two partitions and a broker on it; the test's
// end stops them.
func newEnv(t testing.TB, opts ...Opt) *testEnv { return newEnvThrough(t, nil, opts...) }

// newEnvOnPostgres is newEnv on a PostgreSQL schema of its own, the store
// nodes share.
func newEnvOnPostgres(t testing.TB, opts ...Opt) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: pgtest.Schema(t), backend: "postgres", opts: opts}
	e.start()
	t.Cleanup(e.stop)
	return e
}

// newEnvThrough is newEnv with wrap between the broker and the engine.
func newEnvThrough(t testing.TB, wrap func(Engine) Engine, opts ...Opt) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: t.TempDir(), opts: opts, wrap: wrap}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *testEnv) start() {
	t := e.t
	t.Helper()
	ctx := context.Background()
	backend := e.backend
	if backend == "" {
		backend = "pebble"
	}
	store, err := storage.Open(ctx, backend, e.dir, storage.WithPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	epochs := map[int]uint64{}
	for p := 0; p < store.Partitions(); p++ {
		c, err := store.Ownership().ClaimPartition(ctx, p, "test", time.Nanosecond)
		if err != nil {
			t.Fatal(err)
		}
		epochs[p] = c.Epoch
	}
	eng, err := engine.Start(ctx, store, engine.Options{Epochs: epochs})
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]Opt{WithNodeID("test-node"), WithClaimInterval(50 * time.Millisecond), WithRefreshInterval(100 * time.Millisecond)}, e.opts...)
	var through Engine = eng
	if e.wrap != nil {
		through = e.wrap(eng)
	}
	b, err := New(through, store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.store, e.eng, e.b = store, eng, b
	e.srv = serveBroker(t, b)
}

func (e *testEnv) stop() {
	if e.b == nil {
		return
	}
	e.srv.Close()
	if err := e.b.Close(context.Background()); err != nil {
		e.t.Errorf("closing the broker: %v", err)
	}
	e.eng.Close()
	e.store.Close()
	e.b = nil
}

// logged is how many entries the partitions' logs hold.
func (e *testEnv) logged() int64 {
	e.t.Helper()
	var n int64
	for p := 0; p < e.store.Partitions(); p++ {
		b, err := e.store.Bounds(context.Background(), p)
		if err != nil {
			e.t.Fatal(err)
		}
		if b.Last > 0 {
			n += int64(b.Last - b.First + 1)
		}
	}
	return n
}

// restart stops everything and starts it again on the same directory.
func (e *testEnv) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// do sends a request to the broker's HTTP API and reads the answer.
func (e *testEnv) do(method, path, contentType string, body []byte, header ...string) (int, string) {
	e.t.Helper()
	resp := e.request(method, path, contentType, body, header...)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// request sends a request to the broker's HTTP API (header: name, value,
// ...) and returns the answer with its body unread, closed when the test
// ends.
func (e *testEnv) request(method, path, contentType string, body []byte, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// send posts events in structured mode (one) or as a batch (several) and
// requires a 202.
func (e *testEnv) send(events ...cloudevents.Event) {
	e.t.Helper()
	var body []byte
	ct := cloudevents.MediaTypeJSON
	if len(events) == 1 {
		body = cloudevents.AppendJSON(nil, &events[0])
	} else {
		body = cloudevents.AppendJSONBatch(nil, events)
		ct = cloudevents.MediaTypeJSONBatch
	}
	if code, msg := e.do("POST", "/v1/events", ct, body); code != http.StatusAccepted {
		e.t.Fatalf("posting %d events: %d %s", len(events), code, msg)
	}
}

// putTrigger stores a trigger through the REST API.
func (e *testEnv) putTrigger(ns, name, yaml string) {
	e.t.Helper()
	code, body := e.do("PUT", "/v1/triggers/"+ns+"/"+name, "application/yaml", []byte(yaml))
	if code != http.StatusCreated && code != http.StatusOK {
		e.t.Fatalf("PUT trigger %s/%s: %d %s", ns, name, code, body)
	}
}

// loggedWithID counts the CloudEvents of id on the log.
func (e *testEnv) loggedWithID(id string) int {
	e.t.Helper()
	n := 0
	for _, l := range e.loggedEvents() {
		if l.ID == id {
			n++
		}
	}
	return n
}

// loggedEvents returns the CloudEvents on the log, every partition.
func (e *testEnv) loggedEvents() []cloudevents.Event {
	e.t.Helper()
	var out []cloudevents.Event
	for p := 0; p < e.store.Partitions(); p++ {
		err := e.store.Read(context.Background(), p, 1, 1<<20, func(en storage.Entry) error {
			if !isCloudEventEntry(en.Data) {
				return nil
			}
			ev, err := decodeCloudEvent(p, en)
			if err == nil {
				out = append(out, *ev)
			}
			return err
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

func (e *testEnv) deploy(name string) {
	e.t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.eng.Deploy(context.Background(), record.Resource{Name: name, Content: data}); err != nil {
		e.t.Fatal(err)
	}
}

// event returns a valid event of type typ with id id.
func event(typ, id string, ext ...string) cloudevents.Event {
	e := cloudevents.Event{ID: id, Source: "/test", SpecVersion: "1.0", Type: typ, DataContentType: "application/json", Data: []byte(`{"n":1}`)}
	for i := 0; i+1 < len(ext); i += 2 {
		e.SetExtension(ext[i], cloudevents.StringValue(ext[i+1]))
	}
	return e
}

// subscriber is an HTTP server that records the events it receives and
// answers with respond (202 when nil).
type subscriber struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	respond  func(n int, e *cloudevents.Event, w http.ResponseWriter)
	requests int
}

type received struct {
	event  cloudevents.Event
	at     time.Time
	header http.Header
}

func newSubscriber(t testing.TB, respond func(n int, e *cloudevents.Event, w http.ResponseWriter)) *subscriber {
	s := &subscriber{respond: respond}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events, err := cloudevents.ReadRequest(r, 0)
		if err != nil {
			t.Errorf("subscriber got a malformed delivery: %v", err)
			cloudevents.WriteError(w, err)
			return
		}
		s.mu.Lock()
		n := s.requests
		s.requests++
		s.got = append(s.got, received{event: events[0].Clone(), at: time.Now(), header: r.Header.Clone()})
		s.mu.Unlock()
		if s.respond != nil {
			s.respond(n, &events[0], w)
		} else {
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// wait waits until the subscriber has received n requests in all.
func (s *subscriber) wait(t testing.TB, n int) []received {
	t.Helper()
	eventually(t, fmt.Sprintf("%d deliveries (have %d)", n, s.count()), func() bool { return s.count() >= n })
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

func (s *subscriber) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func triggerYAML(name, filterType, uri, extra string) string {
	y := "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: " + name + "\n  namespace: default\nspec:\n  broker: default\n"
	if filterType != "" {
		y += "  filter:\n    attributes:\n      type: " + filterType + "\n"
	}
	y += "  subscriber:\n    uri: " + uri + "\n"
	return y + strings.TrimRight(extra, "\n")
}

// orderedTrigger is the trigger document y (triggerYAML's) with ordered
// delivery.
func orderedTrigger(y string) string {
	return strings.Replace(y, "  namespace: default\n", "  namespace: default\n  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\n", 1)
}

// answerBrokenReply answers an event with a reply the broker refuses: its
// data is declared JSON but is not.
func answerBrokenReply(_ int, e *cloudevents.Event, w http.ResponseWriter) {
	h := w.Header()
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Id", "reply-of-"+e.ID)
	h.Set("Ce-Source", "/subscriber")
	h.Set("Ce-Type", "bad.reply")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte("{not json"))
}

// parkLarge parks n events of size bytes of data in the ordered trigger
// name, whose subscriber refuses the first unread and so sees no other:
// they park behind it, in one sequence (one partition key).
func parkLarge(t *testing.T, env *testEnv, name string, n, size int) {
	t.Helper()
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
	t.Cleanup(sub.Close)
	env.putTrigger("default", name, orderedTrigger(triggerYAML(name, "", sub.URL, "")))
	data := []byte(`"` + strings.Repeat("x", size-2) + `"`)
	for i := range n {
		e := event(name, fmt.Sprintf("%s-%02d", name, i), "partitionkey", "one")
		e.Data = data
		env.send(e)
	}
	eventually(t, "every event parked", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", name)
		return st.DeadLetters == n
	})
}

// holdParked makes a Process call of the test's hold the trigger's first
// dead-lettered sequence, as another node's retry would, until release.
func holdParked(t testing.TB, env *testEnv, trigger string) (release func()) {
	t.Helper()
	env.b.Triggers.mu.Lock()
	dlq := env.b.Triggers.running[trigger].dlq
	env.b.Triggers.mu.Unlock()
	holdCtx, cancel := context.WithCancel(t.Context())
	holding, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		_, _ = dlq.Process(holdCtx, func(ctx context.Context, _ deadletter.Letter) error {
			close(holding)
			<-ctx.Done()
			return ctx.Err()
		}, nil)
	}()
	<-holding
	return func() { cancel(); <-done }
}
