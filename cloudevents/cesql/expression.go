package cesql

import (
	"strings"

	"eddy/cloudevents"
)

// Expression is a parsed CESQL expression.
type Expression struct {
	src  string
	root node
}

// Parse parses a CESQL expression. Errors are *Error: a ParseError, or a
// MissingFunctionError for an unknown function or a wrong number of
// arguments.
func Parse(src string) (*Expression, error) {
	p := parser{lex: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, errorf(ParseError, 0, "the expression is empty")
	}
	root, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("the end of the expression")
	}
	return &Expression{src: src, root: root}, nil
}

// MustParse is Parse for expressions known to be valid; it panics on error.
func MustParse(src string) *Expression {
	x, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return x
}

// Source returns the text the expression was parsed from.
func (x *Expression) Source() string { return x.src }

// String returns the expression fully parenthesised, as Eddy reads it.
func (x *Expression) String() string {
	var b strings.Builder
	x.root.format(&b)
	return b.String()
}

// Evaluate evaluates the expression against e. Evaluation stops at the
// first error, which it returns as an *Error with the value the
// specification gives the failed operation: the zero value of its type
// (false for a missing attribute), or for LEFT, RIGHT and ABS the value
// their definitions name. An operation around a failed one returns the zero
// value of its own type.
func (x *Expression) Evaluate(e *cloudevents.Event) (Value, error) {
	v, err := x.root.eval(e)
	if err != nil {
		return v, err
	}
	return v, nil
}

// Match is the filter predicate of the specification (section 1.2): true
// only when the expression evaluates to the Boolean true without error.
// The error, if any, says why an event did not match; a non-Boolean result
// is not an error but does not match.
func (x *Expression) Match(e *cloudevents.Event) (bool, error) {
	v, err := x.root.eval(e)
	if err != nil {
		return false, err
	}
	return v.Type == Boolean && v.Bool, nil
}
