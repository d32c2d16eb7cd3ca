package feel

// Parsing of FEEL's compound forms: if, for, some/every, function
// definitions, contexts, filters, calls and the right side of "in".

func (p *parser) ifExpr() node {
	t := p.next() // if
	cond := p.operand(p.expr, t)
	then := p.peek()
	p.expectWord("then", "after the condition of \"if\"")
	yes := p.operand(p.expr, then)
	els := p.peek()
	p.expectWord("else", "after the \"then\" branch of \"if\"")
	no := p.operand(p.expr, els)
	return fold(&ifNode{at(t.pos), cond, yes, no})
}

// iterations reads "name in domain, name in domain ..." and binds the names
// (a later domain can use an earlier name).
func (p *parser) iterations(form string) []iteration {
	var its []iteration
	for {
		t := p.peek()
		name, ok := p.name()
		if !ok {
			p.failAt(t.pos, "expected a variable name in %q, found %s", form, t.describe())
		}
		in := p.peek()
		p.expectWord("in", "after the variable of \""+form+"\"")
		it := iteration{pos: t.pos}
		it.domain = p.operand(p.expr, in)
		if p.is(tDotDot) {
			dots := p.next()
			it.to = p.operand(p.expr, dots)
		}
		it.slot = p.bind(name)
		its = append(its, it)
		if !p.accept(tComma) {
			return its
		}
	}
}

func (p *parser) forExpr() node {
	t := p.next() // for
	mark := len(p.binds)
	its := p.iterations("for")
	partial := p.bind("partial")
	ret := p.peek()
	p.expectWord("return", `after the iterations of "for"`)
	body := p.operand(p.expr, ret)
	p.unbind(mark)
	return &forNode{at(t.pos), its, partial, body}
}

func (p *parser) quantified() node {
	t := p.next() // some, every
	mark := len(p.binds)
	its := p.iterations(t.text)
	sat := p.peek()
	p.expectWord("satisfies", "after the iterations of \""+t.text+"\"")
	cond := p.operand(p.expr, sat)
	p.unbind(mark)
	return &quantNode{at(t.pos), t.text == "every", its, cond}
}

func (p *parser) functionDef() node {
	t := p.next() // function
	open := p.expect(tLParen, `after "function"`)
	var params []string
	mark := len(p.binds)
	var slots []int
	if !p.is(tRParen) {
		for {
			pt := p.peek()
			name, ok := p.name()
			if !ok {
				p.failAt(pt.pos, "expected a parameter name, found %s", pt.describe())
			}
			if p.accept(tColon) {
				p.typeRef() // parameter types are documentation here
			}
			for _, q := range params {
				if q == name {
					p.failAt(pt.pos, "parameter %q is declared twice", name)
				}
			}
			params = append(params, name)
			if !p.accept(tComma) {
				break
			}
		}
	}
	p.closeWith(tRParen, open)
	if p.isWord("external") {
		p.failAt(p.peek().pos, "external functions are not supported")
	}
	for _, name := range params {
		slots = append(slots, p.bind(name))
	}
	body := p.operand(p.expr, p.prev())
	p.unbind(mark)
	return &funcDefNode{at: at(t.pos), params: params, slots: slots, body: body, nslots: &p.nslots}
}

