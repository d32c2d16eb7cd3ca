//go:build unix

package http1

import (
	"errors"
	"net"
	"syscall"
)

// rawConn is nc's file descriptor access, or nil when nc is not a socket
// (deferred answers need a write that does not wait).
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
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
	written := 0
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for written < len(b) {
			n, err := syscall.Write(int(fd), b[written:])
			if n > 0 {
				written += n
			}
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				return true
			case err != nil:
				werr = err
				return true
			case n == 0:
				return true
			}
		}
		return true
	})
	if err != nil {
		return written, err
	}
	return written, werr
}
