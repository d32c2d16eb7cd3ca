package feel

import (
	"math/big"
	"unsafe"
)

// Kind is the FEEL type of a value.
type Kind uint8

// The FEEL types.
const (
	KindNull Kind = iota
	KindBool
	KindNumber
	KindString
	KindDate
	KindTime
	KindDateTime
	KindDuration    // days and time duration
	KindYearsMonths // years and months duration
	KindList
	KindContext
	KindRange
	KindFunction
)

var kindNames = [...]string{
	KindNull:        "null",
	KindBool:        "boolean",
	KindNumber:      "number",
	KindString:      "string",
	KindDate:        "date",
	KindTime:        "time",
	KindDateTime:    "date and time",
	KindDuration:    "days and time duration",
	KindYearsMonths: "years and months duration",
	KindList:        "list",
	KindContext:     "context",
	KindRange:       "range",
	KindFunction:    "function",
}

// String returns the FEEL name of the type ("date and time").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Value is a FEEL value. The zero Value is null. Values are immutable and
// small (24 bytes) enough to pass by value: numbers that fit an int64,
// booleans, strings, dates and durations are held without allocation of
// their own.
type Value struct {
	kind  Kind
	scale int32          // number: decimal scale; duration: nanoseconds
	n     int64          // bool: 0/1; number: unscaled; string: length; date: days since 1970-01-01; duration: seconds; years-months: months
	p     unsafe.Pointer // string: bytes; number: *big.Int or nil; others: *list, *Context, *Time, *DateTime, *Range, *Function
}

type list struct{ items []Value }

// Null is the null value.
var Null = Value{}

var (
	trueValue  = Value{kind: KindBool, n: 1}
	falseValue = Value{kind: KindBool}
)

// Bool returns a boolean value.
func Bool(b bool) Value {
	if b {
		return trueValue
	}
	return falseValue
}

// String returns a string value.
func String(s string) Value {
	return Value{kind: KindString, n: int64(len(s)), p: unsafe.Pointer(unsafe.StringData(s))}
}

// str returns the text of a string value.
func (v Value) str() string { return unsafe.String((*byte)(v.p), int(v.n)) }

// Number returns a number value.
func Number(d Decimal) Value {
	return Value{kind: KindNumber, n: d.u, scale: d.scale, p: unsafe.Pointer(d.b)}
}

// Int returns an integer number value.
func Int(i int64) Value { return Value{kind: KindNumber, n: i} }

// List returns a list value holding items (which it keeps: do not modify
// them afterwards).
func List(items ...Value) Value { return Value{kind: KindList, p: unsafe.Pointer(&list{items: items})} }

// ContextValue returns c as a value.
func ContextValue(c *Context) Value { return Value{kind: KindContext, p: unsafe.Pointer(c)} }

// DateValue returns a date value.
func DateValue(d Date) Value { return Value{kind: KindDate, n: d.days} }

// TimeValue returns a time value.
func TimeValue(t Time) Value { return Value{kind: KindTime, p: unsafe.Pointer(&t)} }

// DateTimeValue returns a date and time value.
func DateTimeValue(t DateTime) Value { return Value{kind: KindDateTime, p: unsafe.Pointer(&t)} }

// DurationValue returns a days and time duration value.
func DurationValue(d Duration) Value {
	return Value{kind: KindDuration, n: d.sec, scale: d.nsec}
}

// YearsMonthsValue returns a years and months duration value.
func YearsMonthsValue(m YearsMonths) Value { return Value{kind: KindYearsMonths, n: int64(m)} }

// RangeValue returns a range value.
func RangeValue(r Range) Value { return Value{kind: KindRange, p: unsafe.Pointer(&r)} }

// FunctionValue returns f as a value.
func FunctionValue(f *Function) Value { return Value{kind: KindFunction, p: unsafe.Pointer(f)} }

// Kind returns the value's type.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// AsBool returns the boolean held by v.
func (v Value) AsBool() (bool, bool) { return v.n != 0, v.kind == KindBool }

// AsString returns the string held by v.
func (v Value) AsString() (string, bool) {
	if v.kind != KindString {
		return "", false
	}
	return v.str(), true
}

// AsNumber returns the number held by v.
func (v Value) AsNumber() (Decimal, bool) {
	if v.kind != KindNumber {
		return Decimal{}, false
	}
	return v.dec(), true
}

func (v Value) dec() Decimal {
	return Decimal{u: v.n, scale: v.scale, b: (*big.Int)(v.p)}
}

// AsList returns the items of a list; the slice must not be modified.
func (v Value) AsList() ([]Value, bool) {
	if v.kind != KindList {
		return nil, false
	}
	return (*list)(v.p).items, true
}

func (v Value) items() []Value { return (*list)(v.p).items }

// AsContext returns the context held by v.
func (v Value) AsContext() (*Context, bool) {
	if v.kind != KindContext {
		return nil, false
	}
	return (*Context)(v.p), true
}

func (v Value) ctx() *Context { return (*Context)(v.p) }

// AsDate returns the date held by v.
func (v Value) AsDate() (Date, bool) { return Date{days: v.n}, v.kind == KindDate }

// AsTime returns the time held by v.
func (v Value) AsTime() (Time, bool) {
	if v.kind != KindTime {
		return Time{}, false
	}
	return *(*Time)(v.p), true
}

// AsDateTime returns the date and time held by v.
func (v Value) AsDateTime() (DateTime, bool) {
	if v.kind != KindDateTime {
		return DateTime{}, false
	}
	return *(*DateTime)(v.p), true
}

// AsDuration returns the days and time duration held by v.
func (v Value) AsDuration() (Duration, bool) {
	return Duration{sec: v.n, nsec: v.scale}, v.kind == KindDuration
}

func (v Value) dur() Duration { return Duration{sec: v.n, nsec: v.scale} }

// AsYearsMonths returns the years and months duration held by v.
func (v Value) AsYearsMonths() (YearsMonths, bool) {
	return YearsMonths(v.n), v.kind == KindYearsMonths
}

// AsRange returns the range held by v.
func (v Value) AsRange() (Range, bool) {
	if v.kind != KindRange {
		return Range{}, false
	}
	return *(*Range)(v.p), true
}

// AsFunction returns the function held by v.
func (v Value) AsFunction() (*Function, bool) {
	if v.kind != KindFunction {
		return nil, false
	}
	return (*Function)(v.p), true
}

// Range is an interval of comparable values. A missing end (Start or End
// null with its Unbounded flag) stands for the tests < x, <= x, > x, >= x.
type Range struct {
	Start, End                   Value
	StartIncluded, EndIncluded   bool
	StartUnbounded, EndUnbounded bool
}

// Equal reports whether v and w are the same FEEL value (FEEL's = operator,
// with a comparison of different types counting as not equal).
func (v Value) Equal(w Value) bool {
	eq, ok := equalValues(v, w)
	return ok && eq
}
