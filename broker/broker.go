package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"eddy/storage"
)

// Broker is the CloudEvents broker of one node. New makes it, Start runs
// its processors and its job worker, Handler serves its HTTP API, Close
// stops it. Nodes sharing a store share triggers, waits and deliveries: a
// trigger's segments are spread over the nodes that run it.
type Broker struct {
	eng   Engine
	store *storage.Store
	o     options
	state *stateWriter
	hub   *hub
	waits *waits
	// Triggers manages the triggers: the REST handlers call it, and so can
	// a node that loads triggers from files at start.
	Triggers *Router
	mux      *http.ServeMux
	ingress  http.Handler

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a broker that publishes through eng and reads the log of
// store (the engine's).
func New(eng Engine, store *storage.Store, opts ...Opt) (*Broker, error) {
	if eng == nil || store == nil {
		return nil, errors.New("broker: New needs an engine and a store")
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.statePartition >= store.Partitions() {
		return nil, fmt.Errorf("broker: WithStatePartition(%d): the store has partitions 0-%d", o.statePartition, store.Partitions()-1)
	}
	b := &Broker{eng: eng, store: store, o: o, state: newStateWriter(store, o.statePartition), hub: newHub(store, o.pushBuffer, o.maxSubscribers)}
	if b.waits, err = newWaits(b); err != nil {
		return nil, err
	}
	b.Triggers = newRouter(b)
	b.mux = http.NewServeMux()
	b.ingress = ingressHandler{b}
	b.routes()
	return b, nil
}

// Start loads the stored triggers and starts their processors, the
// processor that completes waiting jobs, and the worker for jobs of type
// "cloudevents". They run until Close; ctx bounds the start only.
func (b *Broker) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return errors.New("broker: started already")
	}
	ident, err := logIdentity(ctx, b.store)
	if err != nil {
		return err
	}
	b.hub.idPrefix = ident + "@"
	// The waits' processor starts before the worker can arm a wait, so
	// that it reads every answer from the head it starts at.
	if err := b.waits.proc.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("broker: starting the processor of waiting jobs: %w", err)
	}
	// What Start starts runs until Close: ctx bounds the start only.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := b.Triggers.start(runCtx); err != nil {
		cancel()
		_ = b.waits.proc.Stop(context.WithoutCancel(ctx))
		return err
	}
	b.cancel, b.started = cancel, true
	if b.o.jobWorker {
		w := newJobWorker(b)
		b.wg.Add(1)
		go func() { defer b.wg.Done(); w.run(runCtx) }()
	}
	return nil
}

// Close stops the broker: the job worker, the triggers' processors (their
// last batches commit), the live subscriptions. The engine and the store
// stay open.
// EndStreams ends the live push streams (Server-Sent Events and
// WebSocket), telling each client that the broker is shutting down, and
// refuses new ones. A server that shuts down calls it before it waits for
// its requests: a stream never ends by itself, and would hold the
// shutdown until it gave up on it. Close ends them too.
func (b *Broker) EndStreams() { b.hub.close() }

func (b *Broker) Close(ctx context.Context) error {
	b.mu.Lock()
	started, cancel := b.started, b.cancel
	b.started = false
	b.mu.Unlock()
	b.hub.close()
	if !started {
		return nil
	}
	cancel()
	b.wg.Wait()
	// Side by side, so that a hung delivery's wait is not charged to the
	// waits' processor.
	waits := make(chan error, 1)
	go func() { waits <- b.waits.proc.Stop(ctx) }()
	return errors.Join(b.Triggers.stop(ctx), <-waits)
}

// Handler serves the broker's HTTP API:
//
//	POST /v1/events                      ingress (binary, structured, batch)
//	POST /{namespace}/{broker}           ingress, as Knative's broker ingress
//	GET  /v1/events/stream?attr=v&cesql= live events as Server-Sent Events
//	GET  /v1/events/ws?attr=v&cesql=     live events over a WebSocket
//	GET  /v1/triggers                    the triggers, with their status
//	GET|PUT|DELETE /v1/triggers/{namespace}/{name}
//	POST /v1/triggers/{namespace}/{name}/retry   parked events, again
//	POST /v1/triggers/{namespace}/{name}/replay  {"from":"tail"|"head"|time}
//
// Other methods on these paths are answered 405 with Allow. A PUT, DELETE
// or POST of the trigger API from a browser page of another origin is
// answered 403 (newWriteGuard); the ingress and the streams follow
// WithAllowedOrigins. The broker-ingress path
// takes POSTs whose first segment is not "v1"; what the broker does not
// serve (other paths, and other methods on the broker-ingress path) goes to
// the WithFallback handler, or is answered 404 and 405 without one. So a
// node can make the broker its top handler and the REST API and console
// its fallback.
func (b *Broker) Handler() http.Handler { return b.mux }

