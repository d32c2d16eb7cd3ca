package trigger

import (
	"strconv"
	"strings"
)

// Error is a problem with one trigger declaration: the file and line, the
// trigger (namespace/name, when known), the field path as Knative writes it
// (spec.filters[0].prefix), and what is wrong.
type Error struct {
	File    string
	Line    int // 1-based; 0 when unknown
	Trigger string
	Path    string
	Msg     string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		if e.File == "" {
			// A document with no file name (a request's body): a bare
			// number would read as part of the message.
			b.WriteString("line ")
		}
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Trigger != "" {
		b.WriteString("trigger ")
		b.WriteString(e.Trigger)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a load, in document order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
