package broker

import (
	"net/url"
	"strings"
)

// builtinNote is what the status of a built-in trigger says.
const builtinNote = "the subscriber is the Zeebe CloudEvents router, which Eddy's engine replaces: " +
	"every event reaches processes through the engine's own bindings (a message start event named by the event's type; " +
	"a message of the event's type correlated by its correlationkey extension), so nothing is delivered over HTTP"

// isBuiltinSubscriber reports whether uri points at the Zeebe CloudEvents
// router: the first label of its host is one of hosts
// ("zeebe-cloud-events-router.default.svc.cluster.local",
// "zeebe-cloud-events-router:8080", ...), whatever the path (/message,
// /workflow, /). The router's endpoints published messages, started
// workflows and completed jobs: the engine does all of that for every
// event, so such a trigger needs no delivery.
func isBuiltinSubscriber(uri string, hosts []string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	label, _, _ := strings.Cut(u.Hostname(), ".")
	for _, h := range hosts {
		if strings.EqualFold(label, h) {
			return true
		}
	}
	return false
}
