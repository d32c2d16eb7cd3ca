package http1

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestParseHead(t *testing.T) {
	const ok = "POST /v1/events?x=1 HTTP/1.1\r\nHost: eddy:8080\r\nCe-Id: 1\r\nContent-Length: 2\r\n\r\n{}"
	tests := []struct {
		name string
		in   string
		want parseStatus
	}{
		{"plain", ok, headComplete},
		{"no body", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", headComplete},
		{"connection close", "POST /a HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n", headComplete},
		{"value spaces trimmed", "POST /a HTTP/1.1\r\nHost: h\r\nX:  v \t\r\n\r\n", headComplete},
		{"partial line", "POST /v1/ev", headPartial},
		{"partial head", "POST /a HTTP/1.1\r\nHost: h\r\n", headPartial},
		{"empty", "", headPartial},
		{"HTTP/1.0", "POST /a HTTP/1.0\r\nHost: h\r\n\r\n", headDeclined},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", headDeclined},
		{"bare LF", "POST /a HTTP/1.1\nHost: h\n\n", headDeclined},
		{"bare LF in fields", "POST /a HTTP/1.1\r\nHost: h\n\r\n", headDeclined},
		{"no host", "POST /a HTTP/1.1\r\nX: 1\r\n\r\n", headDeclined},
		{"two hosts", "POST /a HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n", headDeclined},
		{"odd host", "POST /a HTTP/1.1\r\nHost: h/x\r\n\r\n", headDeclined},
		{"absolute form", "POST http://h/a HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"escaped path", "POST /v1%2Fevents HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"escape in query is fine", "POST /a?x=%20 HTTP/1.1\r\nHost: h\r\n\r\n", headComplete},
		{"double slash", "POST /v1//events HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"dot segment", "POST /v1/./events HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"dot-dot segment", "POST /v1/../events HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"trailing dot-dot", "POST /v1/.. HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"dotted name is fine", "POST /v1/.events HTTP/1.1\r\nHost: h\r\n\r\n", headComplete},
		{"fragment", "POST /a#b HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"chunked", "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", headDeclined},
		{"expect", "POST /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", headDeclined},
		{"upgrade", "GET /a HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", headDeclined},
		{"connection upgrade", "GET /a HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\n\r\n", headDeclined},
		{"two lengths", "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", headDeclined},
		{"signed length", "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", headDeclined},
		{"huge length", "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999\r\n\r\n", headDeclined},
		{"folded field", "POST /a HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", headDeclined},
		{"space before colon", "POST /a HTTP/1.1\r\nHost : h\r\n\r\n", headDeclined},
		{"control in value", "POST /a HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n", headDeclined},
		{"bad method", "PO(ST /a HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"space in target", "POST /a b HTTP/1.1\r\nHost: h\r\n\r\n", headDeclined},
		{"too long", "POST /a HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", maxHeadBytes), headDeclined},
		{"too many fields", "POST /a HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X: 1\r\n", maxFields+1) + "\r\n", headDeclined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h head
			n, st := parseHead([]byte(tt.in), &h)
			if st != tt.want {
				t.Fatalf("status %v, want %v", st, tt.want)
			}
			if st == headComplete {
				checkAgainstNetHTTP(t, []byte(tt.in), n, &h)
			}
		})
	}
}

func TestParseHeadFields(t *testing.T) {
	in := "POST /v1/events?x=1 HTTP/1.1\r\nHost: eddy:8080\r\nce-id:  7 \r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
	var h head
	n, st := parseHead([]byte(in), &h)
	if st != headComplete || in[n:] != "{}" {
		t.Fatalf("status %v, rest %q", st, in[n:])
	}
	if string(h.method) != "POST" || string(h.path) != "/v1/events" || string(h.query) != "x=1" ||
		string(h.host) != "eddy:8080" || h.contentLength != 2 || !h.close {
		t.Fatalf("parsed %+v", h)
	}
	if len(h.fields) != 3 || string(h.fields[0].name) != "ce-id" || string(h.fields[0].value) != "7" {
		t.Fatalf("fields %q", h.fields)
	}
}

// checkAgainstNetHTTP fails unless net/http reads the head of b (n bytes)
// as parseHead did.
func checkAgainstNetHTTP(t *testing.T, b []byte, n int, h *head) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(b))
	r, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("the fast path takes %q, net/http refuses it: %v", b[:n], err)
	}
	if got := len(b) - br.Buffered(); got < n {
		t.Fatalf("net/http read %d bytes of the head, the fast path %d", got, n)
	}
	if r.Method != string(h.method) || r.RequestURI != string(h.target) || r.Host != string(h.host) ||
		r.URL.Path != string(h.path) || r.URL.RawQuery != string(h.query) {
		t.Fatalf("net/http: %s %s (path %q query %q) host %q; fast: %s %s (path %q query %q) host %q",
			r.Method, r.RequestURI, r.URL.Path, r.URL.RawQuery, r.Host, h.method, h.target, h.path, h.query, h.host)
	}
	if r.ContentLength != h.contentLength && !(r.ContentLength == 0 && h.contentLength == 0) {
		t.Fatalf("Content-Length: net/http %d, fast %d", r.ContentLength, h.contentLength)
	}
	if r.Close != h.close {
		t.Fatalf("close: net/http %v, fast %v", r.Close, h.close)
	}
	var c conn
	got := c.newRequest(http.MethodPost, "/", h, nil).Header
	for k, v := range r.Header {
		if strings.Join(got[k], "\x00") != strings.Join(v, "\x00") {
			t.Fatalf("header %s: net/http %q, fast %q", k, v, got[k])
		}
	}
	if len(got) != len(r.Header) {
		t.Fatalf("headers: net/http %q, fast %q", r.Header, got)
	}
}

func FuzzParseHead(f *testing.F) {
	f.Add([]byte("POST /v1/events HTTP/1.1\r\nHost: eddy\r\nCe-Id: 1\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("GET /a/b?c=d HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\nX: y\r\nx: z\r\n\r\n"))
	f.Add([]byte("POST /a/./b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var h head
		n, st := parseHead(b, &h)
		switch st {
		case headComplete:
			if n <= 0 || n > len(b) {
				t.Fatalf("head ends at %d of %d bytes", n, len(b))
			}
			checkAgainstNetHTTP(t, b, n, &h)
		case headPartial:
			if bytes.Contains(b, []byte("\r\n\r\n")) && len(b) < maxHeadBytes {
				// A complete head is never waited on, unless declined.
				t.Fatalf("partial, though the head is complete: %q", b)
			}
		}
	})
}
