package httpjson

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	cases := []struct {
		body string
		ok   bool
		want string // in the error body
	}{
		{`{"sessionId":"a"}`, true, ""},
		{"{\"sessionId\":\"a\"}\n", true, ""},
		{``, false, "the body is empty"},
		{`{"sessionId":"a"}{}`, false, "data after the JSON object"},
		{`{"sessionId":"a"}}`, false, "data after the JSON object"},
		{`{"sessionId":"a"}]`, false, "data after the JSON object"},
		{`{"other":1}`, false, "unknown field"},
	}
	for _, tc := range cases {
		var v struct {
			SessionID string `json:"sessionId"`
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
		if got := Read(w, r, &v); got != tc.ok {
			t.Fatalf("%q: Read = %v, want %v (answer %d %s)", tc.body, got, tc.ok, w.Code, w.Body)
		}
		if !tc.ok && (w.Code != 400 || !strings.Contains(w.Body.String(), tc.want)) {
			t.Fatalf("%q: answer %d %s, want 400 saying %q", tc.body, w.Code, w.Body, tc.want)
		}
	}
}
