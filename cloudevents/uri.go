package cloudevents

import (
	"fmt"
	"net/netip"
	"strings"
)

// URIs are checked against the RFC 3986 grammar itself, not net/url, which
// accepts spaces, raw non-ASCII and other things a URI cannot hold.

// checkURIRef checks an RFC 3986 URI-reference (section 4.1), non-empty.
func checkURIRef(s string) string {
	if s == "" {
		return "a URI-reference cannot be empty here"
	}
	return checkURIText(s, false)
}

// checkURI checks an absolute URI (RFC 3986 section 4.3): a scheme, and no
// fragment.
func checkURI(s string) string {
	if s == "" {
		return "a URI cannot be empty"
	}
	return checkURIText(s, true)
}

func checkURIText(s string, absolute bool) string {
	rest := s
	colon := strings.IndexAny(s, ":/?#")
	if colon >= 0 && s[colon] == ':' {
		if msg := checkScheme(s[:colon]); msg != "" {
			return msg
		}
		rest = s[colon+1:]
	} else if absolute {
		return "an absolute URI starts with a scheme (as in https:)"
	}
	if hash := strings.IndexByte(rest, '#'); hash >= 0 {
		if absolute {
			return "an absolute URI has no fragment ('#...')"
		}
		if msg := checkChars(rest[hash+1:], "fragment", "/?"); msg != "" {
			return msg
		}
		rest = rest[:hash]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		if msg := checkChars(rest[q+1:], "query", "/?"); msg != "" {
			return msg
		}
		rest = rest[:q]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		if msg := checkAuthority(rest[:end]); msg != "" {
			return msg
		}
		rest = rest[end:]
	}
	return checkChars(rest, "path", "/")
}

func checkScheme(s string) string {
	if s == "" {
		return "a URI scheme cannot be empty (nothing before ':')"
	}
	if !isAlpha(s[0]) {
		// Without a valid scheme this is a relative reference whose first
		// path segment holds a ':', which RFC 3986 forbids (path-noscheme).
		return fmt.Sprintf("%q is not a URI scheme (it must start with a letter), and a relative reference cannot have ':' in its first segment", s)
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return fmt.Sprintf("%q is not a URI scheme (letters, digits, '+', '-', '.'), and a relative reference cannot have ':' in its first segment", s)
		}
	}
	return ""
}

func checkAuthority(a string) string {
	if at := strings.LastIndexByte(a, '@'); at >= 0 {
		if msg := checkChars(a[:at], "userinfo", ":"); msg != "" {
			return msg
		}
		a = a[at+1:]
	}
	host, port := a, ""
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "an IP literal in a URI host needs a closing ']'"
		}
		if msg := checkIPLiteral(a[1:end]); msg != "" {
			return msg
		}
		host, port = "", a[end+1:]
		if port != "" {
			if port[0] != ':' {
				return "after an IP literal the URI authority can only have ':port'"
			}
			port = port[1:]
		}
	} else if c := strings.IndexByte(a, ':'); c >= 0 {
		host, port = a[:c], a[c+1:]
	}
	for i := 0; i < len(port); i++ {
		if !isDigit(port[i]) {
			return fmt.Sprintf("the URI port %q is not a number", port)
		}
	}
	return checkChars(host, "host", "")
}

func checkIPLiteral(s string) string {
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		dot := strings.IndexByte(s, '.')
		if dot < 2 || dot == len(s)-1 {
			return fmt.Sprintf("%q is not an IPvFuture literal (v<hex>.<text>)", s)
		}
		for i := 1; i < dot; i++ {
			if !isHex(s[i]) {
				return fmt.Sprintf("%q is not an IPvFuture literal (v<hex>.<text>)", s)
			}
		}
		return checkChars(s[dot+1:], "IP literal", ":")
	}
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is6() || addr.Zone() != "" {
		return fmt.Sprintf("%q is not an IPv6 address", s)
	}
	return ""
}

// checkChars checks that s holds only pchar (unreserved, pct-encoded,
// sub-delims, ':' and '@') and the extra characters allowed in this part
// (a host allows neither ':' nor '@', userinfo no '@').
func checkChars(s, part, extra string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isUnreserved(c) || isSubDelim(c):
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Sprintf("'%%' at byte %d of the URI %s is not followed by two hex digits", i, part)
			}
			i += 2
		case c == ':' && part != "host", c == '@' && part != "host" && part != "userinfo":
		case strings.IndexByte(extra, c) >= 0:
		case c >= 0x80:
			return fmt.Sprintf("non-ASCII byte 0x%02X in the URI %s must be percent-encoded", c, part)
		default:
			return fmt.Sprintf("%q is not allowed in the URI %s", rune(c), part)
		}
	}
	return ""
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

func isUnreserved(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool {
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}
