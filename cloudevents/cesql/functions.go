package cesql

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// function is a built-in: its parameter types (the last repeated when
// variadic) and result type.
type function struct {
	name     string
	id       uint8
	params   []Type
	variadic bool // the last parameter repeats zero or more times
	result   Type
	errKind  ErrorKind // of the errors it reports; FunctionEvaluationError when 0
}

// builtins by upper-case name; one entry per arity, at most one variadic,
// and a variadic one only beyond the fixed arities (section 3.5).
var builtins = map[string][]*function{}

// Built-ins are dispatched by a switch, not through func values, so that
// their argument slice can stay on the caller's stack.
const (
	fnLengthID = iota + 1
	fnConcatID
	fnConcatWSID
	fnLowerID
	fnUpperID
	fnTrimID
	fnLeftID
	fnRightID
	fnSubstringID
	fnAbsID
	fnIntID
	fnBoolID
	fnStringID
	fnIsIntID
	fnIsBoolID
)

func init() {
	s, i := String, Integer
	for _, f := range []*function{
		{name: "LENGTH", id: fnLengthID, params: []Type{s}, result: i},
		{name: "CONCAT", id: fnConcatID, params: []Type{s}, variadic: true, result: s},
		{name: "CONCAT_WS", id: fnConcatWSID, params: []Type{s, s}, variadic: true, result: s},
		{name: "LOWER", id: fnLowerID, params: []Type{s}, result: s},
		{name: "UPPER", id: fnUpperID, params: []Type{s}, result: s},
		{name: "TRIM", id: fnTrimID, params: []Type{s}, result: s},
		{name: "LEFT", id: fnLeftID, params: []Type{s, i}, result: s},
		{name: "RIGHT", id: fnRightID, params: []Type{s, i}, result: s},
		{name: "SUBSTRING", id: fnSubstringID, params: []Type{s, i}, result: s},
		{name: "SUBSTRING", id: fnSubstringID, params: []Type{s, i, i}, result: s},
		{name: "ABS", id: fnAbsID, params: []Type{i}, result: i, errKind: MathError},
		{name: "INT", id: fnIntID, params: []Type{i}, result: i},
		{name: "BOOL", id: fnBoolID, params: []Type{Boolean}, result: Boolean},
		{name: "STRING", id: fnStringID, params: []Type{s}, result: s},
		// Whether the argument's text casts to the type (as the SDKs
		// define them): IS_INT('12') is true, IS_BOOL('yes') false.
		{name: "IS_INT", id: fnIsIntID, params: []Type{s}, result: Boolean},
		{name: "IS_BOOL", id: fnIsBoolID, params: []Type{s}, result: Boolean},
	} {
		builtins[f.name] = append(builtins[f.name], f)
	}
}

// invoke runs a built-in on arguments already cast to its parameter types.
// It returns a value of the result type even with an error (3.5.3).
func (f *function) invoke(a []Value) (Value, string) {
	switch f.id {
	case fnLengthID:
		return fnLength(a)
	case fnConcatID:
		return fnConcat(a)
	case fnConcatWSID:
		return fnConcatWS(a)
	case fnLowerID:
		return StringValue(strings.ToLower(a[0].Str)), ""
	case fnUpperID:
		return StringValue(strings.ToUpper(a[0].Str)), ""
	case fnTrimID:
		return StringValue(strings.TrimSpace(a[0].Str)), ""
	case fnLeftID:
		return fnLeft(a)
	case fnRightID:
		return fnRight(a)
	case fnSubstringID:
		return fnSubstring(a)
	case fnAbsID:
		return fnAbs(a)
	case fnIsIntID:
		_, ok := parseInt32(a[0].Str)
		return BoolValue(ok), ""
	case fnIsBoolID:
		_, msg := cast(a[0], Boolean)
		return BoolValue(msg == ""), ""
	}
	return a[0], "" // INT, BOOL and STRING: the cast did the work
}

// lookup finds the overload of name for n arguments.
func lookup(name string, n int) (*function, string) {
	fs, ok := builtins[name]
	if !ok {
		return nil, "no function " + name
	}
	for _, f := range fs {
		if !f.variadic && len(f.params) == n {
			return f, ""
		}
	}
	for _, f := range fs {
		// A variadic CONCAT_WS(d, x...) takes the delimiter and zero or more
		// strings: its minimum is its fixed parameters less the repeated one.
		if f.variadic && n >= len(f.params)-1 {
			return f, ""
		}
	}
	var arities []string
	for _, f := range fs {
		switch {
		case f.variadic:
			arities = append(arities, itoa(len(f.params)-1)+" or more")
		default:
			arities = append(arities, itoa(len(f.params)))
		}
	}
	return nil, name + " takes " + strings.Join(arities, " or ") + " arguments, not " + itoa(n)
}

// paramType is the type of argument k.
func (f *function) paramType(k int) Type {
	if k >= len(f.params) {
		return f.params[len(f.params)-1]
	}
	return f.params[k]
}

func fnLength(a []Value) (Value, string) {
	return IntValue(int32(min(utf8.RuneCountInString(a[0].Str), math.MaxInt32))), ""
}

func fnConcat(a []Value) (Value, string) {
	var b strings.Builder
	for _, v := range a {
		b.WriteString(v.Str)
	}
	return StringValue(b.String()), ""
}

func fnConcatWS(a []Value) (Value, string) {
	var b strings.Builder
	for k, v := range a[1:] {
		if k > 0 {
			b.WriteString(a[0].Str)
		}
		b.WriteString(v.Str)
	}
	return StringValue(b.String()), ""
}

// runeOffset returns the byte offset of the n-th character of s (len(s)
// when s has fewer).
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

func fnLeft(a []Value) (Value, string) {
	s, n := a[0].Str, int(a[1].Int)
	if n < 0 {
		return a[0], "LEFT of a negative length"
	}
	return StringValue(s[:runeOffset(s, n)]), ""
}

func fnRight(a []Value) (Value, string) {
	s, n := a[0].Str, int(a[1].Int)
	if n < 0 {
		return a[0], "RIGHT of a negative length"
	}
	l := utf8.RuneCountInString(s)
	if n >= l {
		return a[0], ""
	}
	return StringValue(s[runeOffset(s, l-n):]), ""
}

func fnSubstring(a []Value) (Value, string) {
	s, pos := a[0].Str, int(a[1].Int)
	l := utf8.RuneCountInString(s)
	if pos > l || pos < -l {
		return StringValue(""), "SUBSTRING position " + itoa(pos) + " is outside the string of length " + itoa(l)
	}
	if pos == 0 {
		return StringValue(""), ""
	}
	start := pos - 1
	if pos < 0 {
		start = l + pos
	}
	end := l
	if len(a) == 3 {
		n := int(a[2].Int)
		if n < 0 {
			return StringValue(""), "SUBSTRING of a negative length"
		}
		end = min(l, start+n)
	}
	return StringValue(s[runeOffset(s, start):runeOffset(s, end)]), ""
}

func fnAbs(a []Value) (Value, string) {
	x := a[0].Int
	if x == math.MinInt32 {
		return IntValue(math.MaxInt32), "ABS(-2147483648) overflows"
	}
	if x < 0 {
		x = -x
	}
	return IntValue(x), ""
}

func itoa(n int) string { return strconv.Itoa(n) }
