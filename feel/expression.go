package feel

import (
	"fmt"
	"time"
)

// Expression is a compiled FEEL expression. It is immutable and safe for
// concurrent use.
type Expression struct {
	src    string
	root   node
	nslots int
	vars   []string
}

// Env is what an evaluation runs against.
type Env struct {
	// Vars supplies the variables; nil means none.
	Vars Scope
	// Now is the current time for now() and today(); with the zero time
	// they fail. The engine passes its own clock's time, so evaluation is
	// deterministic.
	Now time.Time
	// Limits bound the work; zero fields take their defaults.
	Limits Limits
	// Warnings, when set, receives every reason for a null along the way
	// (an unknown variable, a comparison of different types...).
	Warnings *[]Warning
}

// Option adjusts compilation.
type Option func(*compileConfig)

type compileConfig struct {
	names []string
}

// WithNames declares variable names that contain spaces, keywords or
// operator characters ("order total", "tracking-id"), so that the
// expression can use them without backquotes: FEEL resolves such names
// against the names in scope, the longest match first.
func WithNames(names ...string) Option {
	return func(c *compileConfig) { c.names = append(c.names, names...) }
}

// Compile parses src (without Zeebe's leading '='). Errors are *Error and
// say where the problem is.
func Compile(src string, opts ...Option) (*Expression, error) {
	p, err := newParser(src, opts)
	if err != nil {
		return nil, err
	}
	root, err := p.parseExpression()
	if err != nil {
		return nil, err
	}
	return &Expression{src: src, root: root, nslots: p.nslots, vars: p.varNames}, nil
}

// MustCompile is Compile for expressions known to be valid; it panics
// otherwise.
func MustCompile(src string, opts ...Option) *Expression {
	e, err := Compile(src, opts...)
	if err != nil {
		panic(fmt.Sprintf("feel: %q: %v", src, err))
	}
	return e
}

// Source returns the expression as written.
func (e *Expression) Source() string { return e.src }

// String returns the expression as written.
func (e *Expression) String() string { return e.src }

// Vars returns the names of the variables the expression may read, in order
// of first use (for a path a.b.c, the variable a). Fetch these before
// evaluating; names inside filters that may be keys of the filtered items are
// included too.
func (e *Expression) Vars() []string { return append([]string(nil), e.vars...) }

// Eval evaluates the expression. A null result is not an error; an error is
// a failure to evaluate (unknown function, wrong number of arguments, a
// limit exceeded) and is an *Error.
func (e *Expression) Eval(env Env) (Value, error) {
	v, _, err := run(getState(e.src, e.nslots, &env), e.root)
	return v, err
}

// Evaluate is Eval with variables only.
func (e *Expression) Evaluate(vars Scope) (Value, error) { return e.Eval(Env{Vars: vars}) }

// EvalBool evaluates a condition. A result that is not a boolean (null from
// a missing variable included) is an error that says what the result was
// and, for null, why.
func (e *Expression) EvalBool(env Env) (bool, error) {
	v, first, err := run(getState(e.src, e.nslots, &env), e.root)
	if err != nil {
		return false, err
	}
	if b, ok := v.AsBool(); ok {
		return b, nil
	}
	if v.IsNull() {
		if first != nil {
			return false, errorAt(e.src, first.Offset, "condition evaluated to null, not a boolean: %s", first.Msg)
		}
		return false, errorAt(e.src, 0, "condition evaluated to null, not a boolean")
	}
	return false, errorAt(e.src, 0, "condition evaluated to %s %s, not a boolean", v.kind, v.String())
}

// run evaluates root on st, then recycles st. It returns the result, the
// first reason for a null met along the way, and an evaluation failure as
// an error.
func run(st *state, root node) (v Value, first *Warning, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(evalFailure)
			if !ok {
				panic(r)
			}
			v, err = Null, f.err
		}
		first = st.first
		putState(st)
	}()
	return root.eval(st), nil, nil
}
