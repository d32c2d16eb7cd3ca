package broker

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/internal/gctarget"
	"eddy/internal/http1"
	"eddy/internal/loadgen"
)

// benchClient keeps its connections alive across requests.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxIdleConns: 1024}}

// BenchmarkIngress posts single events, concurrently, over keep-alive
// connections; every 202 means the event is durable on the log.
func BenchmarkIngress(b *testing.B) {
	for _, mode := range []string{"binary", "structured"} {
		b.Run(mode, func(b *testing.B) {
			env := newEnv(b, WithJobWorker(false, 1))
			url := env.srv.URL + "/v1/events"
			var seq atomic.Int64
			data := []byte(`{"customer":"c-1","tickets":2}`)
			b.SetParallelism(128)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := strconv.FormatInt(seq.Add(1), 10)
					var req *http.Request
					if mode == "binary" {
						req, _ = http.NewRequest("POST", url, bytes.NewReader(data))
						req.Header["Ce-Specversion"] = []string{"1.0"}
						req.Header["Ce-Id"] = []string{id}
						req.Header["Ce-Source"] = []string{"/bench"}
						req.Header["Ce-Type"] = []string{"bench.event"}
						req.Header["Content-Type"] = []string{"application/json"}
					} else {
						e := event("bench.event", id)
						e.Data = data
						req, _ = http.NewRequest("POST", url, bytes.NewReader(cloudevents.AppendJSON(nil, &e)))
						req.Header["Content-Type"] = []string{cloudevents.MediaTypeJSON}
					}
					resp, err := benchClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// Connections and pipelining of BenchmarkIngressRaw.
var (
	rawConns = flag.Int("ingress.conns", 256, "BenchmarkIngressRaw: keep-alive connections, each an event in flight at the server")
	rawDepth = flag.Int("ingress.depth", 1, "BenchmarkIngressRaw: requests pipelined on each connection (1: plain keep-alive, as most clients)")
)

// BenchmarkIngressRaw is BenchmarkIngress with a load generator that
// leaves the server its cores and its scheduler: eddy/internal/loadgen (one thread,
// epoll, pre-encoded requests) in a process of its own, this test binary
// started again, as wrk would be. The server's CPU per event is this
// process's, the client's that process's; both are reported.
//
// The floors are the same binary-mode load on a handler that reads the
// body and answers 202 at once: http-floor on net/http, fast-floor on the
// lean HTTP/1.1 path the ingress is served by (eddy/internal/http1). They
// are what HTTP and the loopback cost with no broker and no engine. The
// garbage collector runs at the binary's target (gctarget).
func BenchmarkIngressRaw(b *testing.B) {
	defer gctarget.Apply()() // the binary's garbage collector target
	for _, mode := range []string{"binary", "structured", "http-floor", "fast-floor"} {
		b.Run(mode, func(b *testing.B) {
			var addr string
			var env *testEnv
			floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusAccepted)
			})
			switch mode {
			case "http-floor":
				srv := httptest.NewServer(floor)
				b.Cleanup(srv.Close)
				addr = srv.Listener.Addr().String()
			case "fast-floor":
				ln, err := net.Listen("tcp4", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				srv := &http1.Server{Route: func(string, string) http.Handler { return floor }, Fallback: &http.Server{}}
				go srv.Serve(ln)
				b.Cleanup(func() { srv.Close() })
				addr = ln.Addr().String()
			default:
				// The node's intervals, not the tests' short ones.
				env = newEnv(b, WithJobWorker(false, 1), WithClaimInterval(5*time.Second),
					WithRefreshInterval(DefaultRefreshInterval))
				addr = env.srv.Listener.Addr().String()
			}
			encoding := mode
			if strings.HasSuffix(mode, "-floor") {
				encoding = "binary"
			}
			// A warm-up, as wrk users give a server: connections, buffers,
			// the memtable's first pages and the heap's size settle.
			warm := int64(min(b.N, 20000))
			if _, _, err := runRawClient(addr, encoding, warm); err != nil && !errors.Is(err, loadgen.ErrUnsupported) {
				b.Fatal(err)
			}
			b.ResetTimer()
			res, serverCPU, err := runRawClient(addr, encoding, int64(b.N))
			b.StopTimer()
			if errors.Is(err, loadgen.ErrUnsupported) {
				b.Skip(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			if env != nil {
				// Every event was written: none was answered as a duplicate.
				if logged := env.logged(); logged != warm+int64(b.N) {
					b.Fatalf("the log holds %d events, want %d (the warm-up's and the run's)", logged, warm+int64(b.N))
				}
			}
			n := float64(b.N)
			b.ReportMetric(n/res.Elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(serverCPU.Nanoseconds())/1e3/n, "server-cpu-us/event")
			b.ReportMetric(float64(res.ClientCPU.Nanoseconds())/1e3/n, "client-cpu-us/event")
		})
	}
}

// rawClientEnv, when set, makes this test binary BenchmarkIngressRaw's
// client: "address encoding requests connections depth".
const rawClientEnv = "EDDY_BENCH_RAW_CLIENT"

func TestMain(m *testing.M) {
	if spec, ok := os.LookupEnv(rawClientEnv); ok {
		os.Exit(rawClientMain(spec))
	}
	os.Exit(m.Run())
}

// runRawClient runs n requests from a client process of its own and
// returns what the client measured and this process's CPU meanwhile.
func runRawClient(addr, encoding string, n int64) (loadgen.Result, time.Duration, error) {
	var res loadgen.Result
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d %d %d", rawClientEnv, addr, encoding, n, *rawConns, *rawDepth))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, 0, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, 0, err
	}
	if err := cmd.Start(); err != nil {
		return res, 0, err
	}
	defer cmd.Wait()
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil || line != "ready\n" {
		return res, 0, fmt.Errorf("raw client: %q, %v", line, err)
	}
	cpu0 := loadgen.ProcessCPU()
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		return res, 0, err
	}
	line, err = out.ReadString('\n')
	cpu := loadgen.ProcessCPU() - cpu0
	if err != nil {
		return res, 0, fmt.Errorf("raw client: %v", err)
	}
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		if strings.TrimSpace(msg) == loadgen.ErrUnsupported.Error() {
			return res, 0, loadgen.ErrUnsupported
		}
		return res, 0, errors.New(strings.TrimSpace(msg))
	}
	if _, err := fmt.Sscanf(line, "done %d %d", &res.Elapsed, &res.ClientCPU); err != nil {
		return res, 0, fmt.Errorf("raw client: %q: %v", line, err)
	}
	return res, cpu, nil
}

// rawClientMain is the client process: it connects, says "ready", waits
// for "go", runs and says "done <elapsed ns> <its CPU ns>" or
// "error <why>".
func rawClientMain(spec string) int {
	load := &loadgen.Load{}
	var encoding string
	var n int64
	if _, err := fmt.Sscan(spec, &load.Addr, &encoding, &n, &load.Conns, &load.Depth); err != nil {
		fmt.Printf("error %s=%q: %v\n", rawClientEnv, spec, err)
		return 2
	}
	encode, err := loadgen.IngressRequests(encoding)
	if err != nil {
		fmt.Printf("error %v\n", err)
		return 2
	}
	load.Encode = encode
	var cpu0 time.Duration
	load.Ready = func() {
		fmt.Println("ready")
		bufio.NewReader(os.Stdin).ReadString('\n')
		cpu0 = loadgen.ProcessCPU()
	}
	res, err := load.Run(n, 5*time.Minute)
	if err != nil {
		fmt.Printf("error %v\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	fmt.Printf("done %d %d\n", res.Elapsed, loadgen.ProcessCPU()-cpu0)
	return 0
}

// BenchmarkIngressBatch posts batches of 100 events.
func BenchmarkIngressBatch(b *testing.B) {
	env := newEnv(b, WithJobWorker(false, 1))
	url := env.srv.URL + "/v1/events"
	var seq atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		events := make([]cloudevents.Event, 100)
		for pb.Next() {
			for i := range events {
				events[i] = event("bench.event", strconv.FormatInt(seq.Add(1), 10))
			}
			resp, err := benchClient.Post(url, cloudevents.MediaTypeJSONBatch, bytes.NewReader(cloudevents.AppendJSONBatch(nil, events)))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkIngressToSubscriber measures, one event at a time, the time from
// posting an event to its trigger's subscriber receiving it.
func BenchmarkIngressToSubscriber(b *testing.B) {
	env := newEnv(b, WithJobWorker(false, 1))
	var mu sync.Mutex
	arrived := map[string]chan struct{}{}
	sub := newSubscriber(b, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		mu.Lock()
		ch := arrived[e.ID]
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		if ch != nil {
			close(ch)
		}
	})
	env.putTrigger("default", "latency", triggerYAML("latency", "bench.latency", sub.URL, ""))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := strconv.Itoa(i)
		ch := make(chan struct{})
		mu.Lock()
		arrived[id] = ch
		mu.Unlock()
		e := event("bench.latency", id)
		start := time.Now()
		resp, err := benchClient.Post(env.srv.URL+"/v1/events", cloudevents.MediaTypeJSON, bytes.NewReader(cloudevents.AppendJSON(nil, &e)))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		select {
		case <-ch:
		case <-time.After(20 * time.Second):
			b.Fatalf("event %s never reached the subscriber", id)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkPublish calls Broker.Publish directly, concurrently: the
// engine's share of the ingress's cost.
func BenchmarkPublish(b *testing.B) {
	env := newEnv(b, WithJobWorker(false, 1))
	var seq atomic.Int64
	b.SetParallelism(256)
	cpu0 := loadgen.ProcessCPU()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := env.b.Publish(b.Context(), event("bench.event", strconv.FormatInt(seq.Add(1), 10))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64((loadgen.ProcessCPU()-cpu0).Nanoseconds())/1e3/float64(b.N), "cpu-us/event")
}
