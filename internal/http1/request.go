package http1

import (
	"io"
	"net/http"
	"net/url"
	"strings"
)

// newRequest builds the *http.Request a handler sees, in the
// connection's reused structures (a fast handler keeps nothing of its
// request, as Server.Route says). Its context never ends: a fast handler answers within milliseconds, and the fast path
// does not watch the connection while it runs (that watch is what costs
// net/http a goroutine per request).
func (c *conn) newRequest(method, path string, h *head, body []byte) *http.Request {
	c.body.b, c.body.i = body, 0
	if c.header == nil {
		c.header = make(http.Header, len(h.fields))
	}
	hdr := c.header
	clear(hdr)
	// Every value of the request is cut from one string: one copy and one
	// allocation. Reusing a connection's earlier values instead cost a
	// compare per value against memory that had gone cold in the cache
	// since the connection's last request.
	n := len(h.host) + len(h.target) + len(h.query)
	for _, f := range h.fields {
		n += len(f.value)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, f := range h.fields {
		sb.Write(f.value)
	}
	sb.Write(h.host)
	sb.Write(h.target)
	sb.Write(h.query)
	all, off := sb.String(), 0
	vals := append(c.vals[:0], make([]string, len(h.fields))...) // every value slice shares it
	for i, f := range h.fields {
		key := c.canonicalKey(f.name)
		vals[i] = all[off : off+len(f.value)]
		off += len(f.value)
		if prev, ok := hdr[key]; ok {
			hdr[key] = append(prev[:len(prev):len(prev)], vals[i])
			continue
		}
		hdr[key] = vals[i : i+1 : i+1]
	}
	c.vals = vals
	host := all[off : off+len(h.host)]
	off += len(h.host)
	target := all[off : off+len(h.target)]
	off += len(h.target)
	c.url = url.URL{Path: path, RawQuery: all[off:]}
	c.req = http.Request{
		Method:        method,
		URL:           &c.url,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        hdr,
		Body:          &c.body,
		ContentLength: h.contentLength,
		Host:          host,
		RemoteAddr:    c.remote,
		RequestURI:    target,
		Close:         h.close,
	}
	if h.contentLength == 0 {
		c.req.Body = http.NoBody
	}
	return &c.req
}

// method returns the method's string without allocating for the common
// ones.
func (c *conn) method(m []byte) string {
	switch string(m) {
	case "POST":
		return http.MethodPost
	case "GET":
		return http.MethodGet
	case "PUT":
		return http.MethodPut
	case "DELETE":
		return http.MethodDelete
	}
	return string(m)
}

// path returns the path as a string, the previous request's when they are
// equal: a connection usually posts to one path.
func (c *conn) path(p []byte) string {
	if string(p) != c.lastPath {
		c.lastPath = string(p)
	}
	return c.lastPath
}

// canonicalKey is the net/http form of a header name (the names arrive
// valid: parseHead refuses others). Common names, in any case, cost no
// allocation.
func (c *conn) canonicalKey(name []byte) string {
	if k, ok := commonKeys[string(name)]; ok {
		return k
	}
	b := []byte(string(name))
	upper := true
	for i, ch := range b {
		switch {
		case upper && 'a' <= ch && ch <= 'z':
			b[i] = ch - ('a' - 'A')
		case !upper && 'A' <= ch && ch <= 'Z':
			b[i] = ch + ('a' - 'A')
		}
		upper = ch == '-'
	}
	return string(b)
}

var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Encoding", "Authorization", "Content-Length", "Content-Type", "Connection",
		"User-Agent", "Traceparent", "Tracestate",
		"Ce-Id", "Ce-Source", "Ce-Type", "Ce-Specversion", "Ce-Time", "Ce-Subject", "Ce-Dataschema",
		"Ce-Correlationkey", "Ce-Partitionkey", "Ce-Traceparent",
	} {
		m[k] = k
		lower := []byte(k)
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		m[string(lower)] = k
	}
	return m
}()

// bodyReader is a request's body, read from the connection's buffer.
type bodyReader struct {
	b []byte
	i int
}

func (r *bodyReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func (r *bodyReader) Close() error { return nil }
