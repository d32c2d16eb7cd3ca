package feel

import (
	"strconv"
	"testing"
	"time"
)

func TestValueAccessors(t *testing.T) {
	v := MustCompile(`[1, "s", @"2024-01-31", @"10:00:00+01:00", @"2024-01-31T10:00:00Z", @"PT1.5S", @"P1Y2M", [1..2], function(a, b) a, {k: 1}, true, null, 12345678901234567890123]`).mustEval(t)
	items, ok := v.AsList()
	if !ok || len(items) != 13 {
		t.Fatalf("AsList: %v %v", items, ok)
	}
	if d, ok := items[0].AsNumber(); !ok || d.String() != "1" {
		t.Errorf("AsNumber: %v", d)
	}
	if s, ok := items[1].AsString(); !ok || s != "s" {
		t.Errorf("AsString: %q", s)
	}
	if _, ok := items[0].AsString(); ok {
		t.Errorf("a number is a string")
	}
	if d, ok := items[2].AsDate(); !ok || d.String() != "2024-01-31" {
		t.Errorf("AsDate: %v", d)
	}
	if tm, ok := items[3].AsTime(); !ok || tm.String() != "10:00:00+01:00" {
		t.Errorf("AsTime: %v", tm)
	}
	dt, ok := items[4].AsDateTime()
	if tt, zoned := dt.Time(); !ok || !zoned || !tt.Equal(time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("AsDateTime: %v %v", dt, tt)
	}
	if d, ok := items[5].AsDuration(); ok {
		if s, ns := d.Seconds(); s != 1 || ns != 500_000_000 {
			t.Errorf("Seconds: %d %d", s, ns)
		}
	} else {
		t.Errorf("AsDuration")
	}
	if m, ok := items[6].AsYearsMonths(); !ok || m != 14 {
		t.Errorf("AsYearsMonths: %v", m)
	}
	if r, ok := items[7].AsRange(); !ok || !r.StartIncluded || r.Start.String() != "1" {
		t.Errorf("AsRange: %+v", r)
	}
	if f, ok := items[8].AsFunction(); !ok || len(f.Params()) != 2 || f.String() != "function(a, b)" {
		t.Errorf("AsFunction: %v", f)
	}
	if c, ok := items[9].AsContext(); !ok || c.Len() != 1 || c.Key(0) != "k" || c.At(0).String() != "1" {
		t.Errorf("AsContext: %v", c)
	}
	if b, ok := items[10].AsBool(); !ok || !b {
		t.Errorf("AsBool")
	}
	if !items[11].IsNull() || items[11].Kind() != KindNull || items[11].Kind().String() != "null" {
		t.Errorf("null")
	}
	if d, _ := items[12].AsNumber(); d.Unscaled().String() != "12345678901234567890123" || d.Scale() != 0 {
		t.Errorf("Unscaled: %v", d.Unscaled())
	}
	if KindDateTime.String() != "date and time" || Kind(99).String() != "unknown" {
		t.Errorf("Kind names")
	}
	local, _ := MustCompile(`@"2024-01-31T10:00:00"`).mustEval(t).AsDateTime()
	if _, zoned := local.Time(); zoned {
		t.Errorf("a local date and time has an instant")
	}
}

func TestLargeContext(t *testing.T) {
	var b ContextBuilder
	for i := range 40 {
		b.Set("k"+strconv.Itoa(i), Int(int64(i)))
	}
	b.Set("k7", String("again"))
	c := b.Context()
	if c.Len() != 40 {
		t.Fatalf("Len = %d", c.Len())
	}
	if v, ok := c.Get("k7"); !ok || v.String() != `"again"` {
		t.Errorf("k7 = %v", v)
	}
	if v, ok := c.Get("k39"); !ok || v.String() != "39" {
		t.Errorf("k39 = %v", v)
	}
	if _, ok := c.Get("nope"); ok {
		t.Errorf("found a missing key")
	}
	v, err := MustCompile(`context put(m, "new", 1).new + m.k39 + count(get entries(m))`).Evaluate(MapScope{"m": ContextValue(c)})
	if err != nil || v.String() != "80" {
		t.Errorf("got %v, %v", v, err)
	}
}

func TestUnaryTestsAccessors(t *testing.T) {
	u, err := CompileUnaryTests(`< limit, [a..b]`)
	if err != nil {
		t.Fatal(err)
	}
	if u.Source() != `< limit, [a..b]` || u.String() != u.Source() {
		t.Errorf("Source = %q", u.Source())
	}
	if got := u.Vars(); len(got) != 3 || got[0] != "limit" || got[2] != "b" {
		t.Errorf("Vars = %q", got)
	}
}

func TestIsDefinedInFilter(t *testing.T) {
	v, err := MustCompile(`[{a: 1}, {b: 2}][is defined(a)]`).Eval(Env{})
	if err != nil || v.String() != "[{a: 1}]" {
		t.Errorf("got %v, %v", v, err)
	}
	v, _ = MustCompile(`[{a: 1}][is defined(x)]`).Evaluate(MapScope{"x": Null})
	if v.String() != "[{a: 1}]" {
		t.Errorf("a variable outside the filter: %v", v)
	}
}
