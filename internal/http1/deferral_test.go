package http1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// deferred is a deferring handler: every request's answer is written by one
// goroutine, in arrival order, as a commit's answers are. size is the body
// length of each answer (the request's body repeated); release, when set,
// holds every answer until it is closed.
type deferred struct {
	t       *testing.T
	served  atomic.Int32 // requests the handler was given
	size    int
	release chan struct{}
	entered chan struct{} // told of each deferred request, if set
	queue   chan deferredAnswer
}

type deferredAnswer struct {
	w      http.ResponseWriter
	body   string
	finish func()
}

func newDeferred(t *testing.T, size int) *deferred {
	d := &deferred{t: t, size: size, queue: make(chan deferredAnswer, 1024)}
	go func() {
		for a := range d.queue {
			if d.release != nil {
				<-d.release
			}
			a.w.Header().Set("X-Deferred", "yes")
			a.w.WriteHeader(http.StatusAccepted)
			io.WriteString(a.w, strings.Repeat(a.body, max(1, d.size/max(1, len(a.body)))))
			a.finish()
		}
	}()
	t.Cleanup(func() { close(d.queue) })
	return d
}

func (d *deferred) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.served.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		d.t.Error(err)
	}
	finish := Defer(w)
	if finish == nil {
		// Not deferrable (a closing request): answered here.
		w.Header().Set("X-Deferred", "no")
		w.WriteHeader(http.StatusAccepted)
		w.Write(body)
		return
	}
	d.queue <- deferredAnswer{w: w, body: string(body), finish: finish}
	if d.entered != nil {
		d.entered <- struct{}{}
	}
}

func deferredServer(t *testing.T, h http.Handler) (string, *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Fallback: &http.Server{Handler: echo}, Route: func(method, _ string) http.Handler {
		if method != http.MethodPost {
			return nil
		}
		return h
	}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), srv
}

func post(body string, close bool) string {
	c := ""
	if close {
		c = "Connection: close\r\n"
	}
	return fmt.Sprintf("POST /e HTTP/1.1\r\nHost: h\r\n%sContent-Length: %d\r\n\r\n%s", c, len(body), body)
}

// TestDeferredAnswersInOrder: pipelined requests whose answers are
// deferred are answered whole and in order, and a closing request is
// answered by the handler itself.
func TestDeferredAnswersInOrder(t *testing.T) {
	addr, _ := deferredServer(t, newDeferred(t, 0))
	var raw strings.Builder
	const n = 200
	for i := range n {
		raw.WriteString(post(fmt.Sprint("r", i), i == n-1))
	}
	answers := exchange(t, addr, raw.String(), n)
	for i, resp := range answers {
		want := fmt.Sprint("r", i)
		if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Body") != want {
			t.Fatalf("answer %d: %s %q, want 202 %q", i, resp.Status, resp.Header.Get("X-Body"), want)
		}
		deferredWant := "yes"
		if i == n-1 {
			deferredWant = "no"
		}
		if got := resp.Header.Get("X-Deferred"); got != deferredWant {
			t.Errorf("answer %d deferred %q, want %q", i, got, deferredWant)
		}
	}
	if !answers[n-1].Close {
		t.Error("the closing request's answer does not close")
	}
}

// TestDeferredAnswerToAClientThatDoesNotRead: a client that sends many
// requests and reads none of the answers fills its connection; the one
// goroutine answering every connection goes on answering the others, and
// the stuck client still gets all its answers once it reads.
func TestDeferredAnswerToAClientThatDoesNotRead(t *testing.T) {
	const size = 256 << 10
	addr, _ := deferredServer(t, newDeferred(t, size))
	stuck := dial(t, addr)
	const n = 64
	go func() {
		for i := range n {
			if _, err := io.WriteString(stuck, post(fmt.Sprintf("s%03d", i), false)); err != nil {
				return
			}
		}
	}()
	// Many megabytes of answers wait for the stuck client: the answering
	// goroutine has met its full connection by the time these are served.
	other := dial(t, addr)
	br := bufio.NewReader(other)
	for i := range 20 {
		io.WriteString(other, post(fmt.Sprintf("o%03d", i), false))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("another client's answer %d, while one client reads nothing: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	sr := bufio.NewReader(stuck)
	for i := range n {
		resp, err := http.ReadResponse(sr, nil)
		if err != nil {
			t.Fatalf("stuck client's answer %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		want := strings.Repeat(fmt.Sprintf("s%03d", i), size/4)
		if err != nil || string(body) != want {
			t.Fatalf("stuck client's answer %d: %d bytes (%v), want %d of its own", i, len(body), err, len(want))
		}
	}
}

// TestShutdownWaitsForDeferredAnswers: Shutdown returns only once a
// deferred answer in flight has gone out, and that answer closes.
func TestShutdownWaitsForDeferredAnswers(t *testing.T) {
	d := newDeferred(t, 0)
	d.release, d.entered = make(chan struct{}), make(chan struct{}, 1)
	addr, srv := deferredServer(t, d)
	c := dial(t, addr)
	io.WriteString(c, post("last", false))
	<-d.entered
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	// Shutdown has begun once the listener is closed.
	for {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		nc.Close()
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a deferred answer in flight", err)
	default:
	}
	close(d.release)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || string(body) != "last" {
		t.Fatalf("answer in flight: %s %q", resp.Status, body)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

// TestDeferredCloseIsTheLastAnswer: a deferred answer that goes out once a
// shutdown has begun says the connection closes, and the request the
// client pipelined behind it is not served.
func TestDeferredCloseIsTheLastAnswer(t *testing.T) {
	d := newDeferred(t, 0)
	d.release, d.entered = make(chan struct{}), make(chan struct{}, 2)
	addr, srv := deferredServer(t, d)
	c := dial(t, addr)
	io.WriteString(c, post("first", false)+post("second", false))
	<-d.entered
	go srv.Shutdown(context.Background())
	for {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		nc.Close()
	}
	close(d.release)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if !resp.Close {
		t.Fatal("the answer given during a shutdown does not close the connection")
	}
	if resp, err := http.ReadResponse(br, nil); err == nil {
		t.Fatalf("a second answer (%s) followed one that closed the connection", resp.Status)
	}
	if n := d.served.Load(); n != 1 {
		t.Fatalf("the handler served %d requests, want the first alone", n)
	}
}

// TestDeferredAnswerBeforeHandOff: a request net/http serves, pipelined
// behind a deferred one, is answered after it.
func TestDeferredAnswerBeforeHandOff(t *testing.T) {
	addr, _ := deferredServer(t, newDeferred(t, 0))
	answers := exchange(t, addr, post("first", false)+"GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 2)
	if answers[0].StatusCode != http.StatusAccepted || answers[0].Header.Get("X-Body") != "first" {
		t.Fatalf("first answer: %s %q", answers[0].Status, answers[0].Header.Get("X-Body"))
	}
	if !strings.HasPrefix(answers[1].Header.Get("X-Body"), "GET /next") {
		t.Fatalf("second answer: %s %q, want net/http's echo of GET /next", answers[1].Status, answers[1].Header.Get("X-Body"))
	}
}

// TestDeferOutsideTheFastPath: net/http's writers cannot defer.
func TestDeferOutsideTheFastPath(t *testing.T) {
	if Defer(httptest.NewRecorder()) != nil {
		t.Fatal("Defer took a writer that is not the fast path's")
	}
}
