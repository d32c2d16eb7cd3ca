package cesql

import (
	"strings"
	"unicode/utf8"
)

// pattern is a compiled LIKE pattern: literal segments, '_' (one
// character) and '%' (any run of characters), with fast paths for the
// shapes filters use most: exact, prefix ('abc%'), suffix ('%abc') and
// contains ('%abc%').
type pattern struct {
	src   string
	shape uint8
	lit   string // the literal of the fast-path shapes
	elems []patElem
}

const (
	shapeGeneral = iota
	shapeExact
	shapePrefix
	shapeSuffix
	shapeContains
)

type patElem struct {
	kind uint8 // elemLit, elemOne, elemAny
	lit  string
}

const (
	elemLit = iota
	elemOne
	elemAny
)

// compilePattern reads a LIKE pattern: % and _ are wildcards, \% and \_
// are literal, and a backslash before anything else is itself.
func compilePattern(src string) *pattern {
	p := &pattern{src: src}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.elems = append(p.elems, patElem{kind: elemLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\\' && i+1 < len(src) && (src[i+1] == '%' || src[i+1] == '_'):
			lit.WriteByte(src[i+1])
			i++
		case c == '%':
			flush()
			if n := len(p.elems); n == 0 || p.elems[n-1].kind != elemAny {
				p.elems = append(p.elems, patElem{kind: elemAny})
			}
		case c == '_':
			flush()
			p.elems = append(p.elems, patElem{kind: elemOne})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	e := p.elems
	switch {
	case len(e) == 0:
		p.shape, p.lit = shapeExact, ""
	case len(e) == 1 && e[0].kind == elemLit:
		p.shape, p.lit = shapeExact, e[0].lit
	case len(e) == 2 && e[0].kind == elemLit && e[1].kind == elemAny:
		p.shape, p.lit = shapePrefix, e[0].lit
	case len(e) == 2 && e[0].kind == elemAny && e[1].kind == elemLit:
		p.shape, p.lit = shapeSuffix, e[1].lit
	case len(e) == 3 && e[0].kind == elemAny && e[1].kind == elemLit && e[2].kind == elemAny:
		p.shape, p.lit = shapeContains, e[1].lit
	case len(e) == 1 && e[0].kind == elemAny:
		p.shape, p.lit = shapePrefix, ""
	}
	return p
}

func (p *pattern) match(s string) bool {
	switch p.shape {
	case shapeExact:
		return s == p.lit
	case shapePrefix:
		return strings.HasPrefix(s, p.lit)
	case shapeSuffix:
		return strings.HasSuffix(s, p.lit)
	case shapeContains:
		return strings.Contains(s, p.lit)
	}
	// Greedy matching with one backtrack point, the last '%' seen: on a
	// mismatch the '%' takes one more character and matching resumes.
	// Linear in practice, O(len(s)*len(pattern)) at worst.
	i, j := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		if j < len(p.elems) {
			switch el := p.elems[j]; el.kind {
			case elemLit:
				if strings.HasPrefix(s[i:], el.lit) {
					i += len(el.lit)
					j++
					continue
				}
			case elemOne:
				_, n := utf8.DecodeRuneInString(s[i:])
				i += n
				j++
				continue
			case elemAny:
				star, mark = j, i
				j++
				continue
			}
		}
		if star < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		i, j = mark, star+1
	}
	for j < len(p.elems) && p.elems[j].kind == elemAny {
		j++
	}
	return j == len(p.elems)
}
