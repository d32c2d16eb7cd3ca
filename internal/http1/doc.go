// Package http1 serves the few routes that carry Eddy's request volume
// (one CloudEvent per POST, tens of thousands a second) on plain HTTP/1.1
// without net/http's per-request machinery, and hands every other
// connection to a net/http server.
//
// net/http spends about twice the CPU of the kernel's own work on a small
// keep-alive request: a goroutine and a read started on the connection
// for every request whose handler waits (to notice a client that goes
// away), a header map and a context built per request, and a response
// header assembled through several buffers. For a route whose handler
// answers within milliseconds none of that buys anything.
//
// The fast path takes only requests whose form it is sure of: HTTP/1.1,
// an origin-form path without escapes or dot segments, a Host header, a
// body of known Content-Length, no Transfer-Encoding, Expect or Upgrade.
// The first request it does not take (another route, another form, a
// malformed one) goes, with everything the connection sent from that
// request on, to the net/http server, which serves the connection from
// then on: its answers, errors included, are net/http's own.
package http1
