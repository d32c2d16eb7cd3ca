package cloudevents

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner reads JSON (RFC 8259) from a byte slice, strictly: valid
// UTF-8, no lone surrogates in escapes, no trailing commas, nesting at most
// maxJSONDepth deep. It exists because encoding/json would decode every
// member into a map or through reflection, several times slower, and
// because the event's data must be kept as the exact bytes received.
type jsonScanner struct {
	b []byte
	i int
	// With useArena, the strings read are kept in arena, so that an
	// event's attributes cost one allocation rather than one each.
	arena    strings.Builder
	useArena bool
}

// withArena returns a scanner of b whose strings share an arena of up to
// size bytes (it grows if it must).
func withArena(b []byte, size int) *jsonScanner {
	s := &jsonScanner{b: b, useArena: true}
	s.arena.Grow(size)
	return s
}

// keep returns b as a string, from the arena if there is one. A string
// kept stays valid when the arena grows: the old buffer lives on.
func (s *jsonScanner) keep(b []byte) string {
	if !s.useArena {
		return string(b)
	}
	start := s.arena.Len()
	s.arena.Write(b)
	return s.arena.String()[start:]
}

const maxJSONDepth = 10000 // as encoding/json

func (s *jsonScanner) errf(format string, args ...any) string {
	return fmt.Sprintf("invalid JSON at byte %d: ", s.i) + fmt.Sprintf(format, args...)
}

// at describes, for an error, what stands at the scanner's position: the
// character, whole (not the first byte of a multi-byte one, which %q of
// the byte would show as another letter), or a byte that is no UTF-8, or
// the byte order mark some editors write before a JSON file.
func (s *jsonScanner) at() string {
	c := s.b[s.i]
	if c < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(c))
	}
	r, n := utf8.DecodeRune(s.b[s.i:])
	switch {
	case r == utf8.RuneError && n == 1:
		return fmt.Sprintf("byte 0x%02X, which is not UTF-8", c)
	case r == '\uFEFF' && s.i == 0:
		return "a byte order mark (U+FEFF), which JSON text must not begin with"
	}
	return fmt.Sprintf("%q", r)
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) expect(c byte) string {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return s.errf("unexpected end, expected %q", rune(c))
		}
		return s.errf("expected %q, found %s", rune(c), s.at())
	}
	s.i++
	return ""
}

// str reads a string (the opening quote is next) and returns its value.
func (s *jsonScanner) str() (string, string) {
	if s.peek() != '"' {
		return "", s.errf("expected a string")
	}
	s.i++
	start := s.i
	// Fast path: no escapes, all ASCII.
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := s.keep(s.b[start:s.i])
			s.i++
			return v, ""
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		s.i++
	}
	buf := append(make([]byte, 0, s.i-start+16), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.keep(buf), ""
		case c < 0x20:
			return "", s.errf("control character U+%04X in a string must be escaped", c)
		case c == '\\':
			r, msg := s.escape()
			if msg != "" {
				return "", msg
			}
			buf = utf8.AppendRune(buf, r)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				return "", s.errf("invalid UTF-8")
			}
			buf = append(buf, s.b[s.i:s.i+n]...)
			s.i += n
		}
	}
	return "", s.errf("unterminated string")
}

// escape reads one escape sequence (s.b[s.i] is the backslash).
func (s *jsonScanner) escape() (rune, string) {
	if s.i+1 >= len(s.b) {
		return 0, s.errf("unterminated escape")
	}
	c := s.b[s.i+1]
	s.i += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), ""
	case 'b':
		return '\b', ""
	case 'f':
		return '\f', ""
	case 'n':
		return '\n', ""
	case 'r':
		return '\r', ""
	case 't':
		return '\t', ""
	case 'u':
		r, ok := s.hex4()
		if !ok {
			return 0, s.errf(`\u needs four hex digits`)
		}
		if utf16.IsSurrogate(r) {
			if r >= 0xdc00 || s.i+1 >= len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
				return 0, s.errf("unpaired surrogate \\u%04x", r)
			}
			s.i += 2
			r2, ok := s.hex4()
			if !ok || r2 < 0xdc00 || r2 > 0xdfff {
				return 0, s.errf("unpaired surrogate \\u%04x", r)
			}
			r = utf16.DecodeRune(r, r2)
		}
		return r, ""
	}
	s.i--
	return 0, s.errf("unknown escape \\%c", c)
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	s.i += 4
	return r, true
}

