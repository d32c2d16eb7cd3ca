package rest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"time"
)

// Key is a 64-bit entity key. It is written as a JSON string (JavaScript
// numbers are exact only up to 2^53) and read from a string of digits or a
// JSON integer; null and absence are 0, "no key".
type Key int64

var (
	keyType    = reflect.TypeFor[Key]()
	millisType = reflect.TypeFor[Millis]()
)

// MarshalJSON writes the key as a string.
func (k Key) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendInt(b, int64(k), 10)
	return append(b, '"'), nil
}

// UnmarshalJSON reads "123" or 123.
func (k *Key) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*k = 0
		return nil
	}
	digits := data
	if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		digits = data[1 : len(data)-1]
	}
	v, err := ParseKey(string(digits))
	if err != nil {
		return &json.UnmarshalTypeError{Value: describeJSONValue(data), Type: keyType}
	}
	*k = v
	return nil
}

// String returns the key's digits.
func (k Key) String() string { return strconv.FormatInt(int64(k), 10) }

// ParseKey reads a key from its digits: a positive 64-bit integer.
func ParseKey(s string) (Key, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, strconv.ErrSyntax
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, strconv.ErrSyntax
	}
	return Key(v), nil
}

// Millis is a duration, written as whole milliseconds and read from a JSON
// number of milliseconds or a Go duration string ("1.5s", "2m").
type Millis time.Duration

// MarshalJSON writes whole milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, time.Duration(m).Milliseconds(), 10), nil
}

// UnmarshalJSON reads 1500 or "1.5s"; a negative duration is refused.
func (m *Millis) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*m = 0
		return nil
	}
	var d time.Duration
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return &json.UnmarshalTypeError{Value: describeJSONValue(data), Type: millisType}
		}
		parsed, err := time.ParseDuration(s)
		if err != nil {
			return &json.UnmarshalTypeError{Value: describeJSONValue(data), Type: millisType}
		}
		d = parsed
	} else {
		n, err := strconv.ParseInt(string(data), 10, 64)
		if err != nil || n > int64(time.Duration(1<<63-1)/time.Millisecond) {
			return &json.UnmarshalTypeError{Value: describeJSONValue(data), Type: millisType}
		}
		d = time.Duration(n) * time.Millisecond
	}
	if d < 0 {
		return &json.UnmarshalTypeError{Value: describeJSONValue(data), Type: millisType}
	}
	*m = Millis(d)
	return nil
}

// describeJSONValue names a JSON value for an error message, shortened.
func describeJSONValue(data []byte) string {
	data = bytes.TrimSpace(data)
	kind := "value"
	if len(data) > 0 {
		switch data[0] {
		case '"':
			kind = "string"
		case '{':
			kind = "object"
		case '[':
			kind = "array"
		case 't', 'f':
			kind = "boolean"
		default:
			kind = "number"
		}
	}
	if len(data) > 40 {
		data = append(append([]byte(nil), data[:40]...), "…"...)
	}
	return kind + " " + string(data)
}

func (m Millis) duration() time.Duration { return time.Duration(m) }
