package http1

import "net/http"

// A handler that waits for its answer on another goroutine (the broker's
// ingress waits for a commit) parks its connection's goroutine twice per
// request: once for the answer, once for the next request. Deferring the
// answer removes the first: the handler returns at once, the connection
// goes back to reading, and the goroutine that learns the answer writes
// it.

// Defer lets a fast handler answer after it returns. The handler calls
// Defer, returns, and later, from any goroutine, writes its answer into w
// and calls finish, exactly once: finish sends the answer. Until then the
// connection reads on but serves no other request, so that answers keep
// their order, and the handler must not use the request any more once it
// has returned.
//
// finish does not block: it writes what the connection takes at once, and
// leaves the rest of an answer to a client that is not reading to a
// goroutine of its own, so that one slow client never holds up whoever
// answers many.
//
// Defer returns nil when the answer cannot be deferred: w is not the fast
// path's, the request closes its connection, the server is shutting down,
// or the connection is not a socket. The handler then answers before it
// returns, as usual.
func Defer(w http.ResponseWriter) (finish func()) {
	rw, ok := w.(*response)
	if !ok || rw.conn == nil || !rw.deferrable || rw.deferred {
		return nil
	}
	rw.deferred = true
	return rw.conn.finish
}

// finishDeferred writes the deferred answer, on the goroutine of whoever
// answers; the connection's goroutine touches neither the response nor
// the output buffer until it has been told (settle).
func (c *conn) finishDeferred() {
	// An answer that says the connection closes is its last: settle then
	// ends the connection, though the next request may be read already.
	c.closing = c.srv.shutdown.Load()
	c.out = c.resp.appendTo(c.out[:0], c.closing, c.dateValue())
	n, err := c.writeNow(c.out)
	if err == nil && n < len(c.out) {
		go c.finishWrite(c.out[n:])
		return
	}
	c.writeErr = err
	c.answered <- struct{}{}
}

// finishWrite writes the rest of an answer the client has no room for yet.
func (c *conn) finishWrite(rest []byte) {
	_, c.writeErr = c.nc.Write(rest)
	c.answered <- struct{}{}
}

// settle waits until a deferred answer has been written; false when the
// connection must close: the answer could not be written, or it said the
// connection closes.
func (c *conn) settle() bool {
	if !c.pending {
		return true
	}
	<-c.answered
	c.pending = false
	if cap(c.out) > keptBuffer {
		c.out = nil
	}
	err := c.writeErr
	c.writeErr = nil
	return err == nil && !c.closing
}
