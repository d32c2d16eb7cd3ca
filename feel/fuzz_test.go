package feel

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedExpressions returns the expressions of the data-driven tests.
func seedExpressions(f *testing.F) []string {
	files, _ := filepath.Glob("testdata/eval/*.txt")
	files = append(files, "testdata/unary.txt")
	var out []string
	for _, file := range files {
		fh, err := os.Open(file)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") || !strings.Contains(line, " => ") {
				continue
			}
			src, _, _ := strings.Cut(line, " => ")
			if _, tests, ok := strings.Cut(src, " | "); ok {
				src = tests
			}
			out = append(out, src)
		}
		fh.Close()
	}
	return out
}

var fuzzLimits = Limits{MaxSteps: 20_000, MaxDepth: 64, MaxLength: 20_000}

// FuzzCompile: compiling anything returns an expression or an *Error with a
// position inside the source; it never panics or hangs.
func FuzzCompile(f *testing.F) {
	for _, s := range seedExpressions(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, compile := range []func(string) error{
			func(s string) error { _, err := Compile(s); return err },
			func(s string) error { _, err := CompileUnaryTests(s); return err },
		} {
			err := compile(src)
			if err == nil {
				continue
			}
			fe, ok := err.(*Error)
			if !ok {
				t.Fatalf("%q: error %T %v is not an *Error", src, err, err)
			}
			if fe.Offset < 0 || fe.Offset > len(src) || fe.Line < 1 || fe.Column < 1 || fe.Msg == "" {
				t.Fatalf("%q: bad error %+v", src, fe)
			}
		}
	})
}

// FuzzEvaluate: evaluating a compiled expression returns a value or an
// *Error, within the limits, the same way twice; its JSON form, when it
// has one, reads back.
func FuzzEvaluate(f *testing.F) {
	for _, s := range seedExpressions(f) {
		f.Add(s)
	}
	vars, err := FromJSON([]byte(`{"x": 5, "s": "text", "xs": [1, 2, 3], "o": {"a": {"b": [{"c": 1.5}]}}, "n": null, "d": "2024-01-31"}`))
	if err != nil {
		f.Fatal(err)
	}
	scope, _ := vars.AsContext()
	env := Env{Vars: scope, Now: time.Date(2024, 5, 17, 10, 0, 0, 0, time.UTC), Limits: fuzzLimits}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Compile(src)
		if err != nil {
			return
		}
		v1, err1 := e.Eval(env)
		v2, err2 := e.Eval(env)
		if (err1 == nil) != (err2 == nil) || v1.String() != v2.String() {
			t.Fatalf("%q: not deterministic: %v (%v) then %v (%v)", src, v1, err1, v2, err2)
		}
		if err1 != nil {
			if _, ok := err1.(*Error); !ok {
				t.Fatalf("%q: error %T is not an *Error", src, err1)
			}
			return
		}
		if _, err := e.EvalBool(env); err == nil && v1.Kind() != KindBool {
			t.Fatalf("%q: EvalBool accepted a %s", src, v1.Kind())
		}
		data, err := v1.MarshalJSON()
		if err != nil {
			return
		}
		if _, err := FromJSON(data); err != nil {
			t.Fatalf("%q: JSON %s does not read back: %v", src, data, err)
		}
	})
}

// FuzzFromJSON: any input decodes or fails cleanly; what decodes encodes
// and decodes to an equal value.
func FuzzFromJSON(f *testing.F) {
	for _, s := range []string{`null`, `{"a": [1, 2.50, "x"]}`, `1e400`, `-0.0`, `"\ud83d\ude00"`, `[[[]]]`, `{"a":1,"a":2}`, `123456789012345678901234567890`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := FromJSON(data)
		if err != nil {
			return
		}
		out, err := v.MarshalJSON()
		if err != nil {
			t.Fatalf("%q: marshal: %v", data, err)
		}
		w, err := FromJSON(out)
		if err != nil || !v.Equal(w) {
			t.Fatalf("%q → %s → %v (%v): not equal", data, out, w, err)
		}
	})
}

// FuzzDecimal: parsing and arithmetic never panic, and the arithmetic
// identities hold where the results are exact.
func FuzzDecimal(f *testing.F) {
	for _, s := range [][2]string{{"0.1", "0.2"}, {"1", "3"}, {"-12.5", "4.5"}, {"9223372036854775807", "1"}, {"1e6000", "1e-6000"}, {"123456789012345678901234567890", "0.000001"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x, ok1 := ParseDecimal(a)
		y, ok2 := ParseDecimal(b)
		if !ok1 || !ok2 {
			return
		}
		if s, ok := x.Add(y); ok {
			if d, ok := s.Sub(y); ok && numDigits(x.bigU()) < 20 && numDigits(y.bigU()) < 20 && x.scale < 10 && y.scale < 10 && x.scale > -10 && y.scale > -10 && d.Cmp(x) != 0 {
				t.Fatalf("(%s + %s) - %s = %s", x, y, y, d)
			}
		}
		if c := x.Cmp(y); c != -y.Cmp(x) {
			t.Fatalf("Cmp not antisymmetric for %s, %s", x, y)
		}
		x.Mul(y)
		x.Quo(y)
		x.Mod(y)
		x.Sqrt()
		_ = x.String()
		if back, ok := ParseDecimal(x.String()); !ok || back.Cmp(x) != 0 {
			t.Fatalf("%s does not read back", x)
		}
	})
}
