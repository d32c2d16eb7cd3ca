package cesql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"eddy/cloudevents"
)

// testCase is one entry of testdata/cases/*.yaml.
type testCase struct {
	Expr  string               `yaml:"expr"`
	Event map[string]yaml.Node `yaml:"event"`
	Want  yaml.Node            `yaml:"want"`
	Error string               `yaml:"error"` // the kind expected from Evaluate
	Parse string               `yaml:"parse"` // a substring of the expected Parse error
}

var errorKinds = map[string]ErrorKind{
	"parse": ParseError, "math": MathError, "cast": CastError, "missingAttribute": MissingAttributeError,
	"missingFunction": MissingFunctionError, "functionEvaluation": FunctionEvaluationError,
}

// caseEvent builds the case's event: a minimal valid event, with core
// attributes and extensions from the case (YAML ints and booleans become
// Integer and Boolean extensions).
func caseEvent(t *testing.T, attrs map[string]yaml.Node) *cloudevents.Event {
	e := &cloudevents.Event{SpecVersion: "1.0", ID: "id-1", Source: "/source", Type: "type"}
	for name, n := range attrs {
		text := n.Value
		switch name {
		case "id":
			e.ID = text
		case "source":
			e.Source = text
		case "type":
			e.Type = text
		case "subject":
			e.Subject = text
		case "time":
			e.Time = text
		case "datacontenttype":
			e.DataContentType = text
		case "dataschema":
			e.DataSchema = text
		default:
			v := cloudevents.StringValue(text)
			switch n.Tag {
			case "!!int":
				v = cloudevents.Value{Type: cloudevents.TypeInteger, Text: text}
			case "!!bool":
				v = cloudevents.Value{Type: cloudevents.TypeBoolean, Text: text}
			}
			e.SetExtension(name, v)
		}
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("the case's event is invalid: %v", err)
	}
	return e
}

func wantValue(t *testing.T, n yaml.Node) Value {
	switch n.Tag {
	case "!!bool":
		return BoolValue(n.Value == "true")
	case "!!int":
		i, ok := parseInt32(n.Value)
		if !ok {
			t.Fatalf("bad want %q", n.Value)
		}
		return IntValue(i)
	case "!!str":
		return StringValue(n.Value)
	}
	t.Fatalf("want has tag %s", n.Tag)
	return Value{}
}

func TestCases(t *testing.T) {
	files, _ := filepath.Glob("testdata/cases/*.yaml")
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []testCase
		if err := yaml.Unmarshal(raw, &cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			for _, tc := range cases {
				x, err := Parse(tc.Expr)
				if tc.Parse != "" {
					if err == nil || !strings.Contains(err.Error(), tc.Parse) {
						t.Errorf("Parse(%q) = %v, want an error containing %q", tc.Expr, err, tc.Parse)
					}
					continue
				}
				if err != nil {
					t.Errorf("Parse(%q): %v", tc.Expr, err)
					continue
				}
				// The canonical form parses back to itself.
				if y, err := Parse(x.String()); err != nil || y.String() != x.String() {
					t.Errorf("%q: canonical form %q does not parse back: %v", tc.Expr, x.String(), err)
				}
				got, err := x.Evaluate(caseEvent(t, tc.Event))
				want := wantValue(t, tc.Want)
				if got != want {
					t.Errorf("%q = %v (%v), want %v", tc.Expr, got, err, want)
				}
				var kind ErrorKind
				if err != nil {
					kind = err.(*Error).Kind
				}
				if kind != errorKinds[tc.Error] {
					t.Errorf("%q: error %v, want kind %q", tc.Expr, err, tc.Error)
				}
			}
		})
	}
}

func TestMatch(t *testing.T) {
	e := &cloudevents.Event{SpecVersion: "1.0", ID: "1", Source: "/s", Type: "Tickets.Reserved"}
	for _, tc := range []struct {
		expr string
		want bool
		err  bool
	}{
		{"type = 'Tickets.Reserved'", true, false},
		{"type = 'x'", false, false},
		{"type", false, false},         // a String, not a Boolean: no match, no error
		{"1 + 1", false, false},        // an Integer
		{"missing = 'x'", false, true}, // an error: no match
		{"1 / 0 = 0", false, true},
	} {
		ok, err := MustParse(tc.expr).Match(e)
		if ok != tc.want || (err != nil) != tc.err {
			t.Errorf("Match(%q) = %v, %v", tc.expr, ok, err)
		}
	}
}

func TestErrorPosition(t *testing.T) {
	_, err := Parse("type = 'a' AND LENGHT(id) > 2")
	if err == nil || err.Error() != "cesql: missing function at column 16: no function LENGHT" {
		t.Fatalf("got %v", err)
	}
	x := MustParse("type = 'a' OR myext = 'b'")
	_, err = x.Evaluate(&cloudevents.Event{SpecVersion: "1.0", ID: "1", Source: "/s", Type: "t"})
	if err == nil || err.Error() != "cesql: missing attribute at column 15: the event has no attribute myext" {
		t.Fatalf("got %v", err)
	}
}
