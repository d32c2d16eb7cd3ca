package feel

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEvalBool(t *testing.T) {
	vars := MapScope{"amount": Int(2_000_000), "status": String("ok"), "n": Null}
	cases := []struct {
		src     string
		vars    Scope
		want    bool
		wantErr string
	}{
		{src: "amount > 1000000", vars: vars, want: true},
		{src: "amount > 1000000 and status = \"ok\"", vars: vars, want: true},
		{src: "status = \"nok\"", vars: vars, want: false},
		// An unknown variable is null, never true: the condition fails.
		{src: "x > 1000000", vars: vars, wantErr: `1:1: condition evaluated to null, not a boolean: no variable found for name "x"`},
		{src: "x > 1000000", vars: nil, wantErr: "not a boolean"},
		{src: "n > 1", vars: vars, wantErr: "1:1: condition evaluated to null, not a boolean: cannot compare"},
		{src: "amount > \"a\"", vars: vars, wantErr: "1:1: condition evaluated to null, not a boolean: cannot compare a number with a string"},
		{src: "amount", vars: vars, wantErr: "1:1: condition evaluated to number 2000000, not a boolean"},
		{src: "  status", vars: vars, wantErr: `condition evaluated to string "ok", not a boolean`},
		{src: "foo(1)", vars: vars, wantErr: `1:1: no function found with name "foo"`},
		{src: "x > 1 or true", vars: vars, want: true},
	}
	for _, c := range cases {
		e := MustCompile(c.src)
		got, err := e.EvalBool(Env{Vars: c.vars})
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.src, err, c.wantErr)
			}
			var fe *Error
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("%s: error %T is not a *feel.Error", c.src, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.src, got, err, c.want)
		}
	}
}

func TestCompileErrorPositions(t *testing.T) {
	cases := []struct{ src, want string }{
		{"a > 1 and", `1:10: expected expression after "and"`},
		{"1 +", `1:4: expected expression after "+"`},
		{"", "1:1: expected expression, found nothing"},
		{"(1 + 2", `1:7: expected ")" to close "(" opened at 1:1, found end of expression`},
		{"[1, 2", `1:6: expected "]" to close "[" opened at 1:1`},
		{"{a: 1", `1:6: expected "}" to close "{" opened at 1:1`},
		{"{a 1}", `1:4: expected ":" after the context key "a"`},
		{"if x then 1", `1:12: expected "else" after the "then" branch of "if"`},
		{"if x 1 else 2", `1:6: expected "then" after the condition of "if"`},
		{"for x in [1] x", `1:14: expected "return" after the iterations of "for"`},
		{"some x in y", `1:12: expected "satisfies"`},
		{"x between 1", `1:12: expected "and" in between ... and ...`},
		{"1 2", `1:3: unexpected "2" after the end of the expression`},
		{"\"abc", `1:1: string is not closed with "`},
		{"a\n + # b", "2:4: unexpected character '#'"},
		{"x.1", `1:3: expected a name after ".", found "1"`},
		{"@5", `1:2: expected string after "@"`},
		{"x instance of", `1:14: expected a type after "instance of"`},
		{"? > 1", `1:1: "?" (the input value) is only defined in unary tests`},
		{"/* open", "1:1: comment is not closed with */"},
		{"f(a: 1, 2)", "1:9: positional argument after named ones"},
		{"`abc", "1:1: name is not closed with `"},
		{"x in", `1:5: expected expression after "in"`},
		{"function(a) external", `1:13: external functions are not supported`},
		{"\"\\u12\"", `1:2: bad unicode escape`},
		{strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), "expression is nested too deeply"},
	}
	for _, c := range cases {
		_, err := Compile(c.src)
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%q: error %v (%T), want *Error", c.src, err, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %q, want %q", c.src, err, c.want)
		}
		if fe.Line < 1 || fe.Column < 1 || fe.Offset < 0 || fe.Offset > len(c.src) {
			t.Errorf("%q: bad position %+v", c.src, fe)
		}
	}
}

