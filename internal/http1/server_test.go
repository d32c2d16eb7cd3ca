package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// echo answers with what it read of the request, so that two servers'
// readings of the same bytes can be compared; X-Status picks the status.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var keys []string
	for k := range r.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s path=%q query=%q proto=%s host=%q length=%d close=%v\n",
		r.Method, r.RequestURI, r.URL.Path, r.URL.RawQuery, r.Proto, r.Host, r.ContentLength, r.Close)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q\n", k, r.Header[k])
	}
	fmt.Fprintf(&b, "body=%q", body)
	w.Header().Set("X-Echo", "yes")
	status := http.StatusOK
	if s := r.Header.Get("X-Status"); s != "" {
		fmt.Sscan(s, &status)
	}
	w.WriteHeader(status)
	io.WriteString(w, b.String())
})

type testServer struct {
	addr string
	srv  *Server
	fast sync.Map // paths served by the fast path: path → count
	done chan error
}

// startServer serves echo on both paths: the fast path for every POST
// under /fast, net/http for the rest; answers of the fallback carry
// X-Fallback.
func startServer(t *testing.T, configure func(*http.Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), done: make(chan error, 1)}
	fallback := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Fallback", "yes")
		echo.ServeHTTP(w, r)
	})}
	if configure != nil {
		configure(fallback)
	}
	ts.srv = &Server{Fallback: fallback, Route: func(method, path string) http.Handler {
		if method == http.MethodPost && strings.HasPrefix(path, "/fast") {
			return echo
		}
		return nil
	}}
	go func() { ts.done <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ts.srv.Close()
		if err := <-ts.done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

// plainServer serves echo with net/http alone.
func plainServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: echo}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// exchange writes raw on a new connection and reads n answers.
func exchange(t *testing.T, addr, raw string, n int) []*http.Response {
	t.Helper()
	c := dial(t, addr)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer %d of %d to %q: %v", len(out)+1, n, raw, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		resp.Header.Set("X-Body", string(body))
		out = append(out, resp)
	}
	return out
}

// TestSameAsNetHTTP sends the same bytes to the fast path and to net/http
// and expects the same answers: status, body (what the handler read of
// the request) and headers, Date aside.
func TestSameAsNetHTTP(t *testing.T) {
	fast := startServer(t, nil)
	plain := plainServer(t)
	cases := []struct {
		name, raw string
		answers   int
	}{
		{"binary event", "POST /fast/events HTTP/1.1\r\nHost: eddy\r\nCe-Id: 1\r\nce-source: /s\r\nCE-TYPE: t\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"a\": 1}\n", 1},
		{"query and repeated fields", "POST /fast/a?x=1&y=%20 HTTP/1.1\r\nHost: h:1\r\nX-A: 1\r\nx-a: 2\r\nX-B:\r\n\r\n", 1},
		{"no body", "POST /fast HTTP/1.1\r\nHost: h\r\n\r\n", 1},
		{"status chosen", "POST /fast HTTP/1.1\r\nHost: h\r\nX-Status: 418\r\nContent-Length: 0\r\n\r\n", 1},
		{"no content answer", "POST /fast HTTP/1.1\r\nHost: h\r\nX-Status: 204\r\n\r\n", 1},
		{"pipelined", "POST /fast/1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\naPOST /fast/2 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nb", 2},
		{"connection close", "POST /fast HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 1},
		{"obs-text value", "POST /fast HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, fast.addr, tc.raw, tc.answers)
			want := exchange(t, plain, tc.raw, tc.answers)
			for i := range got {
				if got[i].Header.Get("X-Fallback") != "" {
					t.Fatalf("answer %d came from net/http: the fast path should take it", i)
				}
				compareAnswers(t, got[i], want[i])
			}
		})
	}
}

func compareAnswers(t *testing.T, got, want *http.Response) {
	t.Helper()
	if got.StatusCode != want.StatusCode || got.Status != want.Status {
		t.Fatalf("status %q, net/http %q", got.Status, want.Status)
	}
	if (got.Header.Get("Date") == "") != (want.Header.Get("Date") == "") {
		t.Fatalf("Date %q, net/http's %q", got.Header.Get("Date"), want.Header.Get("Date"))
	}
	for _, h := range []http.Header{got.Header, want.Header} {
		h.Del("Date")
		h.Del("X-Fallback")
	}
	if fmt.Sprint(got.Header) != fmt.Sprint(want.Header) {
		t.Fatalf("headers\n%v\nnet/http\n%v", got.Header, want.Header)
	}
	if got.Close != want.Close || got.ContentLength != want.ContentLength {
		t.Fatalf("close %v length %d, net/http close %v length %d", got.Close, got.ContentLength, want.Close, want.ContentLength)
	}
}

