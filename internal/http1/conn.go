package http1

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync/atomic"
	"time"
)

// conn is a connection the fast path serves, one request at a time.
type conn struct {
	srv    *Server
	nc     net.Conn
	remote string

	buf      []byte // read, not yet consumed: buf[start:]
	start    int
	head     head
	body     bodyReader
	req      http.Request // reused: a fast handler keeps nothing of it
	url      url.URL
	header   http.Header
	vals     []string
	resp     response
	out      []byte
	deadline time.Time // the read deadline set on nc
	lastPath string
	values   [internSlots]string

	busy atomic.Bool // a request is being served
}

const (
	initialBuffer = 4 << 10
	// A buffer grown past this for a large request is let go once idle.
	keptBuffer = 64 << 10
)

// wake makes an idle connection's pending read return, so that it sees a
// shutdown.
func (c *conn) wake() {
	if !c.busy.Load() {
		c.nc.SetReadDeadline(time.Now())
	}
}

func (c *conn) serve() {
	defer c.srv.forget(c)
	handedOff := false
	defer func() {
		if !handedOff {
			c.nc.Close()
		}
	}()
	c.buf = make([]byte, 0, initialBuffer)
	for {
		h := &c.head
		n, st := parseHead(c.buf[c.start:], h)
		switch st {
		case headPartial:
			if !c.read(false) {
				return
			}
			continue
		case headDeclined:
			handedOff = c.handOff()
			return
		}
		handler := c.srv.Route(c.method(h.method), c.path(h.path))
		if handler == nil {
			handedOff = c.handOff()
			return
		}
		for int64(len(c.buf)-c.start-n) < h.contentLength {
			if !c.read(true) {
				return
			}
		}
		end := c.start + n + int(h.contentLength)
		ok := c.serveRequest(handler, h, c.buf[c.start+n:end])
		if !ok || h.close || c.srv.shutdown.Load() {
			return
		}
		c.consume(end)
	}
}

// read reads more of the connection into buf; false when the connection
// is done (closed, timed out, or the server shutting down while idle).
func (c *conn) read(inRequest bool) bool {
	idle := c.start == len(c.buf) && !inRequest
	c.setDeadline(idle)
	if len(c.buf) == cap(c.buf) {
		c.grow()
	}
	// Idle from here: a shutdown that begins now either sees it and
	// wakes the read (its deadline comes after ours), or is seen here.
	c.busy.Store(!idle)
	if idle && c.srv.shutdown.Load() {
		return false
	}
	m, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
	c.busy.Store(true)
	c.buf = c.buf[:len(c.buf)+m]
	if err != nil {
		if m > 0 && !errors.Is(err, io.EOF) {
			return false
		}
		return m > 0
	}
	return true
}

// setDeadline keeps the read deadline within the idle timeout (between
// requests) or the header timeout (inside one), moving it only when it
// has drifted by half of that: one timer change every many requests.
func (c *conn) setDeadline(idle bool) {
	limit := c.srv.idleTimeout()
	if !idle {
		limit = c.srv.headerTimeout()
	}
	now := time.Now()
	left := c.deadline.Sub(now)
	if left > limit || left < limit/2 {
		c.deadline = now.Add(limit)
		c.nc.SetReadDeadline(c.deadline)
	}
}

// grow makes room in buf: the consumed part is dropped first, then the
// buffer doubles.
func (c *conn) grow() {
	if c.start > 0 {
		c.buf = c.buf[:copy(c.buf, c.buf[c.start:])]
		c.start = 0
		if len(c.buf) < cap(c.buf) {
			return
		}
	}
	b := make([]byte, len(c.buf), 2*cap(c.buf))
	copy(b, c.buf)
	c.buf = b
}

// consume drops a served request from buf.
func (c *conn) consume(end int) {
	c.start = end
	if c.start == len(c.buf) {
		c.start, c.buf = 0, c.buf[:0]
		if cap(c.buf) > keptBuffer {
			c.buf = make([]byte, 0, initialBuffer)
		}
	}
}

// handOff gives the connection, from the current request on, to the
// net/http server.
func (c *conn) handOff() bool {
	if c.srv.shutdown.Load() {
		return false
	}
	c.nc.SetReadDeadline(time.Time{})
	pending := append([]byte(nil), c.buf[c.start:]...)
	return c.srv.handoff.give(&replayConn{Conn: c.nc, pending: pending})
}

// serveRequest runs the handler and writes its answer; false when the
// connection must close (a write failed, the handler panicked).
func (c *conn) serveRequest(handler http.Handler, h *head, body []byte) (ok bool) {
	r := c.newRequest(h, body)
	w := &c.resp
	w.reset()
	defer func() {
		if err := recover(); err != nil {
			if err != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.logf("http: panic serving %v: %v\n%s", c.remote, err, buf)
			}
			ok = false
		}
	}()
	handler.ServeHTTP(w, r)
	c.out = w.appendTo(c.out[:0], h.close || c.srv.shutdown.Load(), time.Now())
	if _, err := c.nc.Write(c.out); err != nil {
		return false
	}
	if cap(c.out) > keptBuffer {
		c.out = nil
	}
	return true
}

func (c *conn) logf(format string, args ...any) {
	if l := c.srv.Fallback.ErrorLog; l != nil {
		l.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
