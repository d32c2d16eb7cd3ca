package cesql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"eddy/cloudevents"
)

// FuzzParse: parsing never panics; what parses has a canonical form that
// parses to itself; evaluation never panics, and its error kinds are the
// specification's.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/cases/*.yaml")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var cases []testCase
		if err := yaml.Unmarshal(raw, &cases); err != nil {
			f.Fatal(err)
		}
		for _, tc := range cases {
			f.Add(tc.Expr)
		}
	}
	e := &cloudevents.Event{SpecVersion: "1.0", ID: "id-1", Source: "/source", Type: "com.example.type", Subject: "s"}
	e.SetExtension("n", cloudevents.IntegerValue(42))
	e.SetExtension("b", cloudevents.BooleanValue(true))
	e.SetExtension("s", cloudevents.StringValue("text"))
	f.Fuzz(func(t *testing.T, src string) {
		x, err := Parse(src)
		if err != nil {
			if k := err.(*Error).Kind; k != ParseError && k != MissingFunctionError {
				t.Fatalf("Parse error of kind %v: %v", k, err)
			}
			return
		}
		canon := x.String()
		if y, err := Parse(canon); err == nil {
			if y.String() != canon {
				t.Fatalf("%q: canonical %q reparses as %q", src, canon, y.String())
			}
		} else if !strings.Contains(canon, `\'`) || !strings.Contains(canon, `\"`) {
			// Only a string holding both \' and \" cannot be written back.
			t.Fatalf("%q: canonical %q does not parse: %v", src, canon, err)
		}
		v, err := x.Evaluate(e)
		if err != nil {
			if k := err.(*Error).Kind; k < MathError || k > FunctionEvaluationError || k == MissingFunctionError {
				t.Fatalf("evaluation error of kind %v: %v", k, err)
			}
		}
		if v.Type < Boolean || v.Type > String {
			t.Fatalf("%q evaluated to a value without type: %+v", src, v)
		}
	})
}

// likeReference is LIKE by the book: the pattern as a list of tokens,
// matched by dynamic programming over characters.
func likeReference(s, p []rune) bool {
	type tok struct {
		kind byte // 'l' literal, '_' one, '%' any
		r    rune
	}
	var toks []tok
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p) && (p[i+1] == '%' || p[i+1] == '_'):
			toks = append(toks, tok{'l', p[i+1]})
			i++
		case p[i] == '%' || p[i] == '_':
			toks = append(toks, tok{byte(p[i]), 0})
		default:
			toks = append(toks, tok{'l', p[i]})
		}
	}
	// m[j] reports whether s[:i] matches toks[:j], row by row over i.
	m := make([]bool, len(toks)+1)
	m[0] = true
	for j, t := range toks {
		m[j+1] = m[j] && t.kind == '%'
	}
	for i := range s {
		next := make([]bool, len(toks)+1)
		for j, t := range toks {
			switch t.kind {
			case '%':
				next[j+1] = next[j] || m[j+1]
			case '_':
				next[j+1] = m[j]
			default:
				next[j+1] = m[j] && s[i] == t.r
			}
		}
		m = next
	}
	return m[len(toks)]
}

// FuzzLike compares the compiled matcher with the reference.
func FuzzLike(f *testing.F) {
	for _, c := range [][2]string{{"abc", "a%c"}, {"mississippi", "%iss%ppi"}, {"a%b", `a\%b`}, {"é", "_"}, {"", "%%"}, {"aaa", "%a%a%a%a%"}} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, s, p string) {
		if !utf8.ValidString(s) || !utf8.ValidString(p) {
			return
		}
		got := compilePattern(p).match(s)
		if want := likeReference([]rune(s), []rune(p)); got != want {
			t.Fatalf("%q LIKE %q = %v, want %v", s, p, got, want)
		}
	})
}
