package feel

// Unary tests: the input entries of decision tables and the right side of
// "in". A test matches an input value; the result is ternary (true, false,
// or null when the input and the test's value cannot be compared).

type test interface {
	match(st *state, input Value) Value
}

// cmpTest is "< e", "<= e", "> e", ">= e", "= e" or "!= e".
type cmpTest struct {
	op tokKind
	e  node
}

func (t *cmpTest) match(st *state, input Value) Value {
	return st.compare(t.e.pos(), t.op, input, t.e.eval(st))
}

// exprTest is an expression: with ?, its boolean result decides; otherwise
// the input must equal its value, be in its list, or lie in its range.
type exprTest struct {
	e         node
	usesInput bool
}

func (t *exprTest) match(st *state, input Value) Value {
	v := t.e.eval(st)
	if t.usesInput && v.kind == KindBool {
		return v
	}
	return st.matchValue(t.e.pos(), input, v)
}

// matchValue tests input against a test's value.
func (st *state) matchValue(pos int, input, v Value) Value {
	switch v.kind {
	case KindRange:
		in, ok := inRange((*Range)(v.p), input)
		if !ok {
			if input.kind != KindNull {
				st.warn(pos, "cannot compare a %s with a range of %s", input.kind, rangeKind((*Range)(v.p)))
			}
			return Null
		}
		return Bool(in)
	case KindList:
		if input.kind == KindList {
			if eq, ok := equalValues(input, v); ok && eq {
				return trueValue
			}
		}
		st.work(pos, len(v.items()))
		res := falseValue
		for _, x := range v.items() {
			var m Value
			if x.kind == KindRange {
				m = st.matchValue(pos, input, x)
			} else if eq, ok := equalValues(input, x); ok {
				m = Bool(eq)
			}
			res = or3(res, m)
			if res.kind == KindBool && res.n != 0 {
				return res
			}
		}
		return res
	}
	return st.compare(pos, tEq, input, v)
}

func rangeKind(r *Range) Kind {
	if r.StartUnbounded {
		return r.End.kind
	}
	return r.Start.kind
}

// anyTest is "-": it matches everything.
type anyTest struct{}

func (anyTest) match(*state, Value) Value { return trueValue }

// notTest is "not(tests)".
type notTest struct{ tests []test }

func (t *notTest) match(st *state, input Value) Value {
	switch r := matchAny(st, t.tests, input); {
	case r.kind != KindBool:
		return Null
	case r.n != 0:
		return falseValue
	}
	return trueValue
}

// UnaryTests are compiled unary tests ("< 10", "[1..5], > 100",
// "not("a", "b")", "-", "? > 3"). Immutable and safe for concurrent use.
type UnaryTests struct {
	src    string
	tests  []test
	input  int
	nslots int
	vars   []string
}

// CompileUnaryTests parses unary tests.
func CompileUnaryTests(src string, opts ...Option) (*UnaryTests, error) {
	p, err := newParser(src, opts)
	if err != nil {
		return nil, err
	}
	u := &UnaryTests{src: src}
	if err := p.parseUnaryTests(u); err != nil {
		return nil, err
	}
	u.nslots, u.vars = p.nslots, p.varNames
	return u, nil
}

func (p *parser) parseUnaryTests(u *UnaryTests) (err error) {
	defer recoverInto(&err)
	u.input = p.bind("?")
	switch {
	case p.is(tMinus) && p.peekAt(1).kind == tEOF:
		p.next()
		u.tests = []test{anyTest{}}
	case p.isWord("not") && p.peekAt(1).kind == tLParen:
		p.next()
		open := p.next()
		tests := p.positiveTests()
		p.closeWith(tRParen, open)
		u.tests = []test{&notTest{tests}}
	default:
		u.tests = p.positiveTests()
	}
	p.expectEnd()
	return nil
}

func (p *parser) positiveTests() []test {
	tests := []test{p.positiveTest()}
	for p.accept(tComma) {
		tests = append(tests, p.positiveTest())
	}
	return tests
}

// Source returns the tests as written.
func (u *UnaryTests) Source() string { return u.src }

// String returns the tests as written.
func (u *UnaryTests) String() string { return u.src }

// Vars returns the names of the variables the tests read.
func (u *UnaryTests) Vars() []string { return append([]string(nil), u.vars...) }

// Match reports whether input passes the tests. A test that cannot be
// decided (null: the input is not comparable with the test's value) does
// not match; an error is a failure to evaluate.
func (u *UnaryTests) Match(input Value, env Env) (bool, error) {
	st := getState(u.src, u.nslots, &env)
	st.frame[u.input] = input
	r, _, err := run(st, &testsNode{u.tests, input})
	return r.kind == KindBool && r.n != 0, err
}

// testsNode runs unary tests as the root of an evaluation.
type testsNode struct {
	tests []test
	input Value
}

func (n *testsNode) eval(st *state) Value { return matchAny(st, n.tests, n.input) }
func (n *testsNode) pos() int             { return 0 }

// MustCompileUnaryTests is CompileUnaryTests for tests known to be valid; it
// panics otherwise.
func MustCompileUnaryTests(src string, opts ...Option) *UnaryTests {
	u, err := CompileUnaryTests(src, opts...)
	if err != nil {
		panic(sprintf("feel: %q: %v", src, err))
	}
	return u
}
