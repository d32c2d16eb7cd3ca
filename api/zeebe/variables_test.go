package zeebe

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestDocument(t *testing.T) {
	for _, tc := range []struct {
		doc, want string // want: the document kept, or the error's text
		ok        bool
	}{
		{"", "", true},
		{"  \n", "", true},
		{`{"a":1}`, `{"a":1}`, true},
		{` {"a":[1,2]} `, `{"a":[1,2]}`, true},
		{`[1]`, "'ARRAY'", false},
		{`"x"`, "'STRING'", false},
		{`12`, "'NUMBER'", false},
		{`null`, "'NULL'", false},
		{`true`, "'BOOLEAN'", false},
		{`{"a":`, "valid JSON", false},
		{`{"a":1}{}`, "valid JSON", false},
	} {
		got, err := document("variables", tc.doc)
		if tc.ok {
			if err != nil || string(got) != tc.want {
				t.Errorf("document(%q) = %q, %v; want %q", tc.doc, got, err, tc.want)
			}
			continue
		}
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "'variables'") {
			t.Errorf("document(%q): %v; want INVALID_ARGUMENT naming 'variables' and saying %s", tc.doc, err, tc.want)
		}
	}
}

// FuzzDocument: any input is either refused as INVALID_ARGUMENT or kept
// as a JSON object.
func FuzzDocument(f *testing.F) {
	for _, seed := range []string{"", `{}`, `{"a":1}`, `[1]`, `"x"`, `{"a":`, " {\"\\u00e9\":null} ", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := document("variables", doc)
		if err != nil {
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("document(%q): %v, want INVALID_ARGUMENT", doc, err)
			}
			return
		}
		if got == nil {
			if strings.TrimSpace(doc) != "" {
				t.Fatalf("document(%q) kept nothing", doc)
			}
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(got, &obj); err != nil {
			t.Fatalf("document(%q) kept %q, not an object: %v", doc, got, err)
		}
	})
}
