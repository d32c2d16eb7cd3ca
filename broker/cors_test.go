package broker

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPushFollowsAllowedOrigins: a page of another origin that the broker
// allows gets the SSE stream with CORS headers, and its preflight is
// granted; a page of an origin not allowed gets no CORS headers (its
// browser keeps the stream from it), and a WebSocket from it is refused
// with a reason that says how to allow it.
func TestPushFollowsAllowedOrigins(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithAllowedOrigins("localhost:5173"))
	get := func(method, path, origin string, header ...string) *http.Response {
		t.Helper()
		return env.request(method, path, "", nil, append([]string{"Origin", origin}, header...)...)
	}
	allowed, other := "http://localhost:5173", "http://evil.example"
	if resp := get("GET", "/v1/events/stream", allowed); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("SSE from an allowed origin: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if resp := get("GET", "/v1/events/stream", other); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("SSE from an origin not allowed carries Access-Control-Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
	pre := get("OPTIONS", "/v1/events/stream", allowed, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "last-event-id")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != allowed || !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Last-Event-ID") {
		t.Errorf("preflight from an allowed origin: %d %v", pre.StatusCode, pre.Header)
	}
	ws := get("GET", "/v1/events/ws", other, wsHandshake...)
	if plain := get("GET", "/v1/events/ws", allowed); plain.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("a plain GET of the WebSocket endpoint: %d, want 426", plain.StatusCode)
	}
	body, _ := io.ReadAll(ws.Body)
	if ws.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "--allow-origin evil.example") {
		t.Errorf("WebSocket from an origin not allowed: %d %q, want 403 saying how to allow it", ws.StatusCode, body)
	}
}

// TestIngressTakesEventsFromAllowedOrigins: a page of an allowed origin
// sends events, its preflight granted and its answers readable (CORS); a
// page of another origin is refused before anything reaches the log, with a
// reason that says how to allow it; a page of the broker's own origin, and
// a client that is no page, send as before; the webhook handshake still
// answers an OPTIONS without a preflight's header.
func TestIngressTakesEventsFromAllowedOrigins(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithAllowedOrigins("localhost:5173"))
	allowed, other := "http://localhost:5173", "http://evil.example"
	post := func(id string, header ...string) *http.Response {
		t.Helper()
		ce := []string{"Ce-Specversion", "1.0", "Ce-Id", id, "Ce-Source", "/page", "Ce-Type", "page.clicked"}
		return env.request("POST", "/v1/events", "application/json", []byte(`{"n":1}`), append(ce, header...)...)
	}

	pre := env.request("OPTIONS", "/v1/events", "", nil, "Origin", allowed,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "ce-id,ce-source,ce-specversion,ce-type,content-type")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != allowed ||
		pre.Header.Get("Access-Control-Allow-Methods") != "POST" || !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "ce-specversion") {
		t.Errorf("ingress preflight from an allowed origin: %d %v", pre.StatusCode, pre.Header)
	}
	if resp := post("e-1", "Origin", allowed); resp.StatusCode != http.StatusAccepted || resp.Header.Get("Access-Control-Allow-Origin") != allowed {
		t.Errorf("POST from an allowed origin: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	before := env.logged()

	pre = env.request("OPTIONS", "/v1/events", "", nil, "Origin", other, "Access-Control-Request-Method", "POST")
	if pre.Header.Get("Access-Control-Allow-Origin") != "" || pre.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("ingress preflight from an origin not allowed is granted: %v", pre.Header)
	}
	refused := post("e-2", "Origin", other)
	body, _ := io.ReadAll(refused.Body)
	if refused.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "may not send events here: start eddy with --allow-origin evil.example") {
		t.Errorf("POST from an origin not allowed: %d %q, want 403 saying how to allow it", refused.StatusCode, body)
	}
	if after := env.logged(); after != before {
		t.Errorf("the refused event reached the log: %d entries, %d before", after, before)
	}

	if resp := post("e-3", "Origin", env.srv.URL); resp.StatusCode != http.StatusAccepted {
		t.Errorf("POST from the broker's own origin: %d", resp.StatusCode)
	}
	if resp := post("e-4"); resp.StatusCode != http.StatusAccepted || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("POST without an Origin: %d, Access-Control-Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	hs := env.request("OPTIONS", "/v1/events", "", nil, "WebHook-Request-Origin", "emitter.example.com")
	if hs.StatusCode != http.StatusOK || hs.Header.Get("WebHook-Allowed-Origin") != "emitter.example.com" {
		t.Errorf("webhook handshake: %d %v", hs.StatusCode, hs.Header)
	}
}
