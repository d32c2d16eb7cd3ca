package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
)

// ingressServer answers the ingress's POSTs as answer says, after delay,
// and keeps the ids of the events it read.
type ingressServer struct {
	*httptest.Server
	delay  time.Duration
	status atomic.Int32
	mu     sync.Mutex
	ids    map[string]int
}

func newIngressServer(t *testing.T, delay time.Duration) *ingressServer {
	s := &ingressServer{delay: delay, ids: map[string]int{}}
	s.status.Store(http.StatusAccepted)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := cloudevents.ReadRequest(r, 1<<20)
		if err != nil || len(e) != 1 {
			http.Error(w, fmt.Sprintf("%d events, %v", len(e), err), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.ids[e[0].ID]++
		s.mu.Unlock()
		time.Sleep(s.delay)
		w.WriteHeader(int(s.status.Load()))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *ingressServer) addr() string { return s.Listener.Addr().String() }

// distinct is how many different ids the server read, and the most times
// it read one.
func (s *ingressServer) distinct() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	most := 0
	for _, n := range s.ids {
		most = max(most, n)
	}
	return len(s.ids), most
}

func TestRunAnswersEveryRequest(t *testing.T) {
	for _, mode := range []string{"binary", "structured"} {
		t.Run(mode, func(t *testing.T) {
			srv := newIngressServer(t, 0)
			encode, err := IngressRequests(mode)
			if err != nil {
				t.Fatal(err)
			}
			ready := false
			l := &Load{Addr: srv.addr(), Conns: 8, Depth: 2, Encode: encode, Ready: func() { ready = true }}
			res, err := l.Run(500, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !ready || res.Answered != 500 || res.Elapsed <= 0 {
				t.Fatalf("ready %v, %d answered in %v, want 500", ready, res.Answered, res.Elapsed)
			}
			// Each request carried an event the ingress takes, each with
			// an id of its own.
			if n, most := srv.distinct(); n != 500 || most != 1 {
				t.Fatalf("the server read %d distinct ids, one of them %d times; want 500, once each", n, most)
			}
		})
	}
}

func TestRunAtRateCountsLatencyFromTheDueTime(t *testing.T) {
	const delay = 20 * time.Millisecond
	srv := newIngressServer(t, delay)
	encode, _ := IngressRequests("binary")
	l := &Load{Addr: srv.addr(), Conns: 64, Encode: encode}
	res, err := l.RunAtRate(1000, 300*time.Millisecond, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answered != 300 || len(res.Latencies) != 300 || len(res.AnsweredAt) != 300 {
		t.Fatalf("%d answered, %d latencies, %d times; want 300", res.Answered, len(res.Latencies), len(res.AnsweredAt))
	}
	for i, d := range res.Latencies {
		if d < delay {
			t.Fatalf("answer %d: latency %v, less than the server's delay %v", i, d, delay)
		}
	}
	// The requests fell due over 300 ms: the last answer comes after
	// that and the delay, not at once.
	if last := res.AnsweredAt[len(res.AnsweredAt)-1]; last < 300*time.Millisecond-time.Millisecond+delay {
		t.Fatalf("the last answer came at %v: the requests did not wait for their due time", last)
	}
	if n, most := srv.distinct(); n != 300 || most != 1 {
		t.Fatalf("the server read %d distinct ids, one of them %d times; want 300, once each", n, most)
	}
}

func TestRunAtRateWaitsForAFreeConnection(t *testing.T) {
	// Two connections, each busy 20 ms per request, cannot carry 1,000
	// requests a second: requests wait for a connection, are counted
	// late, and their latency grows from their due time.
	srv := newIngressServer(t, 20*time.Millisecond)
	encode, _ := IngressRequests("binary")
	l := &Load{Addr: srv.addr(), Conns: 2, Encode: encode}
	res, err := l.RunAtRate(1000, 100*time.Millisecond, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answered != 100 {
		t.Fatalf("%d answered, want 100", res.Answered)
	}
	if res.Late < 90 {
		t.Fatalf("%d of 100 late, want most", res.Late)
	}
	// The last request fell due at 99 ms and waited for about 49 others
	// on its connection: its latency is near a second, far more than one
	// request's 20 ms.
	if worst := res.Latencies[len(res.Latencies)-1]; worst < 500*time.Millisecond {
		t.Fatalf("the last answer's latency is %v, want the wait for a connection counted", worst)
	}
}

func TestRunFailsOnAnAnswerNot202(t *testing.T) {
	srv := newIngressServer(t, 0)
	srv.status.Store(http.StatusServiceUnavailable)
	encode, _ := IngressRequests("binary")
	for name, run := range map[string]func(*Load) (Result, error){
		"closed": func(l *Load) (Result, error) { return l.Run(10, time.Minute) },
		"rate":   func(l *Load) (Result, error) { return l.RunAtRate(100, 50*time.Millisecond, time.Minute) },
	} {
		_, err := run(&Load{Addr: srv.addr(), Conns: 2, Encode: encode})
		if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable") {
			t.Errorf("%s: %v, want the 503 answer quoted", name, err)
		}
	}
}

func TestRunFailsWhenTheServerCloses(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Read one request's head, then hang up without answering.
			go func() {
				bufio.NewReader(c).ReadString('\n')
				c.Close()
			}()
		}
	}()
	encode, _ := IngressRequests("binary")
	_, err = (&Load{Addr: ln.Addr().String(), Conns: 2, Encode: encode}).Run(10, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "closed a connection") {
		t.Fatalf("%v, want the closed connection reported", err)
	}
}

func TestRunRefusesNoConnections(t *testing.T) {
	encode, _ := IngressRequests("binary")
	if _, err := (&Load{Addr: "127.0.0.1:1", Encode: encode}).Run(1, time.Second); err == nil {
		t.Fatal("no error for a load of no connections")
	}
	if _, err := (&Load{Addr: "127.0.0.1:1", Conns: 1, Encode: encode}).RunAtRate(0, time.Second, time.Second); err == nil {
		t.Fatal("no error for a rate of 0")
	}
	if _, err := (&Load{Addr: "127.0.0.1:1", Conns: 1, Encode: encode}).RunAtRate(10, time.Millisecond, time.Second); err == nil {
		t.Fatal("no error for a run too short to send a request")
	}
}

func TestIngressRequestsRefusesAnUnknownMode(t *testing.T) {
	if _, err := IngressRequests("batch"); err == nil || !strings.Contains(err.Error(), `"batch"`) {
		t.Fatalf("%v, want the mode named", err)
	}
}

func TestParseAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n, rest  int
		err      string
	}{
		{name: "one", in: "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", n: 1},
		{name: "two and a part", in: "HTTP/1.1 202 Accepted\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 2", n: 2, rest: 10},
		{name: "body not all here", in: "HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nab", rest: 46},
		{name: "not 202", in: "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad", err: "400 Bad Request"},
		{name: "chunked", in: "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n", err: "chunked"},
		{name: "bad length", in: "HTTP/1.1 202 Accepted\r\nContent-Length: x\r\n\r\n", err: "Content-Length"},
		{name: "negative length", in: "HTTP/1.1 202 Accepted\r\nContent-Length: -1\r\n\r\n", err: "Content-Length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cn := &conn{in: []byte(tc.in), inflight: 5}
			n, err := parseAnswers(cn)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil || n != tc.n || len(cn.in) != tc.rest || cn.inflight != 5-tc.n {
				t.Fatalf("%d answers, %d bytes left, %d in flight, %v; want %d, %d, %d", n, len(cn.in), cn.inflight, err, tc.n, tc.rest, 5-tc.n)
			}
		})
	}
}

// FuzzParseAnswers feeds any bytes as answers: parsing never panics, and
// it consumes exactly the answers it counts.
func FuzzParseAnswers(f *testing.F) {
	f.Add([]byte("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 202 Accepted\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 202"))
	f.Add([]byte("HTTP/1.1 202 Accepted\r\nContent-Length: -1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		cn := &conn{in: bytes.Clone(in)}
		n, err := parseAnswers(cn)
		if n < 0 || -cn.inflight != n {
			t.Fatalf("%d answers, in flight %d", n, cn.inflight)
		}
		if err == nil && n > 0 && len(cn.in) >= len(in) {
			t.Fatalf("%d answers consumed nothing", n)
		}
	})
}
