package broker

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
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
}
