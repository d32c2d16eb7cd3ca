package cloudevents

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Type is a type of the CloudEvents type system.
type Type uint8

// The CloudEvents types. The numbers are stored in the log encoding: never
// reuse one.
const (
	TypeString    Type = 1
	TypeInteger   Type = 2
	TypeBoolean   Type = 3
	TypeBinary    Type = 4
	TypeURI       Type = 5
	TypeURIRef    Type = 6
	TypeTimestamp Type = 7
)

func (t Type) String() string {
	switch t {
	case TypeString:
		return "String"
	case TypeInteger:
		return "Integer"
	case TypeBoolean:
		return "Boolean"
	case TypeBinary:
		return "Binary"
	case TypeURI:
		return "URI"
	case TypeURIRef:
		return "URI-reference"
	case TypeTimestamp:
		return "Timestamp"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// withArticle is the type's name after "a" or "an": "an Integer".
func (t Type) withArticle() string {
	if t == TypeInteger {
		return "an " + t.String()
	}
	return "a " + t.String()
}

// Value is an attribute value: its type and its canonical string
// representation (an Integer is "-12", a Boolean "true", a Binary is
// base64, a Timestamp RFC 3339 text). The JSON format writes Integers and
// Booleans as JSON numbers and booleans, everything else as strings.
type Value struct {
	Type Type
	Text string
}

// StringValue, IntegerValue, BooleanValue, BinaryValue and TimestampValue
// build values in canonical form.
func StringValue(s string) Value { return Value{TypeString, s} }

// IntegerValue is an Integer value.
func IntegerValue(i int32) Value { return Value{TypeInteger, strconv.FormatInt(int64(i), 10)} }

// BooleanValue is a Boolean value.
func BooleanValue(b bool) Value { return Value{TypeBoolean, strconv.FormatBool(b)} }

// BinaryValue is a Binary value (base64 in canonical form).
func BinaryValue(b []byte) Value { return Value{TypeBinary, base64.StdEncoding.EncodeToString(b)} }

// TimestampValue is a Timestamp value in RFC 3339 with nanoseconds as needed.
func TimestampValue(t time.Time) Value { return Value{TypeTimestamp, t.Format(time.RFC3339Nano)} }

// Integer returns v as an integer: v must be an Integer or a string holding
// one in canonical form.
func (v Value) Integer() (int32, error) {
	if err := checkInteger(v.Text); err != "" {
		return 0, fmt.Errorf("%q is not an Integer: %s", v.Text, err)
	}
	i, _ := strconv.ParseInt(v.Text, 10, 32)
	return int32(i), nil
}

// Boolean returns v as a boolean ("true" or "false").
func (v Value) Boolean() (bool, error) {
	switch v.Text {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a Boolean (true or false)", v.Text)
}

// Binary returns the bytes of a Binary value.
func (v Value) Binary() ([]byte, error) {
	b, err := decodeBase64(v.Text)
	if err != nil {
		return nil, fmt.Errorf("%q is not base64 (RFC 4648): %v", v.Text, err)
	}
	return b, nil
}

// decodeBase64 decodes base64 as RFC 4648 has it: the alphabet and
// padding, nothing else. encoding/base64 skips CR and LF, which RFC 4648
// (section 3.3) has a decoder refuse unless the specification that refers
// to it says otherwise, and CloudEvents does not.
func decodeBase64(s string) ([]byte, error) {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return nil, base64.CorruptInputError(i)
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

// Timestamp returns a Timestamp value as a time (a leap second :60 reads
// as :59.999999999).
func (v Value) Timestamp() (time.Time, error) {
	t, err := parseTimestamp(v.Text)
	if err != "" {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp: %s", v.Text, err)
	}
	return t, nil
}

// check reports what is wrong with v's text for its type, or "".
func (v Value) check() string {
	switch v.Type {
	case TypeString:
		return checkString(v.Text)
	case TypeInteger:
		return checkInteger(v.Text)
	case TypeBoolean:
		if v.Text != "true" && v.Text != "false" {
			return "a Boolean is true or false"
		}
	case TypeBinary:
		if _, err := decodeBase64(v.Text); err != nil {
			return "not base64 (RFC 4648 with padding): " + err.Error()
		}
	case TypeURI:
		return checkURI(v.Text)
	case TypeURIRef:
		return checkURIRef(v.Text)
	case TypeTimestamp:
		_, err := parseTimestamp(v.Text)
		return err
	default:
		return fmt.Sprintf("unknown type %d", v.Type)
	}
	return ""
}

// knownExtensions are the documented CloudEvents extensions whose type is
// not String: a value of another type is converted when its text is valid
// for the known type, and rejected otherwise.
var knownExtensions = map[string]Type{
	"dataref":        TypeURIRef,    // dataref extension
	"sampledrate":    TypeInteger,   // sampled rate extension
	"expirytime":     TypeTimestamp, // expiry time extension
	"recordedtime":   TypeTimestamp, // recorded time extension
	"severitynumber": TypeInteger,   // severity extension
}

// ExtensionType returns the type of a documented extension, if Eddy knows
// it; other extensions take the type their encoding gives them.
func ExtensionType(name string) (Type, bool) {
	t, ok := knownExtensions[name]
	return t, ok
}

// checkInteger checks the canonical form of an Integer: an optional minus,
// no leading zeros, within 32 bits.
func checkInteger(s string) string {
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if d == "" {
		return "an Integer needs digits"
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return "an Integer holds only digits and a leading minus"
		}
	}
	if len(d) > 1 && d[0] == '0' {
		return "an Integer has no leading zeros"
	}
	if _, err := strconv.ParseInt(s, 10, 32); err != nil {
		return "out of the 32-bit range of an Integer"
	}
	return ""
}
