package feel

// Operators: boolean logic (ternary, as FEEL defines it), comparison,
// between, in, instance of, arithmetic and if.

type andNode struct {
	at
	l, r node
}

func (n *andNode) eval(st *state) Value {
	l := n.l.eval(st)
	if l.kind == KindBool && l.n == 0 {
		return falseValue
	}
	r := n.r.eval(st)
	if r.kind == KindBool {
		if r.n == 0 {
			return falseValue
		}
		if l.kind == KindBool {
			return trueValue
		}
	}
	st.notBoolean(int(n.at), "and", l, r)
	return Null
}

type orNode struct {
	at
	l, r node
}

func (n *orNode) eval(st *state) Value {
	l := n.l.eval(st)
	if l.kind == KindBool && l.n != 0 {
		return trueValue
	}
	r := n.r.eval(st)
	if r.kind == KindBool {
		if r.n != 0 {
			return trueValue
		}
		if l.kind == KindBool {
			return falseValue
		}
	}
	st.notBoolean(int(n.at), "or", l, r)
	return Null
}

// notBoolean explains a null from and/or whose operand is not a boolean
// (a null operand was explained where it arose).
func (st *state) notBoolean(pos int, op string, vs ...Value) {
	for _, v := range vs {
		if v.kind != KindBool && v.kind != KindNull {
			st.warn(pos, "%q needs booleans, not a %s", op, v.kind)
		}
	}
}

type cmpNode struct {
	at
	op   tokKind
	l, r node
}

func (n *cmpNode) eval(st *state) Value {
	return st.compare(int(n.at), n.op, n.l.eval(st), n.r.eval(st))
}

// compare applies a comparison operator with FEEL's null semantics.
func (st *state) compare(pos int, op tokKind, l, r Value) Value {
	switch op {
	case tEq, tNe:
		eq, ok := equalValues(l, r)
		if !ok {
			st.warn(pos, "cannot compare a %s with a %s", l.kind, r.kind)
			return Null
		}
		return Bool(eq == (op == tEq))
	}
	c, ok := compareValues(l, r)
	if !ok {
		if l.kind != KindNull && r.kind != KindNull {
			st.warn(pos, "cannot compare a %s with a %s", l.kind, r.kind)
		} else if st.first == nil {
			st.warn(pos, "cannot compare null")
		}
		return Null
	}
	switch op {
	case tLt:
		return Bool(c < 0)
	case tLe:
		return Bool(c <= 0)
	case tGt:
		return Bool(c > 0)
	}
	return Bool(c >= 0)
}

type betweenNode struct {
	at
	x, lo, hi node
}

func (n *betweenNode) eval(st *state) Value {
	x := n.x.eval(st)
	a := st.compare(int(n.at), tGe, x, n.lo.eval(st))
	b := st.compare(int(n.at), tLe, x, n.hi.eval(st))
	return and3(a, b)
}

// and3 and or3 are FEEL's ternary logic on already evaluated operands.
func and3(a, b Value) Value {
	if a.kind == KindBool && a.n == 0 || b.kind == KindBool && b.n == 0 {
		return falseValue
	}
	if a.kind == KindBool && b.kind == KindBool {
		return trueValue
	}
	return Null
}

func or3(a, b Value) Value {
	if a.kind == KindBool && a.n != 0 || b.kind == KindBool && b.n != 0 {
		return trueValue
	}
	if a.kind == KindBool && b.kind == KindBool {
		return falseValue
	}
	return Null
}

// inNode is "x in tests": true when any test matches x.
type inNode struct {
	at
	x     node
	input int // slot of ? while the tests run
	tests []test
}

func (n *inNode) eval(st *state) Value {
	x := n.x.eval(st)
	st.frame[n.input] = x
	return matchAny(st, n.tests, x)
}

func matchAny(st *state, tests []test, x Value) Value {
	res := falseValue
	for _, t := range tests {
		res = or3(res, t.match(st, x))
		if res.kind == KindBool && res.n != 0 {
			return res
		}
	}
	return res
}

type instanceNode struct {
	at
	x   node
	typ *feelType
}

func (n *instanceNode) eval(st *state) Value { return Bool(n.typ.matches(n.x.eval(st))) }

var opVerbs = map[tokKind]string{tPlus: "add", tMinus: "subtract", tStar: "multiply", tSlash: "divide", tPow: "raise"}

type arithNode struct {
	at
	op   tokKind
	l, r node
}

func (n *arithNode) eval(st *state) Value {
	l, r := n.l.eval(st), n.r.eval(st)
	var v Value
	var ok bool
	switch n.op {
	case tPlus:
		if l.kind == KindString && r.kind == KindString {
			st.checkLen(int(n.at), len(l.str())+len(r.str()))
		}
		v, ok = addValues(l, r)
	case tMinus:
		v, ok = subValues(l, r)
	case tStar:
		v, ok = mulValues(l, r)
	case tSlash:
		v, ok = divValues(l, r)
	default:
		v, ok = powValues(l, r)
	}
	if !ok && l.kind != KindNull && r.kind != KindNull {
		if n.op == tSlash && r.kind == KindNumber && r.dec().Sign() == 0 {
			st.warn(int(n.at), "division by zero")
		} else {
			st.warn(int(n.at), "cannot %s a %s and a %s", opVerbs[n.op], l.kind, r.kind)
		}
	}
	return v
}

type negNode struct {
	at
	x node
}

func (n *negNode) eval(st *state) Value {
	x := n.x.eval(st)
	v := negValue(x)
	if v.kind == KindNull && x.kind != KindNull {
		st.warn(int(n.at), "cannot negate a %s", x.kind)
	}
	return v
}

type ifNode struct {
	at
	cond, yes, no node
}

// eval takes the "then" branch only for true; false and null (or any other
// value) take "else", as FEEL specifies.
func (n *ifNode) eval(st *state) Value {
	if c := n.cond.eval(st); c.kind == KindBool && c.n != 0 {
		return n.yes.eval(st)
	}
	return n.no.eval(st)
}
