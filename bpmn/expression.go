package bpmn

import "eddy/feel"

// Expression is a value a modeler may write either as a literal or, with a
// leading '=', as a FEEL expression evaluated by the engine at run time.
type Expression struct {
	// Source is the FEEL source without the leading '=' when Static is
	// false, and the literal value when Static is true.
	Source string
	// Static reports that the value was written without '=': it is a
	// literal string, not an expression.
	Static bool
	// Line and Col locate the value: for text content (conditions,
	// timers, completion conditions) the first character of Source; for an
	// attribute, the element that carries it.
	Line, Col int
	// Compiled is the parsed FEEL expression when Static is false, set by
	// Compile: the engine evaluates it and never parses at run time.
	Compiled *feel.Expression

	// inText records that Line and Col locate Source itself, which starts
	// at byte offset of the document, so a FEEL syntax error can be placed
	// exactly.
	inText bool
	offset int
}

// IsZero reports whether the expression is absent (nothing was written).
func (e *Expression) IsZero() bool { return e == nil || (e.Static && e.Source == "") }

// String returns the value as the modeler wrote it ('=' restored).
func (e *Expression) String() string {
	if e == nil {
		return ""
	}
	if e.Static {
		return e.Source
	}
	return "=" + e.Source
}
