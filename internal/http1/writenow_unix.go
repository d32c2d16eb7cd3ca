//go:build unix

package http1

import (
	"errors"
	"net"
	"syscall"
)

// rawConn is nc's file descriptor access, or nil when nc is not a plain
// socket (deferred answers need a write that does not wait). A wrapper
// that has a descriptor too is left out: its own Write would be bypassed.
func rawConn(nc net.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// writeNow writes what the socket takes without waiting: a full send
// buffer ends it early, without an error.
func (c *conn) writeNow(b []byte) (int, error) {
	if c.tryWrite == nil {
		c.tryWrite = c.writeSome // bound once: a closure per write escapes
	}
	c.pendingOut, c.wrote, c.tryErr = b, 0, nil
	err := c.raw.Write(c.tryWrite)
	n, werr := c.wrote, c.tryErr
	c.pendingOut, c.tryErr = nil, nil
	if err != nil {
		return n, err
	}
	return n, werr
}

// writeSome is writeNow's one attempt on the socket: it never asks to
// wait for room.
func (c *conn) writeSome(fd uintptr) bool {
	for c.wrote < len(c.pendingOut) {
		n, err := syscall.Write(int(fd), c.pendingOut[c.wrote:])
		if n > 0 {
			c.wrote += n
		}
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return true
		case err != nil:
			c.tryErr = err
			return true
		case n == 0:
			return true
		}
	}
	return true
}
