package cloudevents

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// decodeBinary reads an event in binary content mode: attributes from ce-
// headers, datacontenttype from Content-Type, data from the body (which
// the event keeps, not copies).
func decodeBinary(h http.Header, body []byte) (Event, *Error) {
	var d binaryDecoder
	for key, vals := range h {
		if len(key) < 3 || key[0]|0x20 != 'c' || key[1]|0x20 != 'e' || key[2] != '-' {
			continue
		}
		name := coreHeaderName(key)
		if name == "" {
			name = appendLowerASCII(&d.names, key[3:])
		}
		value := ""
		if len(vals) == 1 {
			value = vals[0]
		}
		d.attribute(name, value, len(vals))
	}
	ct := h["Content-Type"]
	value := ""
	if len(ct) > 0 {
		value = ct[0]
	}
	return d.finish(value, len(ct), body)
}

// binaryDecoder builds a binary-mode event from its headers, whatever
// holds them: a net/http header map, or the header lines a lean server
// parsed (FieldReader).
type binaryDecoder struct {
	e     Event
	names strings.Builder // extension names share one allocation
	first *Error          // the problem with the smallest header name, so errors do not depend on map order
	// decoded keeps the first header values that decoding changed (the
	// attribute's name, the value as sent), so that an error about one
	// shows what was sent, not only the text it became.
	decoded [4]struct{ name, sent string }
	ndec    int
}

func (d *binaryDecoder) fail(err *Error) {
	if d.first == nil || err.Where < d.first.Where {
		d.first = err
	}
}

// attribute takes the ce- header of the attribute name (lower-case), sent
// times times, with value the one it had if it was sent once.
func (d *binaryDecoder) attribute(name, value string, times int) {
	e := &d.e
	if times != 1 {
		d.fail(badAttr(name, headerWhere(name), "header sent %d times; an attribute has one value", times))
		return
	}
	text, msg := decodeHeaderValue(value)
	if msg != "" {
		d.fail(badAttr(name, headerWhere(name), "%s", msg))
		return
	}
	if len(text) != len(value) && d.ndec < len(d.decoded) {
		// Decoding only shortens a value: unchanged ones cost nothing.
		d.decoded[d.ndec].name, d.decoded[d.ndec].sent = name, value
		d.ndec++
	}
	var dst *string
	switch name {
	case "specversion":
		dst = &e.SpecVersion
	case "id":
		dst = &e.ID
	case "source":
		dst = &e.Source
	case "type":
		dst = &e.Type
	case "dataschema":
		dst = &e.DataSchema
	case "subject":
		dst = &e.Subject
	case "time":
		dst = &e.Time
	case "datacontenttype":
		d.fail(badAttr(name, headerWhere(name), "in binary mode the Content-Type header carries datacontenttype; ce-datacontenttype must not be sent"))
		return
	}
	if dst != nil {
		switch {
		case text == "":
			d.fail(badAttr(name, headerWhere(name), "cannot be empty"))
		case *dst != "":
			// Only a header map built by hand, with keys that differ
			// in case, can get here: net/http merges them.
			d.fail(badAttr(name, headerWhere(name), "header sent twice"))
		default:
			*dst = text
		}
		return
	}
	if msg := CheckName(name); msg != "" {
		d.fail(badAttr(name, headerWhere(name), "not a valid extension name: %s", msg))
		return
	}
	if isReservedName(name) {
		d.fail(badAttr(name, headerWhere(name), "%q is a reserved name, not an extension", name))
		return
	}
	if e.Extensions == nil {
		e.Extensions = make([]Extension, 0, 4) // events carry few
	}
	e.Extensions = append(e.Extensions, Extension{Name: name, Value: typedExtension(name, Value{TypeString, text})})
}