// context reads {key: value, ...}; each entry can use the ones before it.
func (p *parser) context() node {
	open := p.next()
	mark := len(p.binds)
	n := &contextNode{at: at(open.pos)}
	if !p.is(tRBrace) {
		for {
			kt := p.peek()
			var key string
			if kt.kind == tString {
				p.next()
				key = kt.text
			} else if name, ok := p.name(); ok {
				key = name
			} else {
				p.failAt(kt.pos, "expected a context key (a name or a string), found %s", kt.describe())
			}
			for _, k := range n.keys {
				if k == key {
					p.failAt(kt.pos, "context key %q is used twice", key)
				}
			}
			colon := p.expect(tColon, "after the context key "+quoteName(key))
			// A function entry sees its own name, so that it can recurse.
			slot := -1
			if p.isWord("function") {
				slot = p.bind(key)
			}
			v := p.operand(p.expr, colon)
			if slot < 0 {
				slot = p.bind(key)
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
			n.slots = append(n.slots, slot)
			if !p.accept(tComma) {
				break
			}
		}
	}
	p.closeWith(tRBrace, open)
	p.unbind(mark)
	return fold(n)
}

// filter reads x[condition] or x[index].
func (p *parser) filter(x node) node {
	open := p.next()
	mark := len(p.binds)
	p.filters = append(p.filters, mark)
	item := p.bind("item")
	cond := p.operand(p.expr, open)
	p.filters = p.filters[:len(p.filters)-1]
	p.unbind(mark)
	p.closeWith(tRBrack, open)
	return fold(&filterNode{at(x.pos()), x, cond, item, filterMode(cond)})
}

// filterMode decides from the condition's form whether it is an index, a
// boolean filter, or only known when evaluated.
func filterMode(cond node) filterKind {
	switch c := cond.(type) {
	case *constNode:
		if c.v.kind == KindNumber {
			return filterIndex
		}
		return filterBool
	case *cmpNode, *andNode, *orNode, *betweenNode, *inNode, *instanceNode, *quantNode:
		return filterBool
	}
	return filterDynamic
}

// args reads a call's arguments: all positional or all named.
func (p *parser) args() ([]node, []string) {
	open := p.next()
	var args []node
	var names []string
	if !p.is(tRParen) {
		for {
			if p.isNamedArg() {
				nt := p.peek()
				name, _ := p.name()
				p.next() // :
				if len(args) > 0 && names == nil {
					p.failAt(nt.pos, "named argument %q after positional ones", name)
				}
				names = append(names, name)
			} else if names != nil {
				p.failAt(p.peek().pos, "positional argument after named ones")
			}
			args = append(args, p.operand(p.expr, p.prev()))
			if !p.accept(tComma) {
				break
			}
		}
	}
	p.closeWith(tRParen, open)
	return args, names
}

// isNamedArg looks ahead for "name words :".
func (p *parser) isNamedArg() bool {
	j := p.i
	if p.toks[j].kind == tQuoted {
		return p.toks[j+1].kind == tColon
	}
	for p.toks[j].kind == tWord {
		j++
	}
	return j > p.i && p.toks[j].kind == tColon
}

// callName reads name(args): a local function, a built-in, or a variable
// holding a function.
func (p *parser) callName(name string, pos int) node {
	args, names := p.args()
	if b, ok := p.lookupBinding(name); ok {
		return &callNode{at(pos), &localNode{at(pos), b.slot}, name, args, names}
	}
	if name == "is defined" {
		if len(args) != 1 {
			return &failNode{at(pos), `no function found with name "is defined" and ` + sprintf("%d", len(args)) + " arguments (it takes is defined(value))"}
		}
		return &isDefinedNode{at(pos), args[0]}
	}
	if fn := builtins[name]; fn != nil {
		return p.builtinCall(fn, pos, args, names)
	}
	p.useVar(name)
	return &callNode{at(pos), &varNode{at(pos), name}, name, args, names}
}

// callValue reads (args) after an expression that yields a function.
func (p *parser) callValue(fn node) node {
	args, names := p.args()
	return &callNode{at(fn.pos()), fn, "", args, names}
}

// inTarget reads what follows "in": one positive unary test or a
// parenthesised list of them.
func (p *parser) inTarget(x node, in token) node {
	mark := len(p.binds)
	n := &inNode{at: at(x.pos()), x: x}
	n.input = p.bind("?")
	if p.is(tLParen) {
		open := p.next()
		first := p.positiveTest()
		if p.is(tDotDot) { // (a..b): an open interval
			e, ok := first.(*exprTest)
			if !ok {
				p.failAt(p.peek().pos, `unexpected ".."`)
			}
			r := p.intervalFrom(open, false, e.e)
			n.tests = []test{&exprTest{e: r}}
		} else {
			n.tests = append(n.tests, first)
			for p.accept(tComma) {
				n.tests = append(n.tests, p.positiveTest())
			}
			p.closeWith(tRParen, open)
		}
	} else {
		if t := p.peek(); !startsExpression(t) && !isCmpTok(t.kind) {
			p.failAt(t.pos, "expected expression after %s, found %s", in.describe(), t.describe())
		}
		n.tests = []test{p.positiveTestWith(p.additive)}
	}
	p.unbind(mark)
	return n
}

func isCmpTok(k tokKind) bool {
	switch k {
	case tEq, tNe, tLt, tLe, tGt, tGe:
		return true
	}
	return false
}

// positiveTest reads "< e", "<= e", ... or an expression (a value, a list,
// an interval, or a boolean expression over ?).
func (p *parser) positiveTest() test { return p.positiveTestWith(p.expr) }

func (p *parser) positiveTestWith(parse func() node) test {
	t := p.peek()
	if isCmpTok(t.kind) {
		p.next()
		return &cmpTest{op: t.kind, e: p.operand(p.additive, t)}
	}
	q := p.qUses
	e := p.operand(parse, p.prev())
	return &exprTest{e: e, usesInput: p.qUses > q}
}
