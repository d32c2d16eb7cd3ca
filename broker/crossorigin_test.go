package broker

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestTriggerAPIRefusesCrossOriginWrites: a PUT, DELETE or POST of the
// trigger API that the browser says a page of another origin sent
// (Sec-Fetch-Site, or a foreign Origin) is refused with a 403 problem and
// changes nothing, even from an origin WithAllowedOrigins lets send events,
// and even as a "simple" request (text/plain), which no preflight stops;
// a page of the broker's own origin, a client that is no page (neither
// header) and a read pass; the ingress still takes the allowed origin's
// events.
func TestTriggerAPIRefusesCrossOriginWrites(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithAllowedOrigins("localhost:5173"))
	sub := newSubscriber(t, nil)
	env.putTrigger("default", "kept", triggerYAML("kept", "order.placed", sub.URL, ""))
	yaml := func(name string) string { return triggerYAML(name, "order.placed", sub.URL, "") }
	crossSite := []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}
	cases := []struct {
		name              string
		method, path      string
		contentType, body string
		header            []string // name, value, ...
		status            int
	}{
		{"PUT from a cross-site page", "PUT", "/v1/triggers/default/planted", "application/yaml", yaml("planted"), crossSite, 403},
		{"PUT with a foreign Origin, no Sec-Fetch-Site (an older browser)", "PUT", "/v1/triggers/default/planted", "application/yaml", yaml("planted"), []string{"Origin", "https://evil.example"}, 403},
		{"PUT from a page of an origin allowed to send events", "PUT", "/v1/triggers/default/planted", "application/yaml", yaml("planted"), []string{"Sec-Fetch-Site", "same-site", "Origin", "http://localhost:5173"}, 403},
		{"DELETE from a cross-site page", "DELETE", "/v1/triggers/default/kept", "", "", crossSite, 403},
		{"replay as a simple request", "POST", "/v1/triggers/default/kept/replay", "text/plain", `{"from":"head"}`, crossSite, 403},
		{"retry as a simple request, Sec-Fetch-Site alone", "POST", "/v1/triggers/default/kept/retry", "", "", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"read from a cross-site page", "GET", "/v1/triggers/default/kept", "", "", crossSite, 200},
		{"PUT from a same-origin page", "PUT", "/v1/triggers/default/same", "application/yaml", yaml("same"), []string{"Sec-Fetch-Site", "same-origin", "Origin", env.srv.URL}, 201},
		{"PUT with the broker's own Origin alone", "PUT", "/v1/triggers/default/own", "application/yaml", yaml("own"), []string{"Origin", env.srv.URL}, 201},
		{"PUT with no header (curl)", "PUT", "/v1/triggers/default/plain", "application/yaml", yaml("plain"), nil, 201},
		{"retry with no header (curl)", "POST", "/v1/triggers/default/kept/retry", "", "", nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := env.request(tc.method, tc.path, tc.contentType, []byte(tc.body), tc.header...)
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, data, tc.status)
			}
			if tc.status != http.StatusForbidden {
				return
			}
			var p struct {
				Type, Title, Detail string
				Status              int
			}
			if err := json.Unmarshal(data, &p); err != nil || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("not a problem (%s, %v): %s", resp.Header.Get("Content-Type"), err, data)
			}
			if p.Type != "urn:eddy:problem:cross-origin" || p.Status != 403 || p.Title != "Forbidden" ||
				!strings.Contains(p.Detail, "may not change Eddy's state through this API") {
				t.Fatalf("problem %+v", p)
			}
		})
	}
	if code, body := env.do("GET", "/v1/triggers/default/planted", "", nil); code != http.StatusNotFound {
		t.Errorf("the trigger of the refused PUTs: %d %s, want 404", code, body)
	}
	if code, body := env.do("GET", "/v1/triggers/default/kept", "", nil); code != http.StatusOK {
		t.Errorf("the trigger of the refused DELETE: %d %s, want it still there", code, body)
	}
	// The ingress keeps its own policy: the allowed origin's page sends.
	resp := env.request("POST", "/v1/events", "application/json", []byte(`{"n":1}`),
		"Ce-Specversion", "1.0", "Ce-Id", "page-1", "Ce-Source", "/page", "Ce-Type", "page.clicked",
		"Sec-Fetch-Site", "same-site", "Origin", "http://localhost:5173")
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("an event from the allowed origin's page: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
