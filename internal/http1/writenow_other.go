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

// serveConn serves requests until the connection ends (false) or goes to
// net/http (true), reading through net.Conn.
func (c *conn) serveConn() bool {
	_, handOff := c.serveSome(c.read)
	return handOff
}
