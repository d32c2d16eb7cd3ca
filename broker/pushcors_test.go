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
	env := newEnv(t, WithJobWorker(false, 1), WithPushOrigins("localhost:5173"))
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
