package cloudevents

import (
	"fmt"
	"unicode/utf8"
)

// checkString checks a String against the type system: valid UTF-8 (so no
// unpaired surrogates), no control characters (U+0000-U+001F,
// U+007F-U+009F) and no Unicode noncharacters.
func checkString(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return fmt.Sprintf("control character U+%04X at byte %d is not allowed", c, i)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Sprintf("invalid UTF-8 at byte %d", i)
		}
		if r >= 0x80 && r <= 0x9f {
			return fmt.Sprintf("control character U+%04X at byte %d is not allowed", r, i)
		}
		if isNoncharacter(r) {
			return fmt.Sprintf("Unicode noncharacter U+%04X at byte %d is not allowed", r, i)
		}
		i += n
	}
	return ""
}

func isNoncharacter(r rune) bool {
	return (r >= 0xfdd0 && r <= 0xfdef) || r&0xfffe == 0xfffe
}

// CheckName checks an attribute name (lower-case ASCII letters and digits)
// and says what is wrong with it, or "".
// The specification advises at most 20 characters; Eddy accepts up to
// maxNameLength so that a long name from a real producer is not refused,
// yet a header cannot be abused to make huge names.
func CheckName(name string) string {
	if name == "" {
		return "an attribute name cannot be empty"
	}
	if len(name) > maxNameLength {
		return fmt.Sprintf("an attribute name has at most %d characters (the specification advises 20)", maxNameLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return fmt.Sprintf("attribute names hold only lower-case letters a-z and digits 0-9, not %q", rune(c))
		}
	}
	return ""
}

const maxNameLength = 64

// checkMediaType checks an RFC 2046 media type as RFC 7231 writes it:
// type "/" subtype *( OWS ";" OWS token "=" ( token / quoted-string ) ).
func checkMediaType(s string) string {
	i := scanToken(s, 0)
	if i == 0 {
		return "a media type starts with a type token (as in application/json)"
	}
	if i >= len(s) || s[i] != '/' {
		return "a media type is type/subtype (as in application/json)"
	}
	j := scanToken(s, i+1)
	if j == i+1 {
		return "a media type needs a subtype after '/'"
	}
	i = j
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return ""
		}
		if s[i] != ';' {
			return fmt.Sprintf("unexpected %q at byte %d of the media type", rune(s[i]), i)
		}
		i = skipOWS(s, i+1)
		if i == len(s) {
			return "" // a trailing ';' is tolerated by every HTTP stack
		}
		j := scanToken(s, i)
		if j == i {
			return fmt.Sprintf("expected a parameter name at byte %d of the media type", i)
		}
		if j >= len(s) || s[j] != '=' {
			return fmt.Sprintf("parameter at byte %d of the media type has no '='", i)
		}
		i = j + 1
		if i < len(s) && s[i] == '"' {
			k, ok := scanQuoted(s, i)
			if !ok {
				return fmt.Sprintf("unterminated quoted parameter value at byte %d of the media type", i)
			}
			i = k
		} else {
			k := scanToken(s, i)
			if k == i {
				return fmt.Sprintf("parameter value missing at byte %d of the media type", i)
			}
			i = k
		}
	}
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func scanToken(s string, i int) int {
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return i
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// scanQuoted returns the index after the quoted-string starting at s[i].
func scanQuoted(s string, i int) (int, bool) {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// mediaType returns the lower-cased type/subtype of a Content-Type value,
// without parameters, and the charset parameter if any (lower-cased).
func mediaType(s string) (mt, charset string) {
	end := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] == ';' {
			end = i
			break
		}
	}
	mt = lowerASCII(trimOWS(s[:end]))
	for rest := s[end:]; len(rest) > 0; {
		rest = rest[1:] // the ';'
		next := len(rest)
		for i := 0; i < len(rest); i++ {
			if rest[i] == ';' {
				next = i
				break
			}
		}
		p := trimOWS(rest[:next])
		if len(p) > 8 && lowerASCII(p[:8]) == "charset=" {
			charset = lowerASCII(trimQuotes(p[8:]))
		}
		rest = rest[next:]
	}
	return mt, charset
}

// isJSONMediaType reports whether a datacontenttype declares JSON: a
// subtype of json or one ending in +json.
func isJSONMediaType(ct string) bool {
	if ct == "" {
		return true // the JSON format's default
	}
	mt, _ := mediaType(ct)
	slash := -1
	for i := 0; i < len(mt); i++ {
		if mt[i] == '/' {
			slash = i
			break
		}
	}
	sub := mt[slash+1:]
	return sub == "json" || len(sub) > 5 && sub[len(sub)-5:] == "+json"
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// lowerASCII lower-cases ASCII letters, allocating only when it must.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
