//go:build !unix

package http1

import (
	"net"
	"syscall"
)

// rawConn is nil: without a write that does not wait, answers are not
// deferred here.
func rawConn(net.Conn) syscall.RawConn { return nil }

func (c *conn) writeNow(b []byte) (int, error) { return c.nc.Write(b) }

// serveRaw is not reached here (rawConn gives no RawConn); it serves
// through net.Conn as serve does.
func (c *conn) serveRaw() bool {
	_, handOff := c.serveSome(c.read)
	return handOff
}
