package cesql

import (
	"strconv"
	"strings"
)

// Type is a CESQL type.
type Type uint8

// The primitive types. Attributes of other CloudEvents types (URI,
// Timestamp, Binary, ...) are Strings.
const (
	Boolean Type = iota + 1
	Integer
	String
)

func (t Type) String() string {
	switch t {
	case Boolean:
		return "Boolean"
	case Integer:
		return "Integer"
	case String:
		return "String"
	}
	return "unknown"
}

// Value is a CESQL value: a Boolean, an Integer or a String.
type Value struct {
	Type Type
	Bool bool
	Int  int32
	Str  string
}

// BoolValue, IntValue and StringValue make values.
func BoolValue(b bool) Value { return Value{Type: Boolean, Bool: b} }

// IntValue is an Integer value.
func IntValue(i int32) Value { return Value{Type: Integer, Int: i} }

// StringValue is a String value.
func StringValue(s string) Value { return Value{Type: String, Str: s} }

// zero is the zero value of t (false for an unknown type, as the
// specification says).
func zero(t Type) Value {
	switch t {
	case Integer:
		return IntValue(0)
	case String:
		return StringValue("")
	}
	return BoolValue(false)
}

func (v Value) String() string {
	switch v.Type {
	case Boolean:
		return strconv.FormatBool(v.Bool)
	case Integer:
		return strconv.FormatInt(int64(v.Int), 10)
	case String:
		return strconv.Quote(v.Str)
	}
	return "<none>"
}

// cast converts v to t with the semantics of section 3.7. The message is
// "" on success.
func cast(v Value, t Type) (Value, string) {
	if v.Type == t {
		return v, ""
	}
	switch t {
	case String:
		if v.Type == Boolean {
			return StringValue(strconv.FormatBool(v.Bool)), ""
		}
		return StringValue(strconv.FormatInt(int64(v.Int), 10)), ""
	case Integer:
		if v.Type == Boolean {
			if v.Bool {
				return IntValue(1), ""
			}
			return IntValue(0), ""
		}
		i, ok := parseInt32(v.Str)
		if !ok {
			return IntValue(0), "cannot cast " + strconv.Quote(v.Str) + " to an Integer"
		}
		return IntValue(i), ""
	case Boolean:
		if v.Type == Integer {
			return BoolValue(v.Int != 0), ""
		}
		switch strings.ToLower(v.Str) {
		case "true":
			return BoolValue(true), ""
		case "false":
			return BoolValue(false), ""
		}
		return BoolValue(false), "cannot cast " + strconv.Quote(v.Str) + " to a Boolean (true or false)"
	}
	return zero(t), "unknown type"
}

// parseInt32 reads a base-10 32-bit integer with an optional sign.
func parseInt32(s string) (int32, bool) {
	if s == "" {
		return 0, false
	}
	d := s
	if d[0] == '+' || d[0] == '-' {
		d = d[1:]
	}
	if d == "" {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(s, 10, 32)
	return int32(i), err == nil
}
