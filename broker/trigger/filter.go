package trigger

import (
	"strings"

	"eddy/cloudevents"
	"eddy/cloudevents/cesql"
)

// Filter decides which events a trigger delivers. The zero Filter matches
// every event. Load compiles filters once; matching allocates nothing
// (CESQL string functions aside) and is safe for concurrent use.
type Filter struct {
	m matcher
}

// Match reports whether e passes the filter. The error, if any, is a CESQL
// evaluation error met on the way (a filter whose expression errs does
// not pass, as the CESQL specification says; under "not" it does, as in
// Knative); it is there to be counted or logged, not to stop delivery.
func (f *Filter) Match(e *cloudevents.Event) (bool, error) {
	if f.m == nil {
		return true, nil
	}
	return f.m.match(e)
}

type matcher interface {
	match(e *cloudevents.Event) (bool, error)
}

// attrRef reads one attribute, core attributes without a name lookup.
type attrRef struct {
	name string
	core uint8
}

const (
	coreNone = iota
	coreID
	coreSource
	coreSpecVersion
	coreType
	coreDataContentType
	coreDataSchema
	coreSubject
	coreTime
)

func newAttrRef(name string) attrRef {
	core := map[string]uint8{
		"id": coreID, "source": coreSource, "specversion": coreSpecVersion, "type": coreType,
		"datacontenttype": coreDataContentType, "dataschema": coreDataSchema, "subject": coreSubject, "time": coreTime,
	}[name]
	return attrRef{name: name, core: core}
}

// get returns the attribute's canonical text and whether the event has it.
func (a attrRef) get(e *cloudevents.Event) (string, bool) {
	var s string
	switch a.core {
	case coreID:
		s = e.ID
	case coreSource:
		s = e.Source
	case coreSpecVersion:
		s = e.SpecVersion
	case coreType:
		s = e.Type
	case coreDataContentType:
		s = e.DataContentType
	case coreDataSchema:
		s = e.DataSchema
	case coreSubject:
		s = e.Subject
	case coreTime:
		s = e.Time
	default:
		for i := range e.Extensions {
			if e.Extensions[i].Name == a.name {
				return e.Extensions[i].Value.Text, true
			}
		}
		return "", false
	}
	return s, s != ""
}

// attributes is the legacy spec.filter.attributes: every attribute equals
// its value, and an empty value matches any value. As in Knative, the
// context attributes always count as present (so subject: "" matches an
// event without subject) while an extension must be present.
type attributes []attrValue

type attrValue struct {
	a     attrRef
	value string
}

func (m attributes) match(e *cloudevents.Event) (bool, error) {
	for _, av := range m {
		v, ok := av.a.get(e)
		if !ok && av.a.core == coreNone {
			return false, nil
		}
		if av.value != "" && v != av.value {
			return false, nil
		}
	}
	return true, nil
}

// exact, prefix and suffix are the Subscriptions API dialects: the
// attribute is present and its text equals, starts with or ends with the
// value.
type exact attrValue
type prefix attrValue
type suffix attrValue

func (m *exact) match(e *cloudevents.Event) (bool, error) {
	v, ok := m.a.get(e)
	return ok && v == m.value, nil
}

func (m *prefix) match(e *cloudevents.Event) (bool, error) {
	v, ok := m.a.get(e)
	return ok && strings.HasPrefix(v, m.value), nil
}

func (m *suffix) match(e *cloudevents.Event) (bool, error) {
	v, ok := m.a.get(e)
	return ok && strings.HasSuffix(v, m.value), nil
}

// all passes when every filter passes (and when there are none).
type all []matcher

func (m all) match(e *cloudevents.Event) (bool, error) {
	for _, x := range m {
		if ok, err := x.match(e); !ok {
			return false, err
		}
	}
	return true, nil
}

// any passes when one filter passes.
type anyOf []matcher

func (m anyOf) match(e *cloudevents.Event) (bool, error) {
	var first error
	for _, x := range m {
		ok, err := x.match(e)
		if ok {
			return true, nil
		}
		if first == nil {
			first = err
		}
	}
	return false, first
}

type not struct{ m matcher }

func (m *not) match(e *cloudevents.Event) (bool, error) {
	ok, err := m.m.match(e)
	return !ok, err
}

type sql struct{ x *cesql.Expression }

func (m *sql) match(e *cloudevents.Event) (bool, error) { return m.x.Match(e) }
