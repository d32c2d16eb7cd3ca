package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBadAddressNamesItsSource: a bad address that comes from EDDY_ADDRESS
// (the flag not given) is reported as EDDY_ADDRESS's, so that a user does
// not look for it on the command line; one given with --address is the
// flag's, whatever EDDY_ADDRESS holds. An unreachable address from
// EDDY_ADDRESS says so too; a request to a mute Eddy cut short by an
// interrupt is no such address, wherever the address came from.
func TestBadAddressNamesItsSource(t *testing.T) {
	// mute answers nothing: each case whose request reaches it is
	// interrupted there, as by Ctrl-C.
	reached := make(chan struct{})
	mute := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body: only then does the server see the client go.
		_, _ = io.Copy(io.Discard, r.Body)
		reached <- struct{}{}
		<-r.Context().Done()
	}))
	defer mute.Close()
	const interrupt = "interrupt signal received"
	cases := []struct {
		name string
		env  string
		args []string
		code int
		want []string // parts of the error line
		not  string   // what the line must not say
	}{
		{"not a URL", "not a url", []string{"run", "order"}, 2,
			[]string{`invalid EDDY_ADDRESS "not a url" in the environment`, "http://127.0.0.1:8080"}, "invalid --address"},
		{"no scheme", "localhost:99999", []string{"deploy", "order.bpmn"}, 2,
			[]string{`invalid EDDY_ADDRESS "localhost:99999"`, "use an http:// or https:// URL"}, "invalid --address"},
		{"port out of range", "http://localhost:99999", []string{"publish", "paid"}, 2,
			[]string{`invalid EDDY_ADDRESS "http://localhost:99999"`, "port 99999 is not 1 to 65535"}, "invalid --address"},
		{"port not a number", "http://localhost:http", []string{"run", "order"}, 2,
			[]string{`invalid EDDY_ADDRESS "http://localhost:http"`, `invalid port ":http"`}, "invalid --address"},
		{"no host", "http://:8080", []string{"run", "order"}, 2,
			[]string{`invalid EDDY_ADDRESS "http://:8080"`, "names no host"}, "invalid --address"},
		{"unreachable", "http://127.0.0.1:1", []string{"run", "order"}, 1,
			[]string{"cannot reach Eddy at http://127.0.0.1:1", "the address is EDDY_ADDRESS's"}, ""},
		{"bad flag over a good variable", "http://127.0.0.1:8080", []string{"run", "order", "--address", "localhost:99999"}, 2,
			[]string{`invalid --address "localhost:99999"`}, "EDDY_ADDRESS"},
		{"good flag over a bad variable", "not a url", []string{"run", "order", "--address", "http://127.0.0.1:1"}, 1,
			[]string{"cannot reach Eddy at http://127.0.0.1:1"}, "EDDY_ADDRESS"},
		{"bad flag, no variable", "", []string{"run", "order", "--address", "not a url"}, 2,
			[]string{`invalid --address "not a url"`}, "EDDY_ADDRESS"},
		{"interrupted, address from the variable", mute.URL, []string{"run", "order", "--wait"}, 1,
			[]string{"no answer from Eddy at " + mute.URL + ": " + interrupt}, "EDDY_ADDRESS"},
		{"interrupted, address from the flag", "", []string{"run", "order", "--wait", "--address", mute.URL}, 1,
			[]string{"no answer from Eddy at " + mute.URL + ": " + interrupt}, "cannot reach"},
		{"query in the flag", "", []string{"run", "order", "--address", "http://127.0.0.1:8080/?x=1"}, 2,
			[]string{`invalid --address "http://127.0.0.1:8080/?x=1"`, "query"}, "EDDY_ADDRESS"},
		{"empty query in the variable", "http://127.0.0.1:1/eddy/?", []string{"run", "order"}, 2,
			[]string{`invalid EDDY_ADDRESS "http://127.0.0.1:1/eddy/?"`, "query"}, "invalid --address"},
		{"empty fragment in the flag", "", []string{"run", "order", "--address", "http://127.0.0.1:1/eddy/#"}, 2,
			[]string{`invalid --address "http://127.0.0.1:1/eddy/#"`, "fragment"}, "EDDY_ADDRESS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(addressEnv, tc.env)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ctx, stop := context.WithCancelCause(ctx)
			done := make(chan struct{})
			defer close(done)
			go func() {
				select {
				case <-reached:
					stop(errors.New(interrupt))
				case <-done:
				}
			}()
			var stdout, stderr strings.Builder
			code := run(ctx, tc.args, &stdout, &stderr)
			line := strings.TrimSpace(stderr.String())
			if code != tc.code || strings.Contains(line, "\n") {
				t.Fatalf("exit code %d, want %d, and one line; stderr:\n%s", code, tc.code, line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("%q does not say %q", line, w)
				}
			}
			if tc.not != "" && strings.Contains(line, tc.not) {
				t.Errorf("%q says %q", line, tc.not)
			}
		})
	}
}
