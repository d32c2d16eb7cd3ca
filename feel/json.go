package feel

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// FromJSON decodes a JSON document into a value: objects become contexts
// (keys in document order; a repeated key keeps its last value), arrays
// lists, numbers exact decimals (large integers and long fractions
// included), strings, booleans and null as themselves.
func FromJSON(data []byte) (Value, error) {
	d := jsonDecoder{data: data}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return Null, err
	}
	d.space()
	if d.i != len(d.data) {
		return Null, d.errorf("unexpected %q after the JSON value", d.data[d.i])
	}
	return v, nil
}

// maxJSONDepth bounds the nesting of JSON documents.
const maxJSONDepth = 1000

type jsonDecoder struct {
	data []byte
	i    int
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return errors.New("JSON at offset " + strconv.Itoa(d.i) + ": " + sprintf(format, args...))
}

func (d *jsonDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (Value, error) {
	if depth > maxJSONDepth {
		return Null, d.errorf("nested deeper than %d", maxJSONDepth)
	}
	if d.i >= len(d.data) {
		return Null, d.errorf("unexpected end of JSON")
	}
	switch c := d.data[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.str()
		return String(s), err
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case d.literal("true"):
		return trueValue, nil
	case d.literal("false"):
		return falseValue, nil
	case d.literal("null"):
		return Null, nil
	default:
		return Null, d.errorf("unexpected %q", c)
	}
}

func (d *jsonDecoder) literal(word string) bool {
	if len(d.data)-d.i >= len(word) && string(d.data[d.i:d.i+len(word)]) == word {
		d.i += len(word)
		return true
	}
	return false
}

func (d *jsonDecoder) object(depth int) (Value, error) {
	d.i++ // {
	var b ContextBuilder
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return b.Value(), nil
	}
	for {
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			return Null, d.errorf("expected a string key")
		}
		key, err := d.str()
		if err != nil {
			return Null, err
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return Null, d.errorf("expected ':' after an object key")
		}
		d.i++
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return Null, err
		}
		b.Set(key, v)
		d.space()
		if d.i >= len(d.data) {
			return Null, d.errorf("object is not closed with '}'")
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return b.Value(), nil
		default:
			return Null, d.errorf("expected ',' or '}' in an object")
		}
	}
}

func (d *jsonDecoder) array(depth int) (Value, error) {
	d.i++ // [
	items := []Value{}
	d.space()
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return List(items...), nil
	}
	for {
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return Null, err
		}
		items = append(items, v)
		d.space()
		if d.i >= len(d.data) {
			return Null, d.errorf("array is not closed with ']'")
		}
		switch d.data[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return List(items...), nil
		default:
			return Null, d.errorf("expected ',' or ']' in an array")
		}
	}
}

func (d *jsonDecoder) number() (Value, error) {
	start := d.i
	if d.data[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	intStart := d.i
	if digits() == 0 || d.data[intStart] == '0' && d.i-intStart > 1 {
		return Null, d.errorf("bad number %q", d.data[start:d.i])
	}
	if d.i < len(d.data) && d.data[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return Null, d.errorf("bad number %q", d.data[start:d.i])
		}
	}
	if d.i < len(d.data) && (d.data[d.i] == 'e' || d.data[d.i] == 'E') {
		d.i++
		if d.i < len(d.data) && (d.data[d.i] == '+' || d.data[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return Null, d.errorf("bad number %q", d.data[start:d.i])
		}
	}
	// Small integers, the common case, without the general parser.
	if n, ok := smallInt(d.data[start:d.i]); ok {
		return Int(n), nil
	}
	text := string(d.data[start:d.i])
	dec, ok := ParseDecimal(text)
	if !ok {
		return Null, d.errorf("number %s is out of FEEL's range", text)
	}
	return Number(dec), nil
}

func (d *jsonDecoder) str() (string, error) {
	d.i++ // "
	start := d.i
	// Fast path: no escapes.
	for d.i < len(d.data) {
		c := d.data[d.i]
		if c == '"' {
			s := string(d.data[start:d.i])
			d.i++
			if !utf8.ValidString(s) {
				return toValidUTF8(s), nil
			}
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.i++
	}
	buf := append([]byte(nil), d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			return toValidUTF8(string(buf)), nil
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c == '\\':
			if d.i+1 >= len(d.data) {
				return "", d.errorf("string is not closed")
			}
			e := d.data[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return "", d.errorf(`bad \u escape`)
				}
				if utf16.IsSurrogate(r) {
					lo := utf8.RuneError
					if d.i+1 < len(d.data) && d.data[d.i] == '\\' && d.data[d.i+1] == 'u' {
						d.i += 2
						if l, ok := d.hex4(); ok {
							lo = l
						}
					}
					r = utf16.DecodeRune(r, lo)
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", d.errorf("bad escape \\%c", e)
			}
		default:
			buf = append(buf, c)
			d.i++
		}
	}
	return "", d.errorf("string is not closed")
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d.data[d.i:d.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return rune(v), true
}

func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// MarshalJSON encodes v as JSON: contexts as objects (in entry order),
// lists as arrays, numbers exactly, temporals and ranges as their FEEL text
// ("2024-01-31", "P1D", "[1..5]"). A function has no JSON form.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil) }

// AppendJSON appends the JSON encoding of v to dst.
func (v Value) AppendJSON(dst []byte) ([]byte, error) {
	switch v.kind {
	case KindNull:
		return append(dst, "null"...), nil
	case KindBool:
		return strconv.AppendBool(dst, v.n != 0), nil
	case KindNumber:
		if v.p == nil && v.scale == 0 {
			return strconv.AppendInt(dst, v.n, 10), nil
		}
		return append(dst, v.dec().String()...), nil
	case KindString:
		return appendJSONString(dst, v.str()), nil
	case KindList:
		dst = append(dst, '[')
		for i, it := range v.items() {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = it.AppendJSON(dst); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case KindContext:
		c := v.ctx()
		dst = append(dst, '{')
		for i, k := range c.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = c.vals[i].AppendJSON(dst); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case KindFunction:
		return nil, errors.New("feel: a function has no JSON form")
	case KindRange:
		return appendJSONString(dst, v.String()), nil
	}
	return appendJSONString(dst, v.text()), nil
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' {
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[r&0xF])
			} else {
				dst = utf8.AppendRune(dst, r)
			}
			i += w
			continue
		}
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
	}
	return append(dst, '"')
}

// smallInt reads an integer of at most 18 digits.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
