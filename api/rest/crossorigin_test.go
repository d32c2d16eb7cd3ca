package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCrossOriginWritesAreRefused: a request that changes state, sent by a
// browser page of another origin (as the browser says in Sec-Fetch-Site or
// Origin), is refused with a 403 problem before it reaches the engine,
// even as a "simple" request (text/plain), which no preflight stops; the
// same request from a page of Eddy's own origin, from a client that is no
// page (curl: neither header), and a read from anywhere still pass.
func TestCrossOriginWritesAreRefused(t *testing.T) {
	base := serve(t, "pebble")
	c := NewClient(base, nil)
	deploy(t, c, "start-end.bpmn")
	start := `{"bpmnProcessId": "noop"}`
	// A process that only a request let through would deploy.
	other := strings.Replace(string(fixture(t, "start-end.bpmn").Content), `id="noop"`, `id="planted"`, 1)
	quoted, _ := json.Marshal(other)
	plant := `{"resources": [{"name": "planted.bpmn", "content": ` + string(quoted) + `}]}`
	cases := []struct {
		name         string
		method, path string
		body         string
		header       []string // name, value, ...
		status       int
	}{
		{"cross-site page", "POST", "/v1/process-instances", start, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"page of another port on this host", "POST", "/v1/process-instances", start, []string{"Sec-Fetch-Site", "same-site", "Origin", "http://localhost:5173"}, 403},
		{"Sec-Fetch-Site without Origin", "POST", "/v1/messages", `{"name": "m"}`, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"foreign Origin, no Sec-Fetch-Site (an older browser)", "POST", "/v1/process-instances", start, []string{"Origin", "https://evil.example"}, 403},
		{"deployment from another origin", "POST", "/v1/deployments", plant, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 403},
		{"PUT from another origin", "PUT", "/v1/element-instances/2251799813685999/variables", `{"variables": {}}`, []string{"Origin", "https://evil.example"}, 403},
		{"PATCH from another origin", "PATCH", "/v1/jobs/2251799813685999", `{"retries": 1}`, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same-origin page", "POST", "/v1/process-instances", start, []string{"Sec-Fetch-Site", "same-origin", "Origin", base}, 200},
		{"same origin by Origin alone", "POST", "/v1/process-instances", start, []string{"Origin", base}, 200},
		{"typed in by the user", "POST", "/v1/process-instances", start, []string{"Sec-Fetch-Site", "none"}, 200},
		{"no header (curl)", "POST", "/v1/process-instances", start, nil, 200},
		{"read from another origin", "GET", "/v1/incidents", "", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(testContext(t), tc.method, base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				// What a page sends without a preflight.
				req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			}
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, data, tc.status)
			}
			if tc.status != http.StatusForbidden {
				return
			}
			var p Problem
			if err := json.Unmarshal(data, &p); err != nil || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("not a problem (%s, %v): %s", resp.Header.Get("Content-Type"), err, data)
			}
			if p.Type != TypeCrossOrigin || p.Status != 403 || p.Instance != tc.path ||
				!strings.Contains(p.Detail, "may not change Eddy's state through this API") {
				t.Fatalf("problem %+v", p)
			}
			if origin := req.Header.Get("Origin"); origin != "" && !strings.Contains(p.Detail, origin) {
				t.Errorf("detail %q does not name the page's origin %s", p.Detail, origin)
			}
		})
	}
	// The refused deployment did not happen.
	var p Problem
	if status := call(t, "POST", base+"/v1/process-instances", `{"bpmnProcessId": "planted"}`, &p); status != 404 {
		t.Errorf("the process of the refused deployment: %d %+v, want 404", status, p)
	}
	// Sent by a client that is no page, the same deployment is taken.
	if status := call(t, "POST", base+"/v1/deployments", plant, nil); status != 200 {
		t.Errorf("the deployment from no page: %d", status)
	}
}
