//go:build unix

package http1

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// serveConn serves requests until the connection ends (false) or goes to
// net/http (true). A plain socket is served from inside one wait on it
// (RawConn.Read), reading the socket itself. Go's poller forgets a
// readiness event at the start of every Read, so each Read must try the
// socket before it may wait. A client with one request in flight sends
// the next only after the answer, so that try found nothing once per
// request: a system call in vain per event. Within one RawConn.Read the
// events are kept, so after a read that left the socket empty the
// connection waits at once, and data that came since wakes it.
//
// Data that ends with the client's FIN reads short too, and its readiness
// may have been spent already: a wait begun without a read is therefore
// given a deadline probeAfter away, after which the socket is read again.
func (c *conn) serveConn() (handOff bool) {
	if c.raw == nil {
		_, handOff = c.serveSome(c.read)
		return handOff
	}
	read := c.readRaw
	serve := func(sysfd uintptr) bool {
		c.fd = sysfd
		wait, h := c.serveSome(read)
		if wait {
			return false
		}
		handOff = h
		return true
	}
	for {
		err := c.raw.Read(serve)
		// An error (a deadline passed, the connection closed) ends the
		// connection, as a failed Read does, unless it was the probe's.
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || !c.readDeadline.Before(c.deadline) {
			return handOff
		}
		c.setReadDeadline(c.deadline)
	}
}

// probeAfter bounds a wait that began without a read. A busy connection
// pays for it with a read and two deadline changes four times a second;
// an idle one, with one read.
const probeAfter = 250 * time.Millisecond

// readRaw reads more of the connection into buf from the socket;
// readWait when it has nothing yet, readDone when the connection is done.
func (c *conn) readRaw(inBody bool) readResult {
	if !c.prepareRead(inBody) {
		return readDone
	}
	if c.drained {
		c.drained = false
		if probe := time.Now().Add(probeAfter); c.readDeadline.After(probe) {
			c.setReadDeadline(probe)
		}
		return readWait
	}
	for {
		m, err := syscall.Read(int(c.fd), c.buf[len(c.buf):cap(c.buf)])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return readWait
		case err != nil || m <= 0: // m == 0: the client closed
			return readDone
		}
		c.busy.Store(true)
		c.buf = c.buf[:len(c.buf)+m]
		// Less than there was room for: the socket was empty when the
		// read ended, and whatever comes after will wake the wait.
		c.drained = len(c.buf) < cap(c.buf)
		return readMore
	}
}
