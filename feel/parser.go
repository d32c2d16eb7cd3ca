package feel

// The parser reads tokens by recursive descent with FEEL's precedence, from
// loosest to tightest:
//
//	if/for/some/every/function (extend as far as possible)
//	or
//	and
//	= != < <= > >=, between, in, instance of
//	+ -
//	* /
//	**
//	unary -
//	postfix: path (.), filter ([ ]), call (( ))
//
// Names are resolved while parsing: a name bound inside the expression
// (for, some, every, function parameters, context entries, ?, item) becomes
// a slot of the evaluation frame; any other name is a variable, looked up in
// the caller's Scope at evaluation time.

// maxNesting bounds the parser's recursion.
const maxNesting = 400

type parser struct {
	src      string
	toks     []token
	i        int
	nesting  int
	binds    []binding // lexical bindings, innermost last
	nslots   int
	filters  []int // len(binds) when each enclosing filter started
	known    *knownNames
	varNames []string
	varSeen  map[string]bool
	qUses    int // uses of ? so far
}

type binding struct {
	name string
	slot int
}

// parseError aborts parsing; parse methods panic with it and the entry
// points recover it, which keeps the descent free of error plumbing.
type parseError struct{ err *Error }

func newParser(src string, opts []Option) (*parser, error) {
	var cfg compileConfig
	for _, o := range opts {
		o(&cfg)
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{src: src, toks: toks, known: newKnownNames(cfg.names)}, nil
}

func (p *parser) failAt(pos int, format string, args ...any) {
	panic(parseError{errorAt(p.src, pos, format, args...)})
}

// recoverInto turns a parse failure into an error.
func recoverInto(err *error) {
	if r := recover(); r != nil {
		pe, ok := r.(parseError)
		if !ok {
			panic(r)
		}
		*err = pe.err
	}
}

func (p *parser) parseExpression() (n node, err error) {
	defer recoverInto(&err)
	n = p.expr()
	p.expectEnd()
	return n, nil
}

func (p *parser) expectEnd() {
	if t := p.peek(); t.kind != tEOF {
		p.failAt(t.pos, "unexpected %s after the end of the expression", t.describe())
	}
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// prev returns the token before the current one.
func (p *parser) prev() token {
	if p.i == 0 {
		return token{kind: tEOF}
	}
	return p.toks[p.i-1]
}

func (p *parser) is(k tokKind) bool { return p.toks[p.i].kind == k }

// isWord reports whether the current token is the word w (a keyword or not).
func (p *parser) isWord(w string) bool {
	t := p.toks[p.i]
	return t.kind == tWord && t.text == w
}

func (p *parser) accept(k tokKind) bool {
	if p.is(k) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(k tokKind, context string) token {
	t := p.peek()
	if t.kind != k {
		p.failAt(t.pos, "expected %s %s, found %s", tokNames[k], context, t.describe())
	}
	return p.next()
}

func (p *parser) expectWord(w, context string) {
	if !p.isWord(w) {
		t := p.peek()
		p.failAt(t.pos, "expected %q %s, found %s", w, context, t.describe())
	}
	p.next()
}

func (p *parser) enter() {
	p.nesting++
	if p.nesting > maxNesting {
		p.failAt(p.peek().pos, "expression is nested too deeply (more than %d levels)", maxNesting)
	}
}

func (p *parser) leave() { p.nesting-- }

// expr parses a whole expression.
func (p *parser) expr() node {
	p.enter()
	defer p.leave()
	return p.disjunction()
}

func (p *parser) disjunction() node {
	return p.logic(p.conjunction, "or", func(l, r node) node { return &orNode{at(l.pos()), l, r} })
}

func (p *parser) conjunction() node {
	return p.logic(p.comparison, "and", func(l, r node) node { return &andNode{at(l.pos()), l, r} })
}

// logic parses a chain of "or" or of "and".
func (p *parser) logic(operand func() node, word string, combine func(l, r node) node) node {
	left := operand()
	for p.isWord(word) {
		t := p.next()
		right := p.operand(operand, t)
		left = fold(combine(left, right))
	}
	return left
}

// operand parses the right side of an operator, naming the operator when
// nothing follows it.
func (p *parser) operand(parse func() node, op token) node {
	if t := p.peek(); !startsExpression(t) {
		if t.kind == tEOF {
			p.failAt(t.pos, "expected expression after %s", op.describe())
		}
		p.failAt(t.pos, "expected expression after %s, found %s", op.describe(), t.describe())
	}
	return parse()
}

// startsExpression reports whether t can begin an expression.
func startsExpression(t token) bool {
	switch t.kind {
	case tEOF, tRParen, tRBrace, tComma, tColon, tDotDot, tArrow, tDot,
		tStar, tSlash, tPow, tEq, tNe, tLt, tLe, tGt, tGe, tPlus:
		return false
	case tWord:
		switch t.text {
		case "and", "or", "then", "else", "return", "satisfies", "in", "between", "instance":
			return false
		}
	}
	return true
}

func (p *parser) comparison() node {
	left := p.additive()
	for {
		t := p.peek()
		switch t.kind {
		case tEq, tNe, tLt, tLe, tGt, tGe:
			p.next()
			right := p.operand(p.additive, t)
			left = fold(&cmpNode{at(left.pos()), t.kind, left, right})
			continue
		case tWord:
			switch t.text {
			case "between":
				p.next()
				lo := p.operand(p.additive, t)
				and := p.peek()
				p.expectWord("and", "in between ... and ...")
				hi := p.operand(p.additive, and)
				left = fold(&betweenNode{at(left.pos()), left, lo, hi})
				continue
			case "in":
				p.next()
				left = p.inTarget(left, t)
				continue
			case "instance":
				p.next()
				p.expectWord("of", `after "instance"`)
				typ := p.typeRef()
				left = fold(&instanceNode{at(left.pos()), left, typ})
				continue
			}
		}
		return left
	}
}

func (p *parser) additive() node       { return p.arithmetic(p.multiplicative, tPlus, tMinus) }
func (p *parser) multiplicative() node { return p.arithmetic(p.power, tStar, tSlash) }
func (p *parser) power() node          { return p.arithmetic(p.unary, tPow, tPow) }

// arithmetic parses a left-associative chain of one precedence level.
func (p *parser) arithmetic(operand func() node, op1, op2 tokKind) node {
	left := operand()
	for p.is(op1) || p.is(op2) {
		t := p.next()
		right := p.operand(operand, t)
		left = fold(&arithNode{at(left.pos()), t.kind, left, right})
	}
	return left
}

func (p *parser) unary() node {
	p.enter()
	defer p.leave()
	if p.is(tMinus) {
		t := p.next()
		x := p.operand(p.unary, t)
		return fold(&negNode{at(t.pos), x})
	}
	return p.postfix(p.primary(), true)
}

// postfix applies paths, filters and calls; filters are off for interval
// endpoints, where "[" closes the interval instead.
func (p *parser) postfix(x node, filters bool) node {
	for {
		switch {
		case p.is(tDot):
			p.next()
			t := p.peek()
			name, ok := p.name()
			if !ok {
				p.failAt(t.pos, "expected a name after \".\", found %s", t.describe())
			}
			x = fold(&pathNode{at(x.pos()), x, name})
		case p.is(tLBrack) && filters:
			x = p.filter(x)
		case p.is(tLParen):
			x = p.callValue(x)
		default:
			return x
		}
	}
}

func (p *parser) primary() node {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.next()
		d, ok := ParseDecimal(t.text)
		if !ok {
			p.failAt(t.pos, "bad number %s", t.text)
		}
		return &constNode{at(t.pos), Number(d)}
	case tString:
		p.next()
		return &constNode{at(t.pos), String(t.text)}
	case tAt:
		p.next()
		s := p.expect(tString, `after "@"`)
		v, ok := parseTemporal(s.text)
		if !ok {
			p.failAt(s.pos, "%q is not a date, time, date and time or duration", s.text)
		}
		return &constNode{at(t.pos), v}
	case tQuestion:
		p.next()
		b, ok := p.lookupBinding("?")
		if !ok {
			p.failAt(t.pos, `"?" (the input value) is only defined in unary tests`)
		}
		p.qUses++
		return &localNode{at(t.pos), b.slot}
	case tLParen:
		return p.parenthesized()
	case tLBrack:
		return p.listOrInterval()
	case tRBrack:
		p.next()
		return p.intervalRest(t, false)
	case tLBrace:
		return p.context()
	case tWord:
		switch t.text {
		case "true", "false":
			p.next()
			return &constNode{at(t.pos), Bool(t.text == "true")}
		case "null":
			p.next()
			return &constNode{at(t.pos), Null}
		case "if":
			return p.ifExpr()
		case "for":
			return p.forExpr()
		case "some", "every":
			return p.quantified()
		case "function":
			return p.functionDef()
		}
	}
	if name, ok := p.name(); ok {
		if p.is(tLParen) {
			return p.callName(name, t.pos)
		}
		return p.reference(name, t.pos)
	}
	if t.kind == tEOF {
		if prev := p.prev(); prev.kind != tEOF {
			p.failAt(t.pos, "expected expression after %s", prev.describe())
		}
		p.failAt(t.pos, "expected expression, found nothing")
	}
	p.failAt(t.pos, "expected expression, found %s", t.describe())
	return nil
}

// parenthesized reads (e) or the open interval (a..b).
func (p *parser) parenthesized() node {
	open := p.next()
	x := p.expr()
	if p.is(tDotDot) {
		return p.intervalFrom(open, false, x)
	}
	p.closeWith(tRParen, open)
	return x
}

// closeWith expects the token that closes what open opened.
func (p *parser) closeWith(k tokKind, open token) {
	if t := p.peek(); t.kind != k {
		l, c := lineCol(p.src, open.pos)
		p.failAt(t.pos, "expected %s to close %s opened at %d:%d, found %s", tokNames[k], tokNames[open.kind], l, c, t.describe())
	}
	p.next()
}

func lineCol(src string, off int) (int, int) {
	e := errorAt(src, off, "")
	return e.Line, e.Column
}

func (p *parser) listOrInterval() node {
	open := p.next()
	if p.accept(tRBrack) {
		return &constNode{at(open.pos), List()}
	}
	first := p.expr()
	if p.is(tDotDot) {
		return p.intervalFrom(open, true, first)
	}
	items := []node{first}
	for p.accept(tComma) {
		items = append(items, p.expr())
	}
	p.closeWith(tRBrack, open)
	return fold(&listNode{at(open.pos), items})
}

// intervalRest reads "a..b" and its closing bracket after an opening one.
func (p *parser) intervalRest(open token, startIncluded bool) node {
	start := p.unaryEndpoint()
	if !p.is(tDotDot) {
		l, c := lineCol(p.src, open.pos)
		p.failAt(p.peek().pos, `expected ".." in the interval opened at %d:%d, found %s`, l, c, p.peek().describe())
	}
	return p.intervalFrom(open, startIncluded, start)
}

// unaryEndpoint parses an interval endpoint: an arithmetic expression.
func (p *parser) unaryEndpoint() node {
	t := p.peek()
	if !startsExpression(t) {
		p.failAt(t.pos, "expected an interval endpoint, found %s", t.describe())
	}
	return p.additiveNoFilter()
}

// additiveNoFilter parses + and - over endpoints without filters.
func (p *parser) additiveNoFilter() node {
	if p.is(tMinus) {
		t := p.next()
		x := p.postfix(p.primary(), false)
		return fold(&negNode{at(t.pos), x})
	}
	return p.postfix(p.primary(), false)
}

func (p *parser) intervalFrom(open token, startIncluded bool, start node) node {
	dots := p.next() // ..
	if t := p.peek(); !startsExpression(t) {
		p.failAt(t.pos, "expected expression after %s, found %s", dots.describe(), t.describe())
	}
	end := p.additiveNoFilter()
	var endIncluded bool
	switch t := p.peek(); t.kind {
	case tRBrack:
		endIncluded = true
	case tRParen, tLBrack:
	default:
		l, c := lineCol(p.src, open.pos)
		p.failAt(t.pos, `expected "]", ")" or "[" to close the interval opened at %d:%d, found %s`, l, c, t.describe())
	}
	p.next()
	return fold(&rangeNode{at(open.pos), start, end, startIncluded, endIncluded})
}
