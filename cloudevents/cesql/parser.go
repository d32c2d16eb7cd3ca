package cesql

import (
	"math"
	"strconv"
)

// Binding powers, loosest first: logical operators, comparisons, + and -,
// * / %, IN, LIKE, then the prefix operators NOT and -, which bind tighter
// than everything but function calls (specification section 3.6).
const (
	bpLogic = 10 * (iota + 1)
	bpCompare
	bpAdd
	bpMul
	bpIn
	bpLike
	bpPrefix
)

// maxDepth bounds nesting, so that a hostile expression cannot exhaust the
// stack.
const maxDepth = 200

type parser struct {
	lex   lexer
	tok   token
	depth int
}

func (p *parser) advance() *Error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) unexpected(what string) *Error {
	return errorf(ParseError, p.tok.pos, "expected %s, found %s", what, p.tok.describe())
}

// expr parses an expression whose operators bind at least as tightly as
// minBP.
func (p *parser) expr(minBP int) (node, *Error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errorf(ParseError, p.tok.pos, "expression nested more than %d deep", maxDepth)
	}
	left, err := p.prefix()
	if err != nil {
		return nil, err
	}
	var chain token // the logical operator of this level's chain, if any
	for {
		t := p.tok
		switch t.kind {
		case tAnd, tOr, tXor:
			if bpLogic < minBP {
				return left, nil
			}
			if chain.kind != 0 && chain.kind != t.kind {
				return nil, errorf(ParseError, t.pos, "%s after %s (at column %d) needs parentheses: the specification evaluates them left to right, other implementations right to left", t.text, chain.text, chain.pos+1)
			}
			chain = t
			if err := p.advance(); err != nil {
				return nil, err
			}
			right, err := p.expr(bpLogic + 1)
			if err != nil {
				return nil, err
			}
			left = &binary{op: t.text, l: left, r: right, pos: t.pos}
		case tOp:
			bp := bpCompare
			switch t.text {
			case "+", "-":
				bp = bpAdd
			case "*", "/", "%":
				bp = bpMul
			}
			if bp < minBP {
				return left, nil
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			right, err := p.expr(bp + 1)
			if err != nil {
				return nil, err
			}
			op := t.text
			left = &binary{op: op, l: left, r: right, pos: t.pos}
		case tNot, tLike, tIn:
			negated := t.kind == tNot
			if negated {
				if err := p.advance(); err != nil {
					return nil, err
				}
				if p.tok.kind != tLike && p.tok.kind != tIn {
					return nil, p.unexpected("LIKE or IN after NOT")
				}
			}
			if p.tok.kind == tLike {
				if bpLike < minBP {
					return left, p.rewind(t, negated)
				}
				if err := p.advance(); err != nil {
					return nil, err
				}
				if p.tok.kind != tString {
					return nil, p.unexpected("a string literal as the LIKE pattern")
				}
				left = &like{x: left, p: compilePattern(p.tok.text), not: negated, pos: t.pos}
				if err := p.advance(); err != nil {
					return nil, err
				}
				continue
			}
			if bpIn < minBP {
				return left, p.rewind(t, negated)
			}
			set, err := p.set()
			if err != nil {
				return nil, err
			}
			left = &in{x: left, set: set, not: negated, pos: t.pos}
		case tEOF, tRParen, tComma:
			return left, nil
		default:
			return nil, p.unexpected("an operator")
		}
	}
}

// rewind puts back a NOT consumed before LIKE or IN, when the operator
// belongs to an outer level.
func (p *parser) rewind(not token, negated bool) *Error {
	if negated {
		p.lex.i = not.pos
		return p.advance()
	}
	return nil
}

// set parses "IN ( expr, ... )" after the IN keyword.
func (p *parser) set() ([]node, *Error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind != tLParen {
		return nil, p.unexpected("'(' after IN")
	}
	var set []node
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tRParen && len(set) == 0 {
			return nil, errorf(ParseError, p.tok.pos, "IN needs at least one value")
		}
		x, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		set = append(set, x)
		switch p.tok.kind {
		case tComma:
			continue
		case tRParen:
			return set, p.advance()
		}
		return nil, p.unexpected("',' or ')' in the IN list")
	}
}

func (p *parser) prefix() (node, *Error) {
	t := p.tok
	switch t.kind {
	case tInt:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return intLiteral(t.text, false, t.pos)
	case tString:
		return &literal{StringValue(t.text)}, p.advance()
	case tTrue, tFalse:
		return &literal{BoolValue(t.kind == tTrue)}, p.advance()
	case tIdent:
		return newAttribute(t), p.advance()
	case tExists:
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tIdent {
			return nil, p.unexpected("an attribute name after EXISTS")
		}
		a := newAttribute(p.tok)
		return &exists{a}, p.advance()
	case tNot:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.expr(bpPrefix)
		if err != nil {
			return nil, err
		}
		return &not{x: x, pos: t.pos}, nil
	case tOp:
		if t.text != "-" && t.text != "+" {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tInt {
			// A sign directly before digits is part of the literal, so
			// that -2147483648 is a valid Integer.
			lit := p.tok
			if err := p.advance(); err != nil {
				return nil, err
			}
			return intLiteral(lit.text, t.text == "-", t.pos)
		}
		if t.text == "+" {
			return nil, errorf(ParseError, t.pos, "'+' as a sign goes only before digits")
		}
		x, err := p.expr(bpPrefix)
		if err != nil {
			return nil, err
		}
		return &negate{x: x, pos: t.pos}, nil
	case tLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.unexpected("')'")
		}
		return x, p.advance()
	case tFunc:
		return p.call()
	}
	return nil, p.unexpected("a value")
}

func (p *parser) call() (node, *Error) {
	name := p.tok
	if err := p.advance(); err != nil { // the name
		return nil, err
	}
	var args []node
	for {
		if err := p.advance(); err != nil { // '(' or ','
			return nil, err
		}
		if p.tok.kind == tRParen && len(args) == 0 {
			break
		}
		x, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		args = append(args, x)
		if p.tok.kind == tRParen {
			break
		}
		if p.tok.kind != tComma {
			return nil, p.unexpected("',' or ')' in the arguments of " + name.text)
		}
	}
	fn, msg := lookup(name.text, len(args))
	if fn == nil {
		return nil, errorf(MissingFunctionError, name.pos, "%s", msg)
	}
	return &call{fn: fn, args: args, pos: name.pos}, p.advance()
}

func newAttribute(t token) *attribute {
	return &attribute{name: t.text, core: coreAttrs[t.text], pos: t.pos}
}

func intLiteral(digits string, negative bool, pos int) (node, *Error) {
	if negative {
		digits = "-" + digits
	}
	i, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
		return nil, errorf(ParseError, pos, "%s is outside the 32-bit range of a CESQL Integer", digits)
	}
	return &literal{IntValue(int32(i))}, nil
}