func TestVars(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		{"amount > 100 and status = \"ok\"", []string{"amount", "status"}},
		{"order.items[1].price * 2", []string{"order"}},
		{"for x in xs return x + y", []string{"xs", "y"}},
		{"{a: 1, b: a + c}.b", []string{"c"}},
		{"items[price > limit]", []string{"items", "price", "limit"}},
		{"string length(name) + count(xs)", []string{"name", "xs"}},
		{"f(1)", []string{"f"}},
		{"order total + 1", []string{"order total"}},
		{"1 + 2", nil},
	}
	for _, c := range cases {
		got := MustCompile(c.src).Vars()
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: Vars() = %q, want %q", c.src, got, c.want)
		}
	}
}

func TestSourceAndString(t *testing.T) {
	e := MustCompile(" a + 1 ")
	if e.Source() != " a + 1 " || e.String() != " a + 1 " {
		t.Errorf("Source() = %q, String() = %q", e.Source(), e.String())
	}
}

func TestWarnings(t *testing.T) {
	var ws []Warning
	v, err := MustCompile("x + 1 > y").Eval(Env{Warnings: &ws})
	if err != nil || !v.IsNull() {
		t.Fatalf("got %v, %v; want null", v, err)
	}
	if len(ws) != 2 || ws[0].Msg != `no variable found for name "x"` || ws[1].Offset != 8 {
		t.Errorf("warnings = %+v", ws)
	}
}

