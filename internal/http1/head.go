package http1

import "bytes"

// head is a request head the fast path takes; its slices point into the
// connection's buffer.
type head struct {
	method, target []byte
	path, query    []byte // target split at '?'
	host           []byte
	fields         []field // other than Host, in arrival order
	contentLength  int64   // 0 when absent
	close          bool    // Connection: close
}

type field struct{ name, value []byte }

// parseStatus says what parseHead made of a buffer.
type parseStatus int

const (
	headComplete parseStatus = iota // the head ends at the returned offset
	headPartial                     // more bytes are needed
	headDeclined                    // net/http must serve this request
)

// Limits of what the fast path takes; anything beyond is declined, and
// net/http answers it under its own limits.
const (
	maxHeadBytes  = 16 << 10
	maxFields     = 64
	maxBodyLength = 1 << 20
)

// parseHead parses the request head at the start of b into h (whose
// fields slice it reuses). It declines what it is not sure to read as
// net/http would: the fast path only takes requests whose meaning is
// plain.
func parseHead(b []byte, h *head) (int, parseStatus) {
	*h = head{fields: h.fields[:0], contentLength: 0}
	line, rest, st := nextLine(b, 0)
	if st != headComplete {
		return 0, st
	}
	if !parseRequestLine(b[:line], h) {
		return 0, headDeclined
	}
	var sawLength, sawHost bool
	for {
		end, next, st := nextLine(b, rest)
		if st != headComplete {
			return 0, st
		}
		if end == rest { // the empty line: end of the head
			if !sawHost {
				return 0, headDeclined
			}
			return next, headComplete
		}
		name, value, ok := parseField(b[rest:end])
		if !ok || len(h.fields) == maxFields {
			return 0, headDeclined
		}
		rest = next
		switch {
		case equalFold(name, "host"):
			if sawHost || !plainHost(value) {
				return 0, headDeclined
			}
			sawHost, h.host = true, value
			continue
		case equalFold(name, "content-length"):
			n, ok := parseLength(value)
			if sawLength || !ok || n > maxBodyLength {
				return 0, headDeclined
			}
			sawLength, h.contentLength = true, n
		case equalFold(name, "connection"):
			close, ok := parseConnection(value)
			if !ok {
				return 0, headDeclined
			}
			h.close = h.close || close
		case equalFold(name, "transfer-encoding"), equalFold(name, "expect"), equalFold(name, "upgrade"),
			equalFold(name, "trailer"):
			return 0, headDeclined
		}
		h.fields = append(h.fields, field{name, value})
	}
}

// nextLine finds the line that starts at from: it returns the offset of
// its CR and the offset after its LF. A bare LF, or a head longer than
// maxHeadBytes, is declined.
func nextLine(b []byte, from int) (end, next int, st parseStatus) {
	i := bytes.IndexByte(b[from:], '\n')
	if i < 0 {
		if len(b) >= maxHeadBytes {
			return 0, 0, headDeclined
		}
		return 0, 0, headPartial
	}
	end = from + i
	if end >= maxHeadBytes || end == from || b[end-1] != '\r' {
		return 0, 0, headDeclined
	}
	return end - 1, end + 1, headComplete
}

// parseRequestLine reads "METHOD /path?query HTTP/1.1".
func parseRequestLine(line []byte, h *head) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || !isToken(line[:sp]) {
		return false
	}
	h.method = line[:sp]
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 || string(rest[sp+1:]) != "HTTP/1.1" {
		return false
	}
	h.target = rest[:sp]
	if !plainTarget(h.target) {
		return false
	}
	h.path, h.query = h.target, nil
	if q := bytes.IndexByte(h.target, '?'); q >= 0 {
		h.path, h.query = h.target[:q], h.target[q+1:]
	}
	return true
}

// plainTarget reports whether t is an origin-form target whose path needs
// neither unescaping nor cleaning: it starts with '/', holds no '%', no
// "//" and no "." or ".." segment, and only printable ASCII.
func plainTarget(t []byte) bool {
	if len(t) == 0 || t[0] != '/' {
		return false
	}
	inPath := true
	for i, c := range t {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
		if !inPath {
			continue
		}
		switch c {
		case '?':
			inPath = false
		case '%':
			return false
		case '/':
			if i > 0 && t[i-1] == '/' {
				return false
			}
		case '.':
			if t[i-1] == '/' && (dotSegmentEnd(t, i+1) || (i+1 < len(t) && t[i+1] == '.' && dotSegmentEnd(t, i+2))) {
				return false
			}
		}
	}
	return true
}

// plainHost reports whether a Host value holds only the characters of a
// name or address and port (net/http checks the rest).
func plainHost(v []byte) bool {
	for _, c := range v {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

func dotSegmentEnd(t []byte, i int) bool { return i == len(t) || t[i] == '/' || t[i] == '?' }

// parseField reads "name: value" with the value's surrounding spaces and
// tabs trimmed. A name that is not a token (a line starting with a space
// is an obsolete continuation) or a value with control characters is
// refused.
func parseField(line []byte) (name, value []byte, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !isToken(line[:colon]) {
		return nil, nil, false
	}
	value = line[colon+1:]
	for len(value) > 0 && (value[0] == ' ' || value[0] == '\t') {
		value = value[1:]
	}
	for len(value) > 0 && (value[len(value)-1] == ' ' || value[len(value)-1] == '\t') {
		value = value[:len(value)-1]
	}
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return nil, nil, false
		}
	}
	return line[:colon], value, true
}

// parseLength reads a Content-Length: decimal digits only.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 10 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseConnection reads a Connection header that holds only "close" or
// "keep-alive" tokens; any other option (an upgrade, a hop-by-hop header
// name) is for net/http.
func parseConnection(v []byte) (close, ok bool) {
	for len(v) > 0 {
		var tok []byte
		tok, v, _ = bytes.Cut(v, []byte{','})
		tok = bytes.Trim(tok, " \t")
		switch {
		case equalFold(tok, "close"):
			close = true
		case equalFold(tok, "keep-alive"), len(tok) == 0:
		default:
			return false, false
		}
	}
	return close, true
}

// isToken reports whether b is a non-empty RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// equalFold compares b with the lower-case ASCII s, ignoring b's case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
