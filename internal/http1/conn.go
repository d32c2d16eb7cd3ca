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
	"syscall"
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
	parsed   RawRequest   // reused likewise, for a RawHandler
	url      url.URL
	header   http.Header
	vals     []string
	resp     response
	out      []byte
	deadline time.Time // the read deadline for what is awaited
	// readDeadline is the one set on nc: deadline, or a raw wait's
	// earlier probe.
	readDeadline time.Time
	inHead       bool // deadline is the current head's
	lastPath     string
	date         []byte // Date of the second dateSec
	dateSec      int64

	busy atomic.Bool // a request is being served

	// pending is set while a deferred answer has not been written;
	// answered tells the connection's goroutine it has (see Defer).
	pending  bool
	answered chan struct{}
	finish   func()          // finishDeferred, bound once
	writeErr error           // the deferred answer's, read after answered
	closing  bool            // the deferred answer said Connection: close
	raw      syscall.RawConn // nil: answers are not deferred
	fd       uintptr         // the socket, while serveConn reads it raw
	drained  bool            // the last raw read left the socket empty

	// writeNow's state, for the function it hands the socket.
	tryWrite   func(fd uintptr) bool
	pendingOut []byte
	wrote      int
	tryErr     error
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
		// A deferred answer the connection could not send is lost with it.
		_ = c.settle()
		if !handedOff {
			c.nc.Close()
		}
	}()
	c.buf = make([]byte, 0, initialBuffer)
	if c.serveConn() {
		handedOff = c.handOff()
	}
}

// readResult is what an attempt to read more of the connection came to.
type readResult int

const (
	readMore readResult = iota // buf holds more
	readWait                   // nothing yet: wait for the socket (raw reads only)
	readDone                   // the connection is done
)

// serveSome serves requests, reading with read, until read says to wait
// for the socket (wait) or the connection is done; handOff: the rest of
// it goes to net/http.
func (c *conn) serveSome(read func(inBody bool) readResult) (wait, handOff bool) {
	for {
		h := &c.head
		n, st := parseHead(c.buf[c.start:], h)
		switch st {
		case headPartial:
			if r := read(false); r != readMore {
				return r == readWait, false
			}
			continue
		case headDeclined:
			return false, true
		}
		c.inHead = false
		method, path := c.method(h.method), ""
		var handler http.Handler
		if method != http.MethodHead { // answered without a body: net/http's
			path = c.path(h.path)
			handler = c.srv.Route(method, path)
		}
		if handler == nil {
			return false, true
		}
		for int64(len(c.buf)-c.start-n) < h.contentLength {
			if r := read(true); r != readMore {
				return r == readWait, false
			}
		}
		end := c.start + n + int(h.contentLength)
		ok := c.serveRequest(handler, method, path, h, c.buf[c.start+n:end])
		if !ok || h.close || c.srv.shutdown.Load() {
			return false, false
		}
		c.consume(end)
	}
}

// prepareRead sets the deadline and makes room for a read; false when the
// connection is to end instead (the server shutting down while it idles).
// inBody is set while a request's body is awaited.
func (c *conn) prepareRead(inBody bool) bool {
	idle := c.start == len(c.buf) && !inBody
	c.setDeadline(idle, inBody)
	if len(c.buf) == cap(c.buf) {
		c.grow()
	}
	// Idle from here: a shutdown that begins now either sees it and
	// wakes the read (its deadline comes after ours), or is seen here.
	c.busy.Store(!idle)
	return !idle || !c.srv.shutdown.Load()
}

// read reads more of the connection into buf through net.Conn, waiting
// for it; readDone when the connection is done (closed, timed out, or the
// server shutting down while idle).
func (c *conn) read(inBody bool) readResult {
	if !c.prepareRead(inBody) {
		return readDone
	}
	m, err := c.nc.Read(c.buf[len(c.buf):cap(c.buf)])
	c.busy.Store(true)
	c.buf = c.buf[:len(c.buf)+m]
	if err != nil && (m == 0 || !errors.Is(err, io.EOF)) {
		return readDone
	}
	return readMore
}

// setDeadline sets the read deadline for what is awaited:
//   - between requests, the idle timeout, moved only once it has drifted
//     by half (one timer change every many requests);
//   - for the rest of a head, the header timeout from the head's first
//     bytes, as net/http's ReadHeaderTimeout;
//   - for a body, the header timeout again whenever half of it has passed
//     with data arriving: a body is bounded by its length, not a time.
func (c *conn) setDeadline(idle, inBody bool) {
	now := time.Now()
	var limit time.Duration
	switch {
	case idle:
		c.inHead = false
		limit = c.srv.idleTimeout()
	case !inBody:
		if c.inHead {
			return
		}
		c.inHead = true
		c.deadline = now.Add(c.srv.headerTimeout())
		c.setReadDeadline(c.deadline)
		return
	default:
		c.inHead = false
		limit = c.srv.headerTimeout()
	}
	left := c.deadline.Sub(now)
	if left > limit || left < limit/2 {
		c.deadline = now.Add(limit)
		c.setReadDeadline(c.deadline)
	}
}

// setReadDeadline sets nc's read deadline and notes it: a raw wait may
// set an earlier one of its own (readRaw's probe).
func (c *conn) setReadDeadline(t time.Time) {
	c.readDeadline = t
	c.nc.SetReadDeadline(t)
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
// net/http server, once a deferred answer before it is out.
func (c *conn) handOff() bool {
	if !c.settle() || c.srv.shutdown.Load() {
		return false
	}
	c.nc.SetReadDeadline(time.Time{})
	pending := append([]byte(nil), c.buf[c.start:]...)
	return c.srv.handoff.give(&replayConn{Conn: c.nc, pending: pending})
}

// serveRequest runs the handler and writes its answer, once a deferred
// answer before it is out; false when the connection must close (a write
// failed, the handler panicked, the answer before it closed).
func (c *conn) serveRequest(handler http.Handler, method, path string, h *head, body []byte) (ok bool) {
	if !c.settle() {
		return false
	}
	w := &c.resp
	w.reset()
	w.conn, w.deferrable = c, c.raw != nil && !h.close && !c.srv.shutdown.Load()
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
	if rh, ok := handler.(RawHandler); !ok || !rh.ServeRaw(w, c.rawRequest(method, path, h, body)) {
		handler.ServeHTTP(w, c.newRequest(method, path, h, body))
	}
	if w.deferred {
		c.pending = true
		return true
	}
	c.out = w.appendTo(c.out[:0], h.close || c.srv.shutdown.Load(), c.dateValue())
	if _, err := c.nc.Write(c.out); err != nil {
		return false
	}
	if cap(c.out) > keptBuffer {
		c.out = nil
	}
	return true
}

// dateValue is the Date of an answer now, formatted once a second.
func (c *conn) dateValue() []byte {
	now := time.Now()
	if sec := now.Unix(); sec != c.dateSec || c.date == nil {
		c.dateSec = sec
		c.date = now.UTC().AppendFormat(c.date[:0], http.TimeFormat)
	}
	return c.date
}

func (c *conn) logf(format string, args ...any) {
	if l := c.srv.Fallback.ErrorLog; l != nil {
		l.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}