// skipString passes over a string, checking it.
func (s *jsonScanner) skipString() string {
	s.i++ // the quote
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return ""
		case c < 0x20:
			return s.errf("control character U+%04X in a string must be escaped", c)
		case c == '\\':
			if _, msg := s.escape(); msg != "" {
				return msg
			}
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				return s.errf("invalid UTF-8")
			}
			s.i += n
		}
	}
	return s.errf("unterminated string")
}

// number passes over a number and reports whether it is an integer (no
// fraction, no exponent).
func (s *jsonScanner) number() (integer bool, msg string) {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(s.b) && isDigit(s.b[s.i]) {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '0' {
		s.i++
	} else if digits() == 0 {
		return false, s.errf("a number needs digits")
	}
	integer = true
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		integer = false
		if digits() == 0 {
			return false, s.errf("a fraction needs digits after '.'")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		integer = false
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return false, s.errf("an exponent needs digits")
		}
	}
	return integer, ""
}

func (s *jsonScanner) literal(word string) string {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.errf("unexpected %s", s.at())
	}
	s.i += len(word)
	return ""
}

// skipValue passes over any value, checking it.
func (s *jsonScanner) skipValue(depth int) string {
	switch c := s.peek(); c {
	case '"':
		return s.skipString()
	case '{', '[':
		if depth >= maxJSONDepth {
			return s.errf("nested more than %d deep", maxJSONDepth)
		}
		s.i++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if s.peek() == end {
			s.i++
			return ""
		}
		for {
			if end == '}' {
				if s.peek() != '"' {
					return s.errf("expected a member name")
				}
				if msg := s.skipString(); msg != "" {
					return msg
				}
				if msg := s.expect(':'); msg != "" {
					return msg
				}
			}
			if msg := s.skipValue(depth + 1); msg != "" {
				return msg
			}
			switch s.peek() {
			case ',':
				s.i++
			case end:
				s.i++
				return ""
			case 0:
				if s.i >= len(s.b) {
					return s.errf("unexpected end")
				}
				fallthrough // a NUL byte, not the end
			default:
				return s.errf("expected ',' or %q", rune(end))
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 0:
		if s.i < len(s.b) {
			return s.errf("unexpected %s, expected a value", s.at())
		}
		return s.errf("unexpected end, expected a value")
	default:
		if c == '-' || isDigit(c) {
			_, msg := s.number()
			return msg
		}
		return s.errf("unexpected %s", s.at())
	}
}

// validJSON reports whether b is one JSON value, optionally surrounded by
// white space.
func validJSON(b []byte) bool {
	s := jsonScanner{b: b}
	if s.skipValue(0) != "" {
		return false
	}
	s.ws()
	return s.i == len(b)
}

// strBytes is str returning bytes, without allocating when the string has
// no escapes: the bytes then alias the input.
func (s *jsonScanner) strBytes() ([]byte, string) {
	if s.peek() != '"' {
		return nil, s.errf("expected a string")
	}
	for j := s.i + 1; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			raw := s.b[s.i+1 : j]
			s.i = j + 1
			return raw, ""
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
	}
	v, msg := s.str()
	return []byte(v), msg
}

// JSONSyntaxError says where b stops being one JSON value (optionally
// surrounded by white space) and why, in the words of the structured
// mode's errors ("invalid JSON at byte 4: unexpected end, expected a
// value", bytes counted from 0); "" when b is one. It reads JSON as
// strictly as the structured mode does (valid UTF-8, no lone surrogates).
func JSONSyntaxError(b []byte) string {
	s := jsonScanner{b: b}
	if msg := s.skipValue(0); msg != "" {
		return msg
	}
	s.ws()
	if s.i < len(b) {
		return s.errf("unexpected %s after the value", s.at())
	}
	return ""
}
