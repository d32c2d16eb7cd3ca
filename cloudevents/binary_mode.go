package cloudevents

import (
	"net/http"
	"strconv"
	"strings"
)

// decodeBinary reads an event in binary content mode: attributes from ce-
// headers, datacontenttype from Content-Type, data from the body (which
// the event keeps, not copies).
func decodeBinary(h http.Header, body []byte) (Event, *Error) {
	var e Event
	var names strings.Builder // extension names share one allocation
	var first *Error          // the problem with the smallest header name, so errors do not depend on map order
	fail := func(err *Error) {
		if first == nil || err.Where < first.Where {
			first = err
		}
	}
	for key, vals := range h {
		if len(key) < 3 || key[0]|0x20 != 'c' || key[1]|0x20 != 'e' || key[2] != '-' {
			continue
		}
		name := coreHeaderName(key)
		if name == "" {
			name = appendLowerASCII(&names, key[3:])
		}
		if len(vals) != 1 {
			fail(badAttr(name, headerWhere(name), "header sent %d times; an attribute has one value", len(vals)))
			continue
		}
		text, msg := decodeHeaderValue(vals[0])
		if msg != "" {
			fail(badAttr(name, headerWhere(name), "%s", msg))
			continue
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
			fail(badAttr(name, headerWhere(name), "in binary mode the Content-Type header carries datacontenttype; ce-datacontenttype must not be sent"))
			continue
		}
		if dst != nil {
			switch {
			case text == "":
				fail(badAttr(name, headerWhere(name), "cannot be empty"))
			case *dst != "":
				// Only a header map built by hand, with keys that differ
				// in case, can get here: net/http merges them.
				fail(badAttr(name, headerWhere(name), "header sent twice"))
			default:
				*dst = text
			}
			continue
		}
		if msg := CheckName(name); msg != "" {
			fail(badAttr(name, headerWhere(name), "not a valid extension name: %s", msg))
			continue
		}
		if isReservedName(name) {
			fail(badAttr(name, headerWhere(name), "%q is a reserved name, not an extension", name))
			continue
		}
		if e.Extensions == nil {
			e.Extensions = make([]Extension, 0, 4) // events carry few
		}
		e.Extensions = append(e.Extensions, Extension{Name: name, Value: typedExtension(name, Value{TypeString, text})})
	}
	if first != nil {
		return Event{}, first
	}
	if ct := h["Content-Type"]; len(ct) > 0 {
		if len(ct) != 1 {
			return Event{}, badAttr("datacontenttype", "header \"Content-Type\"", "header sent %d times", len(ct))
		}
		if ct[0] == "" {
			return Event{}, badAttr("datacontenttype", "header \"Content-Type\"", "cannot be empty (leave the header out)")
		}
		e.DataContentType = ct[0]
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
		}
		return Event{}, err
	}
	return e, nil
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
func appendLowerASCII(names *strings.Builder, s string) string {
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
