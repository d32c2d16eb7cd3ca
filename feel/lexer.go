package feel

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF      tokKind = iota
	tWord             // a name part or a keyword
	tQuoted           // a `backquoted name`
	tNumber           // 12, 1.5, .5
	tString           // "text", unescaped in token.text
	tAt               // @
	tPlus             // +
	tMinus            // -
	tStar             // *
	tSlash            // /
	tPow              // **
	tEq               // =
	tNe               // !=
	tLt               // <
	tLe               // <=
	tGt               // >
	tGe               // >=
	tLParen           // (
	tRParen           // )
	tLBrack           // [
	tRBrack           // ]
	tLBrace           // {
	tRBrace           // }
	tComma            // ,
	tColon            // :
	tDot              // .
	tDotDot           // ..
	tArrow            // ->
	tQuestion         // ?
)

var tokNames = [...]string{
	tEOF: "end of expression", tWord: "name", tQuoted: "name", tNumber: "number",
	tString: "string", tAt: `"@"`, tPlus: `"+"`, tMinus: `"-"`, tStar: `"*"`,
	tSlash: `"/"`, tPow: `"**"`, tEq: `"="`, tNe: `"!="`, tLt: `"<"`, tLe: `"<="`,
	tGt: `">"`, tGe: `">="`, tLParen: `"("`, tRParen: `")"`, tLBrack: `"["`,
	tRBrack: `"]"`, tLBrace: `"{"`, tRBrace: `"}"`, tComma: `","`, tColon: `":"`,
	tDot: `"."`, tDotDot: `".."`, tArrow: `"->"`, tQuestion: `"?"`,
}

type token struct {
	kind tokKind
	text string // a word, a number's digits, a string's unescaped contents
	pos  int    // byte offset of the first character
	end  int    // byte offset after the last character
}

// describe names a token for error messages: "and", "(", end of expression.
func (t token) describe() string {
	switch t.kind {
	case tWord, tNumber:
		return strconv.Quote(t.text)
	case tQuoted:
		return "`" + t.text + "`"
	case tString:
		return "string " + strconv.Quote(t.text)
	}
	return tokNames[t.kind]
}

// keywords end a name written with spaces; "of" is not one, so that
// "index of" and "day of week" stay names ("instance of" is read as a pair).
var keywords = map[string]bool{
	"and": true, "or": true, "between": true, "in": true, "instance": true,
	"if": true, "then": true, "else": true, "for": true, "return": true,
	"some": true, "every": true, "satisfies": true, "function": true,
	"true": true, "false": true, "null": true,
}

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

func isNamePart(r rune) bool {
	return isNameStart(r) || unicode.IsDigit(r) || r == '\'' || unicode.Is(unicode.Mn, r)
}

// lex splits src into tokens, ending with tEOF.
func lex(src string) ([]token, *Error) {
	toks := make([]token, 0, len(src)/3+2)
	i := 0
	for {
		// Skip blanks and comments.
		for i < len(src) {
			r, w := utf8.DecodeRuneInString(src[i:])
			switch {
			case unicode.IsSpace(r):
				i += w
				continue
			case strings.HasPrefix(src[i:], "//"):
				if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
					i += j + 1
				} else {
					i = len(src)
				}
				continue
			case strings.HasPrefix(src[i:], "/*"):
				j := strings.Index(src[i+2:], "*/")
				if j < 0 {
					return nil, errorAt(src, i, "comment is not closed with */")
				}
				i += j + 4
				continue
			}
			break
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: len(src), end: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		r, w := utf8.DecodeRuneInString(src[i:])
		kind := tEOF
		text := ""
		switch {
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9' && !endsValue(toks):
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			if i+1 < len(src) && src[i] == '.' && src[i+1] >= '0' && src[i+1] <= '9' {
				i++
				for i < len(src) && src[i] >= '0' && src[i] <= '9' {
					i++
				}
			}
			kind, text = tNumber, src[start:i]
		case isNameStart(r):
			i += w
			for i < len(src) {
				r, w := utf8.DecodeRuneInString(src[i:])
				if !isNamePart(r) {
					break
				}
				i += w
			}
			kind, text = tWord, src[start:i]
		case c == '"':
			s, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			i = n
			kind, text = tString, s
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				return nil, errorAt(src, i, "name is not closed with `")
			}
			kind, text = tQuoted, src[i+1:i+1+j]
			i += j + 2
		default:
			kind, w = punct(src[i:])
			if kind == tEOF {
				return nil, errorAt(src, i, "unexpected character %q", r)
			}
			i += w
		}
		toks = append(toks, token{kind: kind, text: text, pos: start, end: i})
	}
}

