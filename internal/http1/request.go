package http1

import (
	"io"
	"net/http"
	"net/url"
)

// newRequest builds the *http.Request a handler sees, in the
// connection's reused structures (a fast handler keeps nothing of its
// request, as Server.Route says). Its context never ends: a fast handler answers within milliseconds, and the fast path
// does not watch the connection while it runs (that watch is what costs
// net/http a goroutine per request).
func (c *conn) newRequest(h *head, body []byte) *http.Request {
	c.body.b, c.body.i = body, 0
	if c.header == nil {
		c.header = make(http.Header, len(h.fields))
	}
	hdr := c.header
	clear(hdr)
	vals := append(c.vals[:0], make([]string, len(h.fields))...) // every value slice shares it
	for i, f := range h.fields {
		key := c.canonicalKey(f.name)
		vals[i] = c.intern(f.value)
		if prev, ok := hdr[key]; ok {
			hdr[key] = append(prev[:len(prev):len(prev)], vals[i])
			continue
		}
		hdr[key] = vals[i : i+1 : i+1]
	}
	c.vals = vals
	c.url = url.URL{Path: c.path(h.path), RawQuery: c.query(h.query)}
	c.req = http.Request{
		Method:        c.method(h.method),
		URL:           &c.url,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        hdr,
		Body:          &c.body,
		ContentLength: h.contentLength,
		Host:          c.intern(h.host),
		RemoteAddr:    c.remote,
		RequestURI:    c.intern(h.target),
		Close:         h.close,
	}
	if h.contentLength == 0 {
		c.req.Body = http.NoBody
	}
	return &c.req
}

// query returns the query as a string without allocating when there is
// none.
func (c *conn) query(q []byte) string {
	if len(q) == 0 {
		return ""
	}
	return c.intern(q)
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

// intern returns v as a string, reusing the connection's recent values:
// a client's requests repeat most of their header values.
func (c *conn) intern(v []byte) string {
	slot := &c.values[valueSlot(v)]
	if *slot != string(v) {
		*slot = string(v)
	}
	return *slot
}

// valueSlot hashes a value into the connection's small intern table.
func valueSlot(v []byte) int {
	h := uint32(len(v))
	for _, c := range v {
		h = h*31 + uint32(c)
	}
	return int(h % internSlots)
}

const internSlots = 32

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