func TestLimits(t *testing.T) {
	cases := []struct {
		src    string
		limits Limits
		want   string
	}{
		{"for i in 1..100000000 return i", Limits{}, "Limits.MaxLength"},
		{"for a in 1..1000, b in 1..1000, c in 1..1000 return 1", Limits{}, "Limits.MaxSteps"},
		{"for a in 1..100 return a", Limits{MaxSteps: 10}, "exceeds 10 steps"},
		{"{f: function(s, n) if n = 0 then s else f(s + s, n - 1)}.f(\"ab\", 64)", Limits{}, "Limits.MaxLength"},
		{"{f: function(n) f(n)}.f(1)", Limits{MaxDepth: 5}, "deeper than 5"},
		{"count(for i in 1..10 return i)", Limits{MaxLength: 5}, "longer than 5"},
	}
	for _, c := range cases {
		_, err := MustCompile(c.src).Eval(Env{Limits: c.limits})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.src, err, c.want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	docs := []string{
		`null`, `true`, `0`, `-12`, `1.50`, `0.1`, `12345678901234567890123456789012345678901234567890`,
		`-0.000000000000000000000000000000000000001`, `9223372036854775807`, `9223372036854775808`,
		`"a\"b\\c\n\u0001é🐎"`, `[]`, `{}`, `[1,"a",null,[true]]`, `{"b":1,"a":{"c":[1.0,2]}}`,
	}
	for _, doc := range docs {
		v, err := FromJSON([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: marshal: %v", doc, err)
			continue
		}
		if string(out) != doc {
			t.Errorf("round trip of %s gave %s", doc, out)
		}
	}
	// Equal values whatever the notation.
	v, _ := FromJSON([]byte(`1e3`))
	if d, _ := v.AsNumber(); d.Cmp(DecimalFromInt(1000)) != 0 {
		t.Errorf("1e3 = %s", v)
	}
	// Temporals encode as their text.
	out, _ := json.Marshal(MustCompile(`{d: @"2024-01-31", p: @"P1D", t: @"10:00:00+01:00"}`).mustEval(t))
	if string(out) != `{"d":"2024-01-31","p":"P1D","t":"10:00:00+01:00"}` {
		t.Errorf("temporals: %s", out)
	}
	if _, err := json.Marshal(MustCompile(`function(x) x`).mustEval(t)); err == nil {
		t.Errorf("a function encoded to JSON")
	}
}

func TestFromJSONErrors(t *testing.T) {
	for _, doc := range []string{``, `{`, `[1,]`, `{"a" 1}`, `01`, `1.`, `"abc`, `tru`, `1 2`, `"\x"`, `{"a":1,}`, `1e99999`, strings.Repeat("[", 2000)} {
		if _, err := FromJSON([]byte(doc)); err == nil {
			t.Errorf("%q: no error", doc)
		}
	}
}

func TestJSONScope(t *testing.T) {
	s := JSONScope{"order": json.RawMessage(`{"items":[{"price":2.5}]}`), "bad": json.RawMessage(`{`)}
	v, err := MustCompile("order.items[1].price * 2").Evaluate(s)
	if err != nil || v.String() != "5.0" {
		t.Errorf("got %v, %v", v, err)
	}
	if v, ok := s.Lookup("bad"); !ok || !v.IsNull() {
		t.Errorf("bad JSON reads as %v, %v", v, ok)
	}
	chained := Scopes{MapScope{"a": Int(1)}, nil, MapScope{"a": Int(2), "b": Int(3)}}
	v, _ = MustCompile("a + b").Evaluate(chained)
	if v.String() != "4" {
		t.Errorf("Scopes: a + b = %v", v)
	}
}

func TestGoConversion(t *testing.T) {
	type item struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	in := map[string]any{
		"n": 3, "f": 0.1, "u": uint64(1 << 63), "s": "x", "b": true, "nil": nil,
		"list":  []int{1, 2},
		"items": []item{{"a", 1.5}},
		"when":  time.Date(2024, 1, 31, 10, 0, 0, 0, time.UTC),
		"wait":  90 * time.Minute,
		"big":   new(big.Int).Lsh(big.NewInt(1), 100),
		"num":   json.Number("1.50"),
	}
	v, err := FromGo(in)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v.AsContext()
	check := func(src, want string) {
		t.Helper()
		got, err := MustCompile(src).Evaluate(c)
		if err != nil || got.String() != want {
			t.Errorf("%s = %v (%v), want %s", src, got, err, want)
		}
	}
	check("n + f", "3.1")
	check("u", "9223372036854775808")
	check("list[2]", "2")
	check("items[1].price", "1.5")
	check("when", `@"2024-01-31T10:00:00Z"`)
	check("wait", `@"PT1H30M"`)
	check("big", "1267650600228229401496703205376")
	check("num", "1.50")
	check("nil", "null")
	back := v.ToGo().(map[string]any)
	if back["num"] != json.Number("1.50") || back["s"] != "x" || back["b"] != true || back["nil"] != nil {
		t.Errorf("ToGo: %v", back)
	}
	if l := back["list"].([]any); len(l) != 2 || l[0] != json.Number("1") {
		t.Errorf("ToGo list: %v", l)
	}
	if _, err := FromGo(make(chan int)); err == nil {
		t.Errorf("a channel converted")
	}
}

func TestNativeFunction(t *testing.T) {
	double := NewFunction([]string{"x"}, func(args []Value) (Value, error) {
		d, ok := args[0].AsNumber()
		if !ok {
			return Null, errors.New("not a number")
		}
		r, _ := d.Mul(DecimalFromInt(2))
		return Number(r), nil
	})
	s := MapScope{"double": FunctionValue(double)}
	v, err := MustCompile("double(21)").Evaluate(s)
	if err != nil || v.String() != "42" {
		t.Errorf("double(21) = %v, %v", v, err)
	}
	if _, err := MustCompile(`double("a")`).Evaluate(s); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("error = %v", err)
	}
}

func TestConcurrentEval(t *testing.T) {
	e := MustCompile(`for i in 1..20 return {n: i, sq: i * i}[n > 0].sq`)
	want := e.mustEval(t).String()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got, err := e.Eval(Env{}); err != nil || got.String() != want {
					t.Errorf("got %v, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func (e *Expression) mustEval(t *testing.T) Value {
	t.Helper()
	v, err := e.Eval(Env{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