// punct reads an operator or punctuation mark.
func punct(s string) (tokKind, int) {
	if len(s) >= 2 {
		switch s[:2] {
		case "**":
			return tPow, 2
		case "!=":
			return tNe, 2
		case "<=":
			return tLe, 2
		case ">=":
			return tGe, 2
		case "..":
			return tDotDot, 2
		case "->":
			return tArrow, 2
		}
	}
	switch s[0] {
	case '@':
		return tAt, 1
	case '+':
		return tPlus, 1
	case '-':
		return tMinus, 1
	case '*':
		return tStar, 1
	case '/':
		return tSlash, 1
	case '=':
		return tEq, 1
	case '<':
		return tLt, 1
	case '>':
		return tGt, 1
	case '(':
		return tLParen, 1
	case ')':
		return tRParen, 1
	case '[':
		return tLBrack, 1
	case ']':
		return tRBrack, 1
	case '{':
		return tLBrace, 1
	case '}':
		return tRBrace, 1
	case ',':
		return tComma, 1
	case ':':
		return tColon, 1
	case '.':
		return tDot, 1
	case '?':
		return tQuestion, 1
	}
	return tEOF, 0
}

// lexString reads a string literal starting at the quote src[i]. Escapes
// are \" \\ \n \r \t \' \/, \uXXXX and \UXXXXXX; any other backslash is kept as
// written, so regular expressions such as "\d+" read as they look.
func lexString(src string, i int) (string, int, *Error) {
	start := i
	i++
	var b strings.Builder
	for i < len(src) {
		c := src[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && i+1 < len(src):
			e := src[i+1]
			switch e {
			case '"', '\\', '\'', '/':
				b.WriteByte(e)
				i += 2
			case 'n':
				b.WriteByte('\n')
				i += 2
			case 'r':
				b.WriteByte('\r')
				i += 2
			case 't':
				b.WriteByte('\t')
				i += 2
			case 'U':
				v, err := strconv.ParseUint(src[i+2:min(i+8, len(src))], 16, 32)
				if err != nil || i+8 > len(src) || v > unicode.MaxRune {
					return "", 0, errorAt(src, i, `bad unicode escape (\U needs six hex digits)`)
				}
				b.WriteRune(rune(v))
				i += 8
			case 'u':
				r, n := lexUnicodeEscape(src, i)
				if n == 0 {
					return "", 0, errorAt(src, i, `bad unicode escape (\u needs four hex digits)`)
				}
				b.WriteRune(r)
				i += n
			default:
				b.WriteByte('\\')
				i++
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, errorAt(src, start, "string is not closed with \"")
}

// lexUnicodeEscape reads \uXXXX (and a following low surrogate) at src[i].
func lexUnicodeEscape(src string, i int) (rune, int) {
	hex := func(at int) (rune, bool) {
		if at+6 > len(src) || src[at] != '\\' || src[at+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(src[at+2:at+6], 16, 32)
		return rune(v), err == nil
	}
	r, ok := hex(i)
	if !ok {
		return 0, 0
	}
	if r >= 0xD800 && r < 0xDC00 {
		if lo, ok := hex(i + 6); ok && lo >= 0xDC00 && lo < 0xE000 {
			return (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000, 12
		}
		return utf8.RuneError, 6
	}
	return r, 6
}

// endsValue reports whether the last token ends a value, after which ".5"
// is a path, not a number.
func endsValue(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	switch toks[len(toks)-1].kind {
	case tWord, tQuoted, tNumber, tString, tRParen, tRBrack, tRBrace, tQuestion:
		return true
	}
	return false
}
