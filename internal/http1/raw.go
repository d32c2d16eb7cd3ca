package http1

import "net/http"

// RawHandler is a handler that can serve a request from the fast path's
// parse of it, without the *http.Request built for ServeHTTP (its header
// map and values cost more than the rest of the parse). A Route handler
// that implements it is given each request through ServeRaw first; it
// returns false, having written nothing, for a request it leaves to
// ServeHTTP.
type RawHandler interface {
	http.Handler
	ServeRaw(w http.ResponseWriter, r *RawRequest) (served bool)
}

// RawRequest is a request as the fast path parsed it. It and every slice
// it gives are the connection's, valid until ServeRaw returns: a handler
// copies what it keeps.
type RawRequest struct {
	Method string
	Path   string
	Body   []byte
	fields []field
}

// NumFields is how many header lines the request has, Host aside.
func (r *RawRequest) NumFields() int { return len(r.fields) }

// Field returns header line i, in arrival order; the name is as sent, in
// any case.
func (r *RawRequest) Field(i int) (name, value []byte) {
	f := &r.fields[i]
	return f.name, f.value
}

// rawRequest fills the connection's RawRequest for h, whose method and
// path serveSome has made strings already.
func (c *conn) rawRequest(method, path string, h *head, body []byte) *RawRequest {
	c.parsed = RawRequest{Method: method, Path: path, Body: body, fields: h.fields}
	return &c.parsed
}
