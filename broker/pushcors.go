package broker

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// A page on another origin (a front end on its dev server's port, say)
// follows events only if the broker lets it: the WebSocket checks Origin
// against WithPushOrigins, and the SSE stream answers such a page with
// CORS headers (and its preflight, which a reconnection's Last-Event-ID
// header can bring) only when its origin is allowed. Without a pattern,
// only pages of the same origin may follow, as a browser would enforce.

// pushOriginAllowed reports whether a page at origin may follow events:
// its host matches one of the patterns (path.Match, case-insensitive, "*"
// for any host), as the WebSocket's OriginPatterns check it.
func pushOriginAllowed(origin string, patterns []string) bool {
	host := originHost(origin)
	if host == "" {
		return false
	}
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), host); ok {
			return true
		}
	}
	return false
}

// originHost is the host (and port) of an Origin header, lower case; ""
// when it names none.
func originHost(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// crossOrigin reports whether r comes from a page of another origin than
// the broker's own (by host), as a browser says in Origin.
func crossOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin != "" && originHost(origin) != strings.ToLower(r.Host)
}

// allowPushOrigin sets the CORS headers of a live push answer to a page on
// an allowed origin; it reports whether the request came from one (or from
// no page at all).
func (b *Broker) allowPushOrigin(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if !crossOrigin(r) {
		return true
	}
	if !pushOriginAllowed(origin, b.o.pushOrigins) {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	return true
}

// serveSSEPreflight answers a CORS preflight of the SSE stream: GET, with
// the Last-Event-ID header a reconnection sends, from an allowed origin.
func (b *Broker) serveSSEPreflight(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Access-Control-Request-Method") == "" || !b.allowPushOrigin(w, r) {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET")
	h.Set("Access-Control-Allow-Headers", "Last-Event-ID, Cache-Control")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