// TestDeclinedGoToNetHTTP sends what the fast path declines and expects
// net/http's own answer, on the same connection as fast requests before.
func TestDeclinedGoToNetHTTP(t *testing.T) {
	fast := startServer(t, nil)
	plain := plainServer(t)
	first := "POST /fast/first HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"
	cases := map[string]string{
		"other route":      "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n",
		"chunked":          "POST /fast HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.0":         "POST /fast HTTP/1.0\r\nHost: h\r\nContent-Length: 2\r\n\r\nab",
		"escaped path":     "POST /fast%2Fx HTTP/1.1\r\nHost: h\r\n\r\n",
		"dot segment":      "POST /fast/../fast HTTP/1.1\r\nHost: h\r\n\r\n",
		"no host":          "POST /fast HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		"bad header":       "POST /fast HTTP/1.1\r\nHost: h\r\nX Y: 1\r\n\r\n",
		"folded header":    "POST /fast HTTP/1.1\r\nHost: h\r\nX: 1\r\n 2\r\n\r\n",
		"bad length":       "POST /fast HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n",
		"conflicting size": "POST /fast HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"garbage":          "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
		"bare LF":          "POST /fast HTTP/1.1\nHost: h\nContent-Length: 1\n\nz",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			got := exchange(t, fast.addr, first+raw, 2)
			if got[0].Header.Get("X-Fallback") != "" {
				t.Fatal("the first request should be the fast path's")
			}
			want := exchange(t, plain, raw, 1)[0]
			if want.StatusCode == http.StatusOK && got[1].Header.Get("X-Fallback") == "" {
				t.Fatal("the declined request was not served by net/http")
			}
			got[1].Header.Del("X-Fallback")
			compareAnswers(t, got[1], want)
		})
	}
}

// TestStaysWithNetHTTP: once handed over, a connection is net/http's,
// fast routes included.
func TestStaysWithNetHTTP(t *testing.T) {
	ts := startServer(t, nil)
	raw := "POST /fast/1 HTTP/1.1\r\nHost: h\r\n\r\n" + "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n" + "POST /fast/2 HTTP/1.1\r\nHost: h\r\n\r\n"
	got := exchange(t, ts.addr, raw, 3)
	for i, fallback := range []bool{false, true, true} {
		if (got[i].Header.Get("X-Fallback") != "") != fallback {
			t.Fatalf("answer %d: from net/http %v, want %v", i, !fallback, fallback)
		}
	}
}

// TestSplitWrites sends requests a few bytes at a time: heads and bodies
// that arrive in pieces are put together.
func TestSplitWrites(t *testing.T) {
	ts := startServer(t, nil)
	body := strings.Repeat("0123456789", 20000) // larger than the initial buffer
	raw := fmt.Sprintf("POST /fast/big HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", len(body), body) +
		"POST /fast/small HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		for i := 0; i < len(raw); {
			n := min(len(raw)-i, 1+i%7919)
			if _, err := io.WriteString(c, raw[i:i+n]); err != nil {
				return
			}
			i += n
		}
	}()
	br := bufio.NewReader(c)
	for _, want := range []string{body, "abc"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("X-Fallback") != "" || !strings.HasSuffix(string(got), fmt.Sprintf("body=%q", want)) {
			t.Fatalf("answer %s, fallback %q, ends %q", resp.Status, resp.Header.Get("X-Fallback"), got[max(0, len(got)-40):])
		}
	}
}

// TestRequestLargerThanTheSocketBuffers sends a request of a megabyte in
// one write and nothing after it: the server must read on
// while a read fills its buffer, since no more data will come to wake a
// wait. (Reading raw, a read that leaves the socket empty lets the
// connection wait at once; one that fills the buffer must not.)
func TestRequestLargerThanTheSocketBuffers(t *testing.T) {
	ts := startServer(t, nil)
	body := strings.Repeat("abcdefghij", maxBodyLength/10) // the longest the fast path takes
	raw := fmt.Sprintf("POST /fast/large HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go io.WriteString(c, raw)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a request sent in one write: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Fallback") != "" || !strings.HasSuffix(string(got), fmt.Sprintf("body=%q", body)) {
		t.Fatalf("answer %s, fallback %q, %d bytes", resp.Status, resp.Header.Get("X-Fallback"), len(got))
	}
}

// TestHalfCloseAfterRequest sends requests each followed at once by the
// client's FIN: the server must answer, see the end and close. (Data and
// FIN can come as one segment and one readiness event, so a connection
// that waits without reading after a short read would not see the FIN
// until its probe.)
func TestHalfCloseAfterRequest(t *testing.T) {
	ts := startServer(t, nil)
	for i := range 20 {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "POST /fast/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.ReadAll(resp.Body)
		_, err = br.ReadByte()
		c.Close()
		if err != io.EOF {
			t.Fatalf("request %d: the server did not close after the client's FIN: %v", i, err)
		}
	}
}