// finish checks the event once every ce- header is in: ct is the
// Content-Type, sent ctTimes times.
func (d *binaryDecoder) finish(ct string, ctTimes int, body []byte) (Event, *Error) {
	if d.first != nil {
		return Event{}, d.first
	}
	e := d.e
	if ctTimes > 0 {
		if ctTimes != 1 {
			return Event{}, badAttr("datacontenttype", "header \"Content-Type\"", "header sent %d times", ctTimes)
		}
		if ct == "" {
			return Event{}, badAttr("datacontenttype", "header \"Content-Type\"", "cannot be empty (leave the header out)")
		}
		e.DataContentType = ct
	}
	if len(body) > 0 {
		e.Data = body
	}
	if dup := sortExtensions(e.Extensions); dup != "" {
		return Event{}, badAttr(dup, headerWhere(dup), "header sent twice")
	}
	if err := e.validate(); err != nil {
		if err.Attribute == "datacontenttype" {
			err.Where = "header \"Content-Type\""
		} else if err.Attribute != "" {
			err.Where = headerWhere(err.Attribute)
			d.saySent(err)
		}
		return Event{}, err
	}
	return e, nil
}

// saySent adds to err the header value it is about as it was sent, when
// decoding changed it: "/a%20b" is refused as "/a b", which was not sent.
func (d *binaryDecoder) saySent(err *Error) {
	for _, x := range d.decoded[:d.ndec] {
		if x.name == err.Attribute {
			err.Reason += fmt.Sprintf(" (sent as %q: a header value is percent-decoded once, so a '%%' of the value itself is sent as %%25)", x.sent)
			return
		}
	}
}

// coreHeaderName maps the canonical keys of the core attributes to their
// names without allocating; "" for any other key.
func coreHeaderName(key string) string {
	switch key {
	case hSpecVersion:
		return "specversion"
	case hID:
		return "id"
	case hSource:
		return "source"
	case hType:
		return "type"
	case hTime:
		return "time"
	case hSubject:
		return "subject"
	case hDataSchema:
		return "dataschema"
	}
	return ""
}

// appendLowerASCII writes s lower-cased to names and returns it as a string
// of names' buffer, which stays valid when the buffer grows.
func appendLowerASCII[S string | []byte](names *strings.Builder, s S) string {
	if names.Cap() == 0 {
		names.Grow(64)
	}
	start := names.Len()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		names.WriteByte(c)
	}
	return names.String()[start:]
}

func headerWhere(name string) string { return "header " + strconv.Quote("ce-"+name) }

// Canonical header keys, so that setting them needs no canonicalisation.
const (
	hSpecVersion = "Ce-Specversion"
	hID          = "Ce-Id"
	hSource      = "Ce-Source"
	hType        = "Ce-Type"
	hDataSchema  = "Ce-Dataschema"
	hSubject     = "Ce-Subject"
	hTime        = "Ce-Time"
)

// setBinaryHeaders writes e's attributes as ce- headers and Content-Type.
func setBinaryHeaders(h http.Header, e *Event) {
	set := func(key, v string) {
		if v != "" {
			h[key] = []string{encodeHeaderValue(v)}
		}
	}
	set(hSpecVersion, e.SpecVersion)
	set(hID, e.ID)
	set(hSource, e.Source)
	set(hType, e.Type)
	set(hDataSchema, e.DataSchema)
	set(hSubject, e.Subject)
	set(hTime, e.Time)
	for _, x := range e.Extensions {
		h[extensionHeaderKey(x.Name)] = []string{encodeHeaderValue(x.Value.Text)}
	}
	if e.DataContentType != "" {
		h["Content-Type"] = []string{e.DataContentType}
	}
}

// extensionHeaderKey is textproto.CanonicalMIMEHeaderKey("ce-"+name) for
// a valid (lower-case alphanumeric) name.
func extensionHeaderKey(name string) string {
	b := make([]byte, 0, 3+len(name))
	b = append(b, "Ce-"...)
	b = append(b, name...)
	if len(name) > 0 && b[3] >= 'a' && b[3] <= 'z' {
		b[3] -= 'a' - 'A'
	}
	return string(b)
}
