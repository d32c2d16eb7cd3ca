package bpmn

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a model: where it is and what it is.
type Problem struct {
	// ElementID is the id of the element concerned, empty when the problem
	// is not about one element (XML that is not well-formed).
	ElementID string
	Line, Col int
	// Message is a plain sentence.
	Message string
}

// String formats the problem as "line:col: element id: message".
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", p.Line, p.Col)
	}
	if p.ElementID != "" {
		b.WriteString(p.ElementID)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists every problem found in a model, in document order.
type Error struct {
	Problems []Problem
}

// Error prints every problem, one per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	return b.String()
}