func TestConnectionClose(t *testing.T) {
	ts := startServer(t, nil)
	c := dial(t, ts.addr)
	io.WriteString(c, "POST /fast HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	all, err := io.ReadAll(c) // returns once the server closes
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(all), "\r\nConnection: close\r\n") {
		t.Fatalf("answer without Connection: close: %q", all)
	}
}

func TestPanicClosesConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	var mu sync.Mutex
	fallback := &http.Server{Handler: echo, ErrorLog: newLogger(&mu, &logged)}
	srv := &Server{Fallback: fallback, Route: func(string, string) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	}}
	go srv.Serve(ln)
	defer srv.Close()
	c := dial(t, ln.Addr().String())
	io.WriteString(c, "POST /x HTTP/1.1\r\nHost: h\r\n\r\n")
	if all, err := io.ReadAll(c); err != nil || len(all) != 0 {
		t.Fatalf("read %q, %v; want the connection closed without an answer", all, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "panic serving") || !strings.Contains(logged.String(), "boom") {
		t.Fatalf("logged %q", logged.String())
	}
}

// TestShutdown: a request in flight is answered (with Connection: close),
// an idle fast connection is closed, and Shutdown returns.
func TestShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{Fallback: &http.Server{Handler: echo}, Route: func(method, path string) http.Handler {
		if path == "/wait" {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				<-release
				w.WriteHeader(http.StatusAccepted)
			})
		}
		return echo
	}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	idle := dial(t, ln.Addr().String())
	io.WriteString(idle, "POST /x HTTP/1.1\r\nHost: h\r\n\r\n")
	if _, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil {
		t.Fatal(err)
	}
	busy := dial(t, ln.Addr().String())
	io.WriteString(busy, "POST /wait HTTP/1.1\r\nHost: h\r\n\r\n")
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("idle connection: read %d, %v; want it closed", n, err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || !resp.Close {
		t.Fatalf("in-flight answer %s, close %v", resp.Status, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

// TestIdleTimeout: an idle fast connection is closed after about the
// fallback's IdleTimeout.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(s *http.Server) { s.IdleTimeout = 50 * time.Millisecond })
	c := dial(t, ts.addr)
	io.WriteString(c, "POST /fast HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("read %v; want the connection closed by the server", err)
	}
}

// TestCloseBeforeServe: a server closed before Serve runs does not serve.
func TestCloseBeforeServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Fallback: &http.Server{Handler: echo}, Route: func(string, string) http.Handler { return nil }}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("the listener is still open")
	}
}

// TestHeaderTimeout: a head sent a byte at a time is cut off after the
// header timeout, however steadily the bytes come.
func TestHeaderTimeout(t *testing.T) {
	ts := startServer(t, func(s *http.Server) { s.ReadHeaderTimeout = 100 * time.Millisecond })
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		c.Read(make([]byte, 1)) // returns when the server closes
	}()
	io.WriteString(c, "POST /fast HTTP/1.1\r\nHost: h\r\nX-Slow: ")
	for i := 0; i < 1000; i++ { // 10 s of a byte every 10 ms
		select {
		case <-closed:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if _, err := io.WriteString(c, "a"); err != nil {
			return
		}
	}
	t.Fatal("the server still reads a head it has had for 10 s")
}

// TestHeadGoesToNetHTTP: HEAD is answered by net/http, without a body,
// even where Route would take it.
func TestHeadGoesToNetHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fallback := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Fallback", "yes")
		echo.ServeHTTP(w, r)
	})}
	srv := &Server{Fallback: fallback, Route: func(string, string) http.Handler { return echo }}
	go srv.Serve(ln)
	defer srv.Close()
	c := dial(t, ln.Addr().String())
	io.WriteString(c, "HEAD /fast HTTP/1.1\r\nHost: h\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodHead})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Fallback") == "" {
		t.Fatal("HEAD was served by the fast path")
	}
}

// dial connects to addr for at most 10 s; the test's end closes it.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// TestFallbackStopped: once the net/http server has stopped, a request it
// would serve closes its connection instead of waiting for it.
func TestFallbackStopped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fallback := &http.Server{Handler: echo}
	fallback.Close() // its Serve returns at once
	srv := &Server{Fallback: fallback, Route: func(string, string) http.Handler { return nil }}
	go srv.Serve(ln)
	defer srv.Close()
	c := dial(t, ln.Addr().String())
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read: %v; want the connection closed", err)
	}
}
