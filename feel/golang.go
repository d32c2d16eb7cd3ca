package feel

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"time"
)

// FromGo converts a Go value: nil, bool, string, integers, floats,
// json.Number, Decimal, *big.Int, time.Time (a date and time),
// time.Duration (a days and time duration), Date, Time, DateTime,
// Duration, YearsMonths, *Function, Value, slices and arrays (lists),
// maps with string keys (contexts, keys sorted) and anything else that
// encodes to JSON (through its JSON form).
func FromGo(x any) (Value, error) {
	switch x := x.(type) {
	case nil:
		return Null, nil
	case Value:
		return x, nil
	case bool:
		return Bool(x), nil
	case string:
		return String(x), nil
	case int:
		return Int(int64(x)), nil
	case int8:
		return Int(int64(x)), nil
	case int16:
		return Int(int64(x)), nil
	case int32:
		return Int(int64(x)), nil
	case int64:
		return Int(x), nil
	case uint8:
		return Int(int64(x)), nil
	case uint16:
		return Int(int64(x)), nil
	case uint32:
		return Int(int64(x)), nil
	case uint:
		return Number(DecimalFromBig(new(big.Int).SetUint64(uint64(x)), 0)), nil
	case uint64:
		return Number(DecimalFromBig(new(big.Int).SetUint64(x), 0)), nil
	case float32:
		return floatValue(float64(x))
	case float64:
		return floatValue(x)
	case json.Number:
		d, ok := ParseDecimal(string(x))
		if !ok {
			return Null, fmt.Errorf("feel: %q is not a number", string(x))
		}
		return Number(d), nil
	case Decimal:
		return Number(x), nil
	case *big.Int:
		return Number(DecimalFromBig(x, 0)), nil
	case time.Time:
		return DateTimeValue(DateTimeFromTime(x)), nil
	case time.Duration:
		return DurationValue(DurationOf(x)), nil
	case Date:
		return DateValue(x), nil
	case Time:
		return TimeValue(x), nil
	case DateTime:
		return DateTimeValue(x), nil
	case Duration:
		return DurationValue(x), nil
	case YearsMonths:
		return YearsMonthsValue(x), nil
	case *Function:
		return FunctionValue(x), nil
	case *Context:
		return ContextValue(x), nil
	case []any:
		return listFromGo(len(x), func(i int) any { return x[i] })
	case map[string]any:
		return contextFromGo(x)
	case json.RawMessage:
		return FromJSON(x)
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return Null, nil
		}
		return listFromGo(rv.Len(), func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map:
		if rv.Type().Key().Kind() == reflect.String {
			m := make(map[string]any, rv.Len())
			for it := rv.MapRange(); it.Next(); {
				m[it.Key().String()] = it.Value().Interface()
			}
			return contextFromGo(m)
		}
	case reflect.Pointer:
		if rv.IsNil() {
			return Null, nil
		}
	}
	data, err := json.Marshal(x)
	if err != nil {
		return Null, fmt.Errorf("feel: cannot convert %T: %w", x, err)
	}
	return FromJSON(data)
}

func floatValue(f float64) (Value, error) {
	d, ok := DecimalFromFloat(f)
	if !ok {
		return Null, fmt.Errorf("feel: %v is not a number", f)
	}
	return Number(d), nil
}

func listFromGo(n int, at func(int) any) (Value, error) {
	items := make([]Value, n)
	for i := range items {
		v, err := FromGo(at(i))
		if err != nil {
			return Null, err
		}
		items[i] = v
	}
	return List(items...), nil
}

func contextFromGo(m map[string]any) (Value, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b ContextBuilder
	for _, k := range keys {
		v, err := FromGo(m[k])
		if err != nil {
			return Null, err
		}
		b.Set(k, v)
	}
	return b.Value(), nil
}

// ToGo converts v to plain Go values: nil, bool, string, json.Number (exact,
// and encoding/json writes it as a number), []any, map[string]any, and the
// package's temporal types (Date, Time, DateTime, Duration, YearsMonths),
// Range and *Function.
func (v Value) ToGo() any {
	switch v.kind {
	case KindNull:
		return nil
	case KindBool:
		return v.n != 0
	case KindString:
		return v.str()
	case KindNumber:
		return json.Number(v.dec().String())
	case KindDate:
		return Date{days: v.n}
	case KindTime:
		return *(*Time)(v.p)
	case KindDateTime:
		return *(*DateTime)(v.p)
	case KindDuration:
		return v.dur()
	case KindYearsMonths:
		return YearsMonths(v.n)
	case KindList:
		out := make([]any, len(v.items()))
		for i, it := range v.items() {
			out[i] = it.ToGo()
		}
		return out
	case KindContext:
		c := v.ctx()
		out := make(map[string]any, c.Len())
		for i, k := range c.keys {
			out[k] = c.vals[i].ToGo()
		}
		return out
	case KindRange:
		return *(*Range)(v.p)
	case KindFunction:
		return (*Function)(v.p)
	}
	return nil
}
