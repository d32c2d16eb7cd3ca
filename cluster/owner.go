package cluster

import (
	"fmt"
	"net/url"
	"strings"
)

// Owner returns the claim owner name of a node called name that peers
// reach at advertise (an http or https base URL).
func Owner(name, advertise string) (string, error) {
	if strings.Contains(name, "@") {
		return "", fmt.Errorf("cluster: node name %q must not contain '@'", name)
	}
	u, err := url.Parse(advertise)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("cluster: advertised address %q is not an http(s) URL with a host", advertise)
	}
	return name + "@" + strings.TrimSuffix(advertise, "/"), nil
}

// ownerURL returns the base URL in a claim owner name, or "" when the
// owner is not reachable (a name without an address, or no owner).
func ownerURL(owner string) string {
	_, addr, ok := strings.Cut(owner, "@")
	if !ok || !strings.HasPrefix(addr, "http://") && !strings.HasPrefix(addr, "https://") {
		return ""
	}
	return addr
}
