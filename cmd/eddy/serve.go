package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"eddy/api/rest"
	"eddy/engine"
	"eddy/internal/http1"
	"eddy/storage"
)

// engineSwitch runs the engine on the partitions this node holds and serves
// the REST API over it; the gRPC gateway asks it for the engine of each
// request. When the held partitions change (a dead node's
// taken over, one lost to another node) it starts a new engine on the new
// set: the engine runs a fixed set of partitions.
type engineSwitch struct {
	store  *storage.Store
	peers  engine.Peers // nil on a single node
	log    *slog.Logger
	limits engine.Limits

	mu     sync.RWMutex // held by requests (read) and by a switch (write)
	engine *engine.Engine
	// noEngine is set while the last start failed and an engine without
	// partitions stands in.
	noEngine bool
	api      *rest.Server
	// stop ends the requests of the current engine: long polls would
	// otherwise hold a switch up for their whole timeout.
	ctx  context.Context
	stop context.CancelFunc
	// runlock is mu.RUnlock as a value, made once: a method value made per
	// request would be allocated per request.
	runlock func()
}

func startEngineSwitch(ctx context.Context, store *storage.Store, epochs map[int]uint64, peers engine.Peers, limits engine.Limits, log *slog.Logger) (*engineSwitch, error) {
	s := &engineSwitch{store: store, peers: peers, log: log, limits: limits}
	s.runlock = s.mu.RUnlock
	if err := s.start(ctx, epochs); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *engineSwitch) start(ctx context.Context, epochs map[int]uint64) error {
	e, err := engine.Start(ctx, s.store, engine.Options{Epochs: epochs, Logger: s.log, Peers: s.peers, Limits: s.limits})
	if err != nil {
		return fmt.Errorf("starting the engine: %w", err)
	}
	s.engine, s.api = e, rest.New(e, rest.WithLogger(s.log))
	s.ctx, s.stop = context.WithCancel(context.Background())
	return nil
}

// Acquire hands a request the current engine (zeebe.Engines): the request
// holds it until release, and its context ends when a switch begins.
func (s *engineSwitch) Acquire(ctx context.Context) (*engine.Engine, context.Context, func()) {
	s.mu.RLock()
	if ctx.Done() == nil {
		// A context that never ends (the fast ingress path's): the
		// switch's own serves, with nothing to derive per request.
		return s.engine, s.ctx, s.runlock
	}
	reqCtx, cancel := context.WithCancel(ctx)
	stopAfter := context.AfterFunc(s.ctx, cancel)
	return s.engine, reqCtx, func() {
		stopAfter()
		cancel()
		s.mu.RUnlock()
	}
}

// ServeHTTP serves a request on the current engine. A create-with-result
// or publish-with-result whose wait a switch cut short is finished once the
// old engine is let go, on the new one (rest.WithLaterWait).
func (s *engineSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, ctx, release := s.Acquire(r.Context())
	if r.Method != http.MethodPost { // only a POST creates and waits
		defer release()
		s.api.ServeHTTP(w, r.WithContext(ctx))
		return
	}
	ctx, finish := rest.WithLaterWait(ctx)
	func() {
		defer release()
		s.api.ServeHTTP(w, r.WithContext(ctx))
	}()
	finish(r.Context(), s.Acquire, w, r)
}

// switchTo replaces the engine by one on epochs, once the requests in
// flight are over.
func (s *engineSwitch) switchTo(ctx context.Context, epochs map[int]uint64) {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.engine.Close()
	if err := s.start(ctx, epochs); err != nil {
		// Keep serving: an engine without partitions answers 503; the
		// claims loop tries again.
		s.log.Error("restarting the engine on the held partitions", "error", err)
		s.noEngine = true
		if err := s.start(ctx, nil); err != nil {
			s.log.Error("starting an engine without partitions", "error", err)
		}
		return
	}
	s.noEngine = false
	s.log.Info("engine restarted on the held partitions", "partitions", len(epochs))
}

// failed implements engineHealth.
func (s *engineSwitch) failed() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.engine.Failed()
}

// degraded implements engineHealth.
func (s *engineSwitch) degraded() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.noEngine
}

// close stops the current engine once requests are over.
func (s *engineSwitch) close() {
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.engine.Close()
}

// listenHTTP binds the REST API's address, first thing, so that a taken
// port is reported before anything starts.
func listenHTTP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot serve HTTP on --http %s: %w", addr, err)
	}
	return ln, nil
}

// serveHTTP serves h on ln until stop is called, the requests fast routes
// to by the lean HTTP/1.1 server (the CloudEvents ingress), the others by
// net/http. It returns the address clients can use: an unspecified host
// (":8080") is reached on the loopback address.
func serveHTTP(ln net.Listener, h http.Handler, fast func(method, path string) http.Handler, log *slog.Logger) (reachable string, stop func()) {
	fallback := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv := &http1.Server{Route: fast, Fallback: fallback}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "error", err)
		}
	}()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		<-done
	}
	return reachableAddress(ln), stop
}
