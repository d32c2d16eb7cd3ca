package feel

import (
	"testing"
)

func TestDecimalArithmetic(t *testing.T) {
	cases := []struct {
		op, a, b, want string
	}{
		{"+", "0.1", "0.2", "0.3"},
		{"+", "9223372036854775807", "1", "9223372036854775808"},
		{"+", "-9223372036854775808", "-1", "-9223372036854775809"},
		{"+", "1E+3", "1", "1001"},
		{"+", "1.000000000000000000000000000000001", "1E-40", "1.000000000000000000000000000000001"},
		{"+", "9999999999999999999999999999999999", "1", "10000000000000000000000000000000000"},
		{"-", "1", "0.0001", "0.9999"},
		{"*", "1.5", "1.5", "2.25"},
		{"*", "3037000500", "3037000500", "9223372037000250000"},
		{"*", "1E+6000", "1E+6000", ""},
		{"*", "1E-6000", "1E-6000", "0E-6176"},
		{"/", "1", "3", "0.3333333333333333333333333333333333"},
		{"/", "10", "4", "2.5"},
		{"/", "1.00", "2", "0.50"},
		{"/", "100", "0.1", "1E+3"},
		{"/", "7", "0", ""},
		{"/", "0", "7", "0"},
		{"/", "-1", "8", "-0.125"},
		{"%", "-12", "5", "3"},
		{"%", "10.1", "-4.5", "-3.4"},
		{"%", "1", "0", ""},
	}
	for _, c := range cases {
		a, b := MustDecimal(c.a), MustDecimal(c.b)
		var r Decimal
		var ok bool
		switch c.op {
		case "+":
			r, ok = a.Add(b)
		case "-":
			r, ok = a.Sub(b)
		case "*":
			r, ok = a.Mul(b)
		case "/":
			r, ok = a.Quo(b)
		case "%":
			r, ok = a.Mod(b)
		}
		if c.want == "" {
			if ok {
				t.Errorf("%s %s %s = %s, want no result", c.a, c.op, c.b, r)
			}
			continue
		}
		want := MustDecimal(c.want)
		if !ok || r.Cmp(want) != 0 {
			t.Errorf("%s %s %s = %s (%v), want %s", c.a, c.op, c.b, r, ok, c.want)
		}
	}
}

func TestDecimalRounding(t *testing.T) {
	modes := []struct {
		name string
		mode roundingMode
	}{{"half even", roundHalfEven}, {"half up", roundHalfUp}, {"half down", roundHalfDown}, {"up", roundUp}, {"down", roundDown}, {"floor", roundFloor}, {"ceiling", roundCeiling}}
	// Each row: value, then the result at scale 0 for every mode above.
	rows := [][]string{
		{"5.5", "6", "6", "5", "6", "5", "5", "6"},
		{"2.5", "2", "3", "2", "3", "2", "2", "3"},
		{"1.6", "2", "2", "2", "2", "1", "1", "2"},
		{"1.1", "1", "1", "1", "2", "1", "1", "2"},
		{"-1.1", "-1", "-1", "-1", "-2", "-1", "-2", "-1"},
		{"-2.5", "-2", "-3", "-2", "-3", "-2", "-3", "-2"},
		{"-5.5", "-6", "-6", "-5", "-6", "-5", "-6", "-5"},
		{"7", "7", "7", "7", "7", "7", "7", "7"},
		{"0.0000000000000000000000000000000000000001", "0", "0", "0", "1", "0", "0", "1"},
	}
	for _, row := range rows {
		d := MustDecimal(row[0])
		for i, m := range modes {
			r, ok := d.round(0, m.mode)
			if !ok || r.String() != row[i+1] {
				t.Errorf("round %s %s = %s, want %s", m.name, row[0], r, row[i+1])
			}
		}
	}
}

func TestDecimalParseAndFormat(t *testing.T) {
	cases := []struct{ in, out string }{
		{"0", "0"}, {"-0", "0"}, {"1.50", "1.50"}, {".5", "0.5"}, {"5.", "5"}, {"+3", "3"},
		{"1e3", "1000"}, {"1.5E-3", "0.0015"}, {"1e100", "1E+100"}, {"1e-100", "1E-100"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"-0.000001", "-0.000001"},
	}
	for _, c := range cases {
		d, ok := ParseDecimal(c.in)
		if !ok || d.String() != c.out {
			t.Errorf("ParseDecimal(%q) = %s, %v; want %s", c.in, d, ok, c.out)
		}
	}
	for _, bad := range []string{"", "-", ".", "1..2", "1e", "e5", "1x", "1e99999", "0x10", " 1"} {
		if d, ok := ParseDecimal(bad); ok {
			t.Errorf("ParseDecimal(%q) = %s, want failure", bad, d)
		}
	}
	if i, ok := MustDecimal("1E+3").Int64(); !ok || i != 1000 {
		t.Errorf("Int64(1E+3) = %d, %v", i, ok)
	}
	if _, ok := MustDecimal("1.5").Int64(); ok {
		t.Errorf("Int64(1.5) is an integer")
	}
	if f := MustDecimal("0.1").Float64(); f != 0.1 {
		t.Errorf("Float64(0.1) = %v", f)
	}
}

func TestCivilCalendar(t *testing.T) {
	// Every day over four centuries, both ways, against the obvious walk.
	days := daysFromCivil(1900, 1, 1)
	y, m, d := int64(1900), 1, 1
	for range 146097 {
		if gy, gm, gd := civilFromDays(days); gy != y || gm != m || gd != d {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %d-%d-%d", days, gy, gm, gd, y, m, d)
		}
		if got := daysFromCivil(y, m, d); got != days {
			t.Fatalf("daysFromCivil(%d-%d-%d) = %d, want %d", y, m, d, got, days)
		}
		days++
		if d++; d > daysIn(y, m) {
			d, m = 1, m+1
			if m > 12 {
				m, y = 1, y+1
			}
		}
	}
	if daysFromCivil(1970, 1, 1) != 0 {
		t.Errorf("epoch is not day 0")
	}
}
