package broker

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// A page on another origin (a front end on its dev server's port, say)
// follows and sends events only if the broker lets it: the WebSocket checks
// Origin against WithAllowedOrigins, and the SSE stream and the ingress
// answer such a page with CORS headers (and its preflight: a reconnection's
// Last-Event-ID header, an event's Ce-* headers or its content type bring
// one) only when its origin is allowed. The ingress refuses an event a
// page of another origin sends unless it is allowed, so that no page a
// browser opens elsewhere puts events on the log. Without a pattern, only
// pages of the same origin may follow and send, as a browser would enforce.

// originAllowed reports whether a page at origin may follow and send
// events:
// its host matches one of the patterns (path.Match, case-insensitive, "*"
// for any host), as the WebSocket's OriginPatterns check it.
func originAllowed(origin string, patterns []string) bool {
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

// allowOrigin sets the CORS headers of an answer to a page on an allowed
// origin; it reports whether the request came from one (or from no page of
// another origin).
func (b *Broker) allowOrigin(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if !crossOrigin(r) {
		return true
	}
	if !originAllowed(origin, b.o.allowedOrigins) {
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
	if r.Header.Get("Access-Control-Request-Method") == "" || !b.allowOrigin(w, r) {
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

// serveIngressPreflight answers a CORS preflight of the ingress: POST, with
// whatever headers the page asks for (an event's Ce-* attributes are
// open-ended), from an allowed origin.
func (b *Broker) serveIngressPreflight(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", allowedMethods)
	if !b.allowOrigin(w, r) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	}
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// newWriteGuard returns the wrapper of the API's routes (triggers, streams)
// that refuses a change of state (PUT, DELETE, POST: a trigger's retry and
// replay) from a browser page of another origin, as net/http's
// CrossOriginProtection tells it (Sec-Fetch-Site, or an Origin other than
// the host). The trigger API answers no CORS preflight, but a browser
// sends a "simple" request (a form, a text/plain fetch) without one, and
// the API takes no credentials. WithAllowedOrigins does not open it: it
// lets pages follow and send events, not manage triggers. The ingress,
// which is not wrapped, keeps its own policy (allowOrigin); GETs (the
// streams) and preflights pass.
func newWriteGuard() func(http.HandlerFunc) http.Handler {
	origins := http.NewCrossOriginProtection()
	return func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if origins.Check(r) != nil {
				from := "another origin"
				if o := r.Header.Get("Origin"); o != "" && o != "null" {
					from = fmt.Sprintf("origin %q", o)
				}
				writeProblem(w, http.StatusForbidden, fmt.Errorf("a page of %s may not change Eddy's state through this API (%s %s): send it from a page of Eddy's own origin, or from a client that is no browser page (curl, an SDK)", from, r.Method, r.URL.Path))
				return
			}
			h(w, r)
		})
	}
}

// refuseOrigin answers 403 to a request from a page of an origin the
// broker does not allow, saying how to allow it; what names what the page
// may not do.
func refuseOrigin(w http.ResponseWriter, r *http.Request, what string) {
	origin := r.Header.Get("Origin")
	http.Error(w, fmt.Sprintf("a page of origin %q may not %s here: start eddy with --allow-origin %s (broker.WithAllowedOrigins)", origin, what, originHost(origin)), http.StatusForbidden)
}
