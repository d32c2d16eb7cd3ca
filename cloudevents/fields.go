package cloudevents

import (
	"bytes"
	"strings"
)

// FieldReader reads the event of a POST from its header lines and body as
// a lean HTTP server parsed them, without the header map and request that
// net/http would build for it (together 7% of the node's CPU under the
// ingress's load). It takes the common forms: one event in binary or
// structured mode, each ce- header and Content-Type sent once. For any
// other request (a batch, a header sent twice, more ce- headers than it
// keeps) Read says so, and the caller reads it with ReadRequest, which
// answers it as it always has.
type FieldReader struct {
	ce       [maxFieldAttributes]rawField
	n        int
	ct       []byte
	ctSent   bool
	declined bool
}

// maxFieldAttributes is how many ce- headers a FieldReader keeps.
const maxFieldAttributes = 16

type rawField struct{ name, value []byte }

// Add takes one header line, name in any case. The slices must stay as
// they are until Read returns.
func (r *FieldReader) Add(name, value []byte) {
	switch {
	case equalFoldLower(name, "content-type"):
		r.declined = r.declined || r.ctSent
		r.ct, r.ctSent = value, true
	case equalFoldLower(name, "content-encoding"):
		r.declined = true // ReadRequest refuses or takes it
	case len(name) >= 3 && name[0]|0x20 == 'c' && name[1]|0x20 == 'e' && name[2] == '-':
		if len(name) == 3 || r.n == len(r.ce) {
			r.declined = true
			return
		}
		for i := range r.n {
			if bytes.EqualFold(r.ce[i].name, name) {
				r.declined = true
				return
			}
		}
		r.ce[r.n] = rawField{name, value}
		r.n++
	}
}

// Read returns the event of a request whose header lines were added, or
// the error ReadRequest returns for the same request; ok is false, with
// nothing else, when the request is not one a FieldReader takes. The body
// may be at most limit bytes (DefaultLimit when limit <= 0); the event
// keeps a copy of it.
func (r *FieldReader) Read(body []byte, limit int64) (e Event, err error, ok bool) {
	if r.declined {
		return Event{}, nil, false
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	// Content-Type and the attributes' values, in one allocation.
	n := len(r.ct)
	for i := range r.n {
		n += len(r.ce[i].value)
	}
	var sb strings.Builder
	sb.Grow(n)
	sb.Write(r.ct)
	for i := range r.n {
		sb.Write(r.ce[i].value)
	}
	all := sb.String()
	ct := all[:len(r.ct)]
	mt, derr := contentMode(ct, true)
	switch {
	case derr != nil:
		return Event{}, derr, true
	case mt == MediaTypeJSONBatch:
		return Event{}, nil, false
	case int64(len(body)) > limit:
		return Event{}, tooLarge(limit), true
	}
	b := bytes.Clone(body) // body is the server's buffer, used again
	if mt == MediaTypeJSON {
		e, derr := decodeStructured(b)
		if derr != nil {
			return Event{}, derr, true
		}
		return e, nil, true
	}
	spec := false
	for i := range r.n {
		spec = spec || equalFoldLower(r.ce[i].name[3:], "specversion")
	}
	if !spec {
		return Event{}, missingSpecVersion(), true
	}
	var d binaryDecoder
	off := len(r.ct)
	for i := range r.n {
		f := &r.ce[i]
		value := all[off : off+len(f.value)]
		off += len(f.value)
		name := coreFieldName(f.name[3:])
		if name == "" {
			name = appendLowerASCII(&d.names, f.name[3:])
		}
		d.attribute(name, value, 1)
	}
	ctSent := 0
	if r.ctSent {
		ctSent = 1
	}
	e, derr = d.finish(ct, ctSent, b)
	if derr != nil {
		return Event{}, derr, true
	}
	return e, nil, true
}

// coreFieldName is the name of the core attribute whose ce- header has
// the name s after "ce-", in any case, without allocating; "" for others.
func coreFieldName(s []byte) string {
	for _, name := range [...]string{"specversion", "id", "source", "type", "time", "subject", "dataschema"} {
		if equalFoldLower(s, name) {
			return name
		}
	}
	return ""
}

// equalFoldLower reports whether b is lower, which is lower-case ASCII, in
// any case.
func equalFoldLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
