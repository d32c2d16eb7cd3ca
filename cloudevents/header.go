package cloudevents

import (
	"unicode/utf8"
)

// Header values in binary mode (HTTP binding section 3.1.3.2): senders
// percent-encode space, '"', '%' and every byte outside U+0021-U+007E;
// receivers first undo RFC 7230 quoted-strings (older senders quoted
// instead of encoding), then percent-decode once, and refuse byte sequences
// that are not UTF-8 (overlong forms included).
//
// Not every sender follows the binding: the Go and Java SDKs neither encode
// nor decode (sdk-go issue 1331). Their raw UTF-8 and spaces decode as
// themselves here, and so does a '%' that starts no escape; a raw "%41"
// from them cannot be told from an escape and reads as "A".

// decodeHeaderValue returns the attribute text a header value carries.
func decodeHeaderValue(v string) (string, string) {
	quoted, percent, ascii := false, false, true
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = true
		case c == '%':
			percent = true
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if quoted {
		b := make([]byte, 0, len(v))
		for i := 0; i < len(v); i++ {
			if v[i] != '"' {
				b = append(b, v[i])
				continue
			}
			// A quoted-string: a backslash escapes the next character.
			for i++; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' {
					if i++; i == len(v) {
						break
					}
				}
				b = append(b, v[i])
			}
			if i >= len(v) {
				return "", "unterminated quoted-string"
			}
		}
		v = string(b)
	}
	if percent {
		b := make([]byte, 0, len(v))
		for i := 0; i < len(v); i++ {
			if v[i] != '%' {
				b = append(b, v[i])
				continue
			}
			if i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2]) {
				// Not an escape: a literal '%' from a sender that does not
				// percent-encode (the Go and Java SDKs send "100%" as is).
				b = append(b, '%')
				continue
			}
			c := unhex(v[i+1])<<4 | unhex(v[i+2])
			ascii = ascii && c < utf8.RuneSelf
			b = append(b, c)
			i += 2
		}
		v = string(b)
	}
	if !ascii && !utf8.ValidString(v) {
		return "", "the percent-decoded bytes are not valid UTF-8"
	}
	return v, ""
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// appendHeaderValue percent-encodes text for a header value.
func appendHeaderValue(dst []byte, text string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c <= ' ' || c == '"' || c == '%' || c >= 0x7f {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// encodeHeaderValue is appendHeaderValue to a string, without allocating
// when nothing needs encoding.
func encodeHeaderValue(text string) string {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c <= ' ' || c == '"' || c == '%' || c >= 0x7f {
			return string(appendHeaderValue(append(make([]byte, 0, len(text)+16), text[:i]...), text[i:]))
		}
	}
	return text
}
