package cloudevents

import (
	"unicode/utf8"
)

// Header values in binary mode (HTTP binding section 3.1.3.2): senders
// percent-encode space, '"', '%' and every byte outside U+0021-U+007E;
// receivers first undo an RFC 7230 quoted-string (older senders quoted
// instead of encoding), then percent-decode once, and refuse byte sequences
// that are not UTF-8 (overlong forms included).
//
// Not every sender follows the binding: the Go and Java SDKs neither encode
// nor decode (sdk-go issue 1331). Their raw UTF-8 and spaces decode as
// themselves here, and so does a '%' that starts no escape; a raw "%41"
// from them cannot be told from an escape and reads as "A".

// decodeHeaderValue returns the attribute text a header value carries.
//
// Only a value that is one quoted-string as a whole is unquoted: that is
// how older senders quoted a value with spaces. A '"' anywhere else is the
// text's own, as senders that do not encode send it (a JSON text in an
// extension, `27" monitor`): reading it as the start of a quoted-string
// would change the value, or refuse it.
func decodeHeaderValue(v string) (string, string) {
	percent, ascii := false, true
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '%':
			percent = true
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	if unquoted, ok := unquote(v); ok {
		v = unquoted
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

// unquote undoes an RFC 7230 quoted-string that is the whole of v, a
// backslash escaping the character after it; ok is false when v is not one.
func unquote(v string) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	b := make([]byte, 0, len(v)-2)
	for i := 1; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i+1 == len(v)-1 { // the closing quote escaped: none is left
				return "", false
			}
			i++
		case '"':
			if i != len(v)-1 {
				return "", false // a quoted-string and more
			}
			return string(b), true
		}
		b = append(b, v[i])
	}
	return "", false
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
