package cloudevents

import (
	"slices"
	"sort"
	"strings"
)

// SpecVersion is the only CloudEvents version Eddy accepts and sends.
const SpecVersion = "1.0"

// Event is one CloudEvent. Context attributes are kept as their canonical
// string representations; an optional attribute that is "" is absent.
// Extensions are sorted by name and unique (SetExtension keeps them so).
// Data is nil when the event has no data.
type Event struct {
	ID              string
	Source          string // URI-reference
	SpecVersion     string
	Type            string
	DataContentType string // RFC 2046 media type
	DataSchema      string // absolute URI
	Subject         string
	Time            string // RFC 3339 timestamp, as received

	Extensions []Extension
	Data       []byte
}

// Extension is one extension context attribute.
type Extension struct {
	Name  string
	Value Value
}

// Attribute returns the value of the context attribute or extension called
// name, and whether the event has it. Core attributes come with their spec
// types (source is a URI-reference, time a Timestamp, ...).
func (e *Event) Attribute(name string) (Value, bool) {
	var v Value
	switch name {
	case "id":
		v = Value{TypeString, e.ID}
	case "source":
		v = Value{TypeURIRef, e.Source}
	case "specversion":
		v = Value{TypeString, e.SpecVersion}
	case "type":
		v = Value{TypeString, e.Type}
	case "datacontenttype":
		v = Value{TypeString, e.DataContentType}
	case "dataschema":
		v = Value{TypeURI, e.DataSchema}
	case "subject":
		v = Value{TypeString, e.Subject}
	case "time":
		v = Value{TypeTimestamp, e.Time}
	default:
		return e.Extension(name)
	}
	return v, v.Text != ""
}

// Extension returns the extension called name, and whether the event has it.
func (e *Event) Extension(name string) (Value, bool) {
	// Events carry few extensions: a linear scan beats a binary search.
	for i := range e.Extensions {
		if e.Extensions[i].Name == name {
			return e.Extensions[i].Value, true
		}
	}
	return Value{}, false
}

// SetExtension sets (or replaces) the extension called name. It does not
// validate; Validate does.
func (e *Event) SetExtension(name string, v Value) {
	i := sort.Search(len(e.Extensions), func(i int) bool { return e.Extensions[i].Name >= name })
	if i < len(e.Extensions) && e.Extensions[i].Name == name {
		e.Extensions[i].Value = v
		return
	}
	e.Extensions = append(e.Extensions, Extension{})
	copy(e.Extensions[i+1:], e.Extensions[i:])
	e.Extensions[i] = Extension{Name: name, Value: v}
}

// DeleteExtension removes the extension called name, if the event has it.
func (e *Event) DeleteExtension(name string) {
	for i := range e.Extensions {
		if e.Extensions[i].Name == name {
			e.Extensions = append(e.Extensions[:i], e.Extensions[i+1:]...)
			return
		}
	}
}

// Size is the event's size as the specification counts it: the data plus
// every attribute's name and canonical value. Intermediaries must forward
// events of up to 64 KB; Eddy accepts more (see ReadRequest's limit).
func (e *Event) Size() int {
	n := len(e.Data)
	add := func(name, v string) {
		if v != "" {
			n += len(name) + len(v)
		}
	}
	add("id", e.ID)
	add("source", e.Source)
	add("specversion", e.SpecVersion)
	add("type", e.Type)
	add("datacontenttype", e.DataContentType)
	add("dataschema", e.DataSchema)
	add("subject", e.Subject)
	add("time", e.Time)
	for _, x := range e.Extensions {
		n += len(x.Name) + len(x.Value.Text)
	}
	return n
}

// Clone returns a deep copy of e: extensions and data are not shared.
func (e *Event) Clone() Event {
	c := *e
	if e.Extensions != nil {
		c.Extensions = append([]Extension(nil), e.Extensions...)
	}
	if e.Data != nil {
		c.Data = append([]byte{}, e.Data...)
	}
	return c
}

// sortExtensions sorts extensions by name and reports the first name that
// appears twice.
func sortExtensions(xs []Extension) (dup string) {
	sorted := true
	for i := 1; i < len(xs); i++ {
		if xs[i-1].Name >= xs[i].Name {
			sorted = false
			break
		}
	}
	if !sorted {
		// Stability does not matter: equal names are refused.
		slices.SortFunc(xs, func(a, b Extension) int { return strings.Compare(a.Name, b.Name) })
	}
	for i := 1; i < len(xs); i++ {
		if xs[i-1].Name == xs[i].Name {
			return xs[i].Name
		}
	}
	return ""
}

// DataIsJSON reports whether the event's datacontenttype declares JSON (as
// an absent one does): the rule the JSON format encodes data by.
func (e *Event) DataIsJSON() bool { return isJSONMediaType(e.DataContentType) }
