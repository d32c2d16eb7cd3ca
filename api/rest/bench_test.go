package rest

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"eddy/engine"
	"eddy/internal/gctarget"
)

var (
	loadFor  = flag.Duration("rest.load", 0, "run TestCreateWithResultAtSteadyRate for this long (e.g. 5s)")
	loadRate = flag.Int("rest.rate", 1000, "requests per second of TestCreateWithResultAtSteadyRate")
)

// benchClient serves a fresh engine on pebble (durable) with the default
// partition count, with the start → end process deployed.
func benchClient(tb testing.TB) (*Client, *engine.Engine) {
	tb.Helper()
	e := startEngine(tb, openStore(tb, "pebble"))
	srv := httptest.NewServer(New(e))
	tb.Cleanup(srv.Close)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}}
	c := NewClient(srv.URL, hc)
	deploy(tb, c, "start-end.bpmn")
	return c, e
}

var createNoop = CreateInstanceRequest{BpmnProcessID: "noop", Variables: json.RawMessage(`{"orderId": "o-1", "total": 12.5}`),
	Await: Await{AwaitCompletion: true}}

// TestCreateWithResultAtSteadyRate sends create-with-result requests for a
// start → end process at a steady rate, first to the engine directly, then
// over HTTP, and reports the latency percentiles of both: the difference is
// what the REST layer costs. The load is open loop (a slow answer does not
// delay the next request; latency counts from when a request was due). It
// fails only if a request fails.
//
//	go test ./api/rest -run SteadyRate -v -rest.load=5s -rest.rate=1000
func TestCreateWithResultAtSteadyRate(t *testing.T) {
	if *loadFor == 0 {
		t.Skip("a load test: run with -rest.load=5s")
	}
	defer gctarget.Apply()()
	c, e := benchClient(t)
	ctx := context.Background()
	direct := engine.CreateRequest{BpmnProcessID: createNoop.BpmnProcessID, Variables: createNoop.Variables}
	phases := []struct {
		name string
		call func() error
	}{
		{"engine", func() error {
			_, out, err := e.CreateInstanceWithResult(ctx, direct, DefaultAwaitTimeout)
			if err == nil && !out.Completed {
				err = errors.New("the instance did not complete")
			}
			return err
		}},
		{"HTTP", func() error {
			res, err := c.CreateInstance(ctx, createNoop)
			if err == nil && res.State != "COMPLETED" {
				err = errors.New("the instance ended " + res.State)
			}
			return err
		}},
	}
	for _, ph := range phases {
		// Warm up the engine and, at twice the rate, the connection pool.
		if _, _, err := steadyLoad(2000, 100*time.Millisecond, ph.call); err != nil {
			t.Fatal(err)
		}
		latencies, elapsed, err := steadyLoad(*loadRate, *loadFor, ph.call)
		if err != nil {
			t.Fatalf("%s: a request failed: %v", ph.name, err)
		}
		pct := func(p float64) time.Duration {
			return latencies[int(float64(len(latencies)-1)*p)].Round(10 * time.Microsecond)
		}
		t.Logf("%-6s %d create-with-result requests in %v (%.0f/s): p50 %v, p90 %v, p99 %v, p99.9 %v, max %v",
			ph.name, len(latencies), elapsed.Round(time.Millisecond), float64(len(latencies))/elapsed.Seconds(),
			pct(0.50), pct(0.90), pct(0.99), pct(0.999), latencies[len(latencies)-1].Round(10*time.Microsecond))
	}
}

// steadyLoad calls call rate times a second for d, each in its own
// goroutine, and returns the sorted latencies, counted from when each call
// was due.
func steadyLoad(rate int, d time.Duration, call func() error) ([]time.Duration, time.Duration, error) {
	interval := time.Second / time.Duration(rate)
	total := int(d / interval)
	latencies := make([]time.Duration, total)
	errs := make(chan error, total)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range total {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := call()
			latencies[i] = time.Since(due)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	slices.Sort(latencies)
	return latencies, elapsed, <-errs
}

// BenchmarkCreateWithResult: closed loop, parallel clients (GOMAXPROCS ×
// -cpu multiplier via SetParallelism), reporting throughput and latency
// percentiles.
//
//	go test -run x -bench CreateWithResult -benchtime 20000x ./api/rest
func BenchmarkCreateWithResult(b *testing.B) {
	c, _ := benchClient(b)
	ctx := context.Background()
	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if _, err := c.CreateInstance(ctx, createNoop); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		latencies = append(latencies, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(len(latencies))/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}