// ServeHTTP is Handler's.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.mux.ServeHTTP(w, r) }

func (b *Broker) routes() {
	b.mux.HandleFunc("/v1/events", b.serveIngress)
	fallback := b.o.fallback
	if fallback == nil {
		fallback = http.NotFoundHandler()
	}
	b.mux.Handle("/", fallback)
	b.mux.HandleFunc("/{namespace}/{broker}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("namespace") == "v1":
			fallback.ServeHTTP(w, r)
		case r.Method != http.MethodPost && b.o.fallback != nil &&
			(r.Method != http.MethodOptions || r.Header.Get("WebHook-Request-Origin") == ""):
			// The fallback (the console) may serve such a path; what it
			// does not is the broker ingress's, which takes POST.
			fallback.ServeHTTP(&ingressMethods{ResponseWriter: w, r: r}, r)
		default:
			b.serveIngress(w, r)
		}
	})
	writes := newWriteGuard()
	for _, rt := range b.apiRoutes() {
		for _, m := range rt.methods {
			b.mux.Handle(m.method+" "+rt.path, writes(m.handle))
		}
		// Another method would reach the catch-alls above, and the
		// fallback's 404; it is a 405 naming what is allowed.
		allow := rt.allow()
		b.mux.HandleFunc(rt.path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeProblem(w, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: this path takes %s", r.Method, r.URL.Path, allow))
		})
	}
}

// apiRoute is a path of the broker's API besides the ingress, with the
// handler of each method it takes. One table makes the mux's routes, their
// 405s, and the list the OpenAPI test holds the document to.
type apiRoute struct {
	path    string
	methods []apiMethod
}

type apiMethod struct {
	method string
	handle http.HandlerFunc
}

// allow is the route's Allow header: its methods, and HEAD with GET (the
// mux serves a GET route's HEAD).
func (rt apiRoute) allow() string {
	var ms []string
	for _, m := range rt.methods {
		ms = append(ms, m.method)
		if m.method == http.MethodGet {
			ms = append(ms, http.MethodHead)
		}
	}
	return strings.Join(ms, ", ")
}

func (b *Broker) apiRoutes() []apiRoute {
	r := b.Triggers
	return []apiRoute{
		{"/v1/events/stream", []apiMethod{{http.MethodGet, b.serveSSE}, {http.MethodOptions, b.serveSSEPreflight}}},
		{"/v1/events/ws", []apiMethod{{http.MethodGet, b.serveWebSocket}}},
		{"/v1/triggers", []apiMethod{{http.MethodGet, r.serveList}}},
		{"/v1/triggers/{namespace}/{name}", []apiMethod{{http.MethodGet, r.serveGet}, {http.MethodPut, r.servePut}, {http.MethodDelete, r.serveDelete}}},
		{"/v1/triggers/{namespace}/{name}/retry", []apiMethod{{http.MethodPost, r.serveRetry}}},
		{"/v1/triggers/{namespace}/{name}/replay", []apiMethod{{http.MethodPost, r.serveReplay}}},
		{"/v1/triggers/{namespace}/{name}/deadletters", []apiMethod{{http.MethodGet, r.serveDeadLetters}}},
		{"/v1/triggers/{namespace}/{name}/deadletters/{letter}", []apiMethod{{http.MethodDelete, r.serveEvict}}},
	}
}

// ingressMethods turns the fallback's 404 for a broker-ingress path into
// the 405 it is: the path exists, for POST.
type ingressMethods struct {
	http.ResponseWriter
	r       *http.Request
	refused bool // the fallback's 404 was replaced: its body goes nowhere
}

func (w *ingressMethods) WriteHeader(code int) {
	if code != http.StatusNotFound {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.refused = true
	h := w.ResponseWriter.Header()
	h.Del("Content-Length")
	h.Set("Allow", allowedMethods)
	writeProblem(w.ResponseWriter, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: a broker's ingress path takes %s", w.r.Method, w.r.URL.Path, allowedMethods))
}

func (w *ingressMethods) Write(p []byte) (int, error) {
	if w.refused {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}
