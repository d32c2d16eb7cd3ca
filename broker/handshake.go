package broker

import "net/http"

// allowedMethods are the ingress's methods, as its Allow header lists them.
const allowedMethods = "POST, OPTIONS"

// serveHandshake answers the validation request of the CloudEvents HTTP
// webhook specification (section 4, abuse protection): a sender asks with
// OPTIONS and WebHook-Request-Origin whether it may deliver here, and the
// ingress, which takes events from anyone who can reach it, grants it at
// any rate. Without the origin header it is a plain OPTIONS request, and
// the answer only lists the methods.
func serveHandshake(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Allow", allowedMethods)
	if origin := r.Header.Get("WebHook-Request-Origin"); origin != "" {
		h.Set("WebHook-Allowed-Origin", origin)
		h.Set("WebHook-Allowed-Rate", "*")
	}
	w.WriteHeader(http.StatusOK)
}
