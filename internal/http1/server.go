package http1

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/1.1 on a listener: requests Route gives a handler to
// are served by the fast path; a connection's first other request, and
// everything after it, is served by Fallback.
type Server struct {
	// Route returns the handler of a request the fast path serves, from
	// its method and path (without the query), or nil. A fast handler
	// must answer promptly and must not keep the request after it
	// returns; its answer is written whole, with a Content-Length (no
	// streaming, no Flusher, no Hijacker). A handler that is also a
	// RawHandler is offered the request as parsed first.
	Route func(method, path string) http.Handler
	// Fallback serves everything else. Its ReadHeaderTimeout and
	// IdleTimeout also bound the fast path's connections.
	Fallback *http.Server

	mu       sync.Mutex
	ln       net.Listener
	handoff  *handoffListener
	conns    map[*conn]struct{}
	shutdown atomic.Bool
	wg       sync.WaitGroup // fast connections
	served   chan struct{}  // closed when Fallback's Serve returns
}

// Serve accepts connections on ln until Shutdown or Close, and returns
// http.ErrServerClosed then. It closes ln when it returns.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	s.mu.Lock()
	if s.shutdown.Load() {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	if s.ln != nil {
		s.mu.Unlock()
		return errors.New("http1: Serve called twice")
	}
	s.ln = ln
	s.handoff = newHandoffListener(ln.Addr())
	s.conns = map[*conn]struct{}{}
	s.served = make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.served)
		// Its error only says why it stopped; it closes the handoff
		// listener then, so a later handover closes its connection.
		s.Fallback.Serve(s.handoff)
	}()
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and the like: wait, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.handoff.Close()
			return err
		}
		delay = 0
		c := s.newConn(nc)
		if c == nil {
			nc.Close()
			continue
		}
		go c.serve()
	}
}

func (s *Server) newConn(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown.Load() {
		return nil
	}
	c := &conn{srv: s, nc: nc, remote: nc.RemoteAddr().String(), answered: make(chan struct{}, 1)}
	c.finish, c.raw = c.finishDeferred, rawConn(nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting, lets the fast requests in flight finish, closes
// the fast connections as they go idle, then shuts Fallback down with
// ctx (see http.Server.Shutdown).
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.closeConns()
		<-done
	}
	err := s.Fallback.Shutdown(ctx)
	s.waitServed()
	return err
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.stop()
	s.closeConns()
	s.wg.Wait()
	err := s.Fallback.Close()
	s.waitServed()
	return err
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown.Swap(true) || s.ln == nil {
		return
	}
	s.ln.Close()
	s.handoff.Close()
	for c := range s.conns {
		c.wake()
	}
}

// closeConns closes every connection, each on a goroutine of its own:
// closing a socket waits for its reader, and a fast-path connection
// reads from inside RawConn.Read, handler included, so one slow handler
// would hold up the closing of all the others.
func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		go c.nc.Close()
	}
}

func (s *Server) waitServed() {
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	if served != nil {
		<-served
	}
}

func (s *Server) idleTimeout() time.Duration {
	return firstSet(2*time.Minute, s.Fallback.IdleTimeout, s.Fallback.ReadTimeout)
}

func (s *Server) headerTimeout() time.Duration {
	return firstSet(10*time.Second, s.Fallback.ReadHeaderTimeout, s.Fallback.ReadTimeout)
}

// firstSet is the first positive of ds, else def: net/http's order of
// falling back from one timeout to another.
func firstSet(def time.Duration, ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d > 0 {
			return d
		}
	}
	return def
}
