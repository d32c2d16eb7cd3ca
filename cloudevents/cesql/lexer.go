package cesql

import (
	"strings"
)

type tokenKind uint8

const (
	tEOF tokenKind = iota
	tIdent
	tFunc
	tInt
	tString
	tLParen
	tRParen
	tComma
	tOp // = != <> < <= > >= + - * / %
	// Keywords, case-insensitive.
	tAnd
	tOr
	tXor
	tNot
	tLike
	tIn
	tExists
	tTrue
	tFalse
)

var keywords = map[string]tokenKind{
	"AND": tAnd, "OR": tOr, "XOR": tXor, "NOT": tNot, "LIKE": tLike,
	"IN": tIn, "EXISTS": tExists, "TRUE": tTrue, "FALSE": tFalse,
}

type token struct {
	kind tokenKind
	pos  int
	text string // identifier, function name (upper-cased), operator, digits, or a string's value
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the expression"
	case tString:
		return "string '" + t.text + "'"
	case tInt:
		return "number " + t.text
	case tFunc:
		return "function " + t.text
	case tIdent:
		return "attribute " + t.text
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tComma:
		return "','"
	}
	return "'" + t.text + "'"
}

// lexer turns an expression into tokens, one at a time.
type lexer struct {
	src string
	i   int
}

func (l *lexer) next() (token, *Error) {
	for l.i < len(l.src) && isSpace(l.src[l.i]) {
		l.i++
	}
	start := l.i
	if l.i >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.i]
	switch {
	case c == '(':
		l.i++
		return token{tLParen, start, "("}, nil
	case c == ')':
		l.i++
		return token{tRParen, start, ")"}, nil
	case c == ',':
		l.i++
		return token{tComma, start, ","}, nil
	case c == '\'' || c == '"':
		return l.str(c)
	case c == '=' || c == '+' || c == '-' || c == '*' || c == '/' || c == '%':
		l.i++
		return token{tOp, start, l.src[start:l.i]}, nil
	case c == '!':
		if strings.HasPrefix(l.src[l.i:], "!=") {
			l.i += 2
			return token{tOp, start, "!="}, nil
		}
		return token{}, errorf(ParseError, start, "'!' is only valid in '!='")
	case c == '<':
		l.i++
		if l.i < len(l.src) && (l.src[l.i] == '=' || l.src[l.i] == '>') {
			l.i++
		}
		return token{tOp, start, l.src[start:l.i]}, nil
	case c == '>':
		l.i++
		if l.i < len(l.src) && l.src[l.i] == '=' {
			l.i++
		}
		return token{tOp, start, l.src[start:l.i]}, nil
	case isWordChar(c):
		return l.word()
	}
	return token{}, errorf(ParseError, start, "unexpected character %q", l.src[start:start+runeLen(l.src[start:])])
}

// word reads a run of letters, digits and underscores: a number, a
// keyword, a function name (when '(' follows) or an attribute name.
func (l *lexer) word() (token, *Error) {
	start := l.i
	digits := true
	for l.i < len(l.src) && isWordChar(l.src[l.i]) {
		if c := l.src[l.i]; c < '0' || c > '9' {
			digits = false
		}
		l.i++
	}
	w := l.src[start:l.i]
	if digits {
		return token{tInt, start, w}, nil
	}
	upper := strings.ToUpper(w)
	if k, ok := keywords[upper]; ok {
		return token{k, start, upper}, nil
	}
	j := l.i
	for j < len(l.src) && isSpace(l.src[j]) {
		j++
	}
	if j < len(l.src) && l.src[j] == '(' {
		for k := 0; k < len(w); k++ {
			if c := w[k]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') || (k == 0 && c == '_') {
				return token{}, errorf(ParseError, start, "%q is not a function name: function names are letters and '_'", w)
			}
		}
		return token{tFunc, start, upper}, nil
	}
	for k := 0; k < len(w); k++ {
		if c := w[k]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			hint := ""
			if lower := strings.ToLower(w); lower != w && !strings.Contains(w, "_") {
				hint = " (did you mean " + lower + "?)"
			}
			return token{}, errorf(ParseError, start, "%q is not an attribute name: attribute names are lower-case letters and digits%s", w, hint)
		}
	}
	return token{tIdent, start, w}, nil
}

// str reads a string literal delimited by q. Inside, a backslash before q
// stands for q; a backslash before anything else is kept with it, so that
// LIKE patterns see \% and \_.
func (l *lexer) str(q byte) (token, *Error) {
	start := l.i
	l.i++
	var b strings.Builder
	plain := l.i
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == q:
			s := l.src[plain:l.i]
			if b.Len() > 0 {
				b.WriteString(s)
				s = b.String()
			}
			l.i++
			if l.i < len(l.src) && l.src[l.i] == q {
				return token{}, errorf(ParseError, l.i, "two string literals in a row: inside %c...%c write \\%c for a %c", q, q, q, q)
			}
			return token{tString, start, s}, nil
		case c == '\\' && l.i+1 < len(l.src):
			b.WriteString(l.src[plain:l.i])
			if l.src[l.i+1] == q {
				b.WriteByte(q)
			} else {
				b.WriteString(l.src[l.i : l.i+2])
			}
			l.i += 2
			plain = l.i
		default:
			l.i++
		}
	}
	return token{}, errorf(ParseError, start, "unterminated string literal")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func runeLen(s string) int {
	for i := range s {
		if i > 0 {
			return i
		}
	}
	return len(s)
}
