package e2e

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
)

// BenchmarkThreeServiceTasks measures the gateway as Zeebe users meet it:
// `eddy dev` in one process, the Go client's JobWorkers for the three job
// types in a second, and this process creating instances of start → three
// service tasks → end with their results, inFlight at a time, with the Go
// client. It reports instances/s and the create-with-result latency.
//
//	go test -run '^$' -bench ThreeServiceTasks -benchtime 20000x ./api/zeebe/e2e
func BenchmarkThreeServiceTasks(b *testing.B) {
	e := startEddy(b, nil)
	c := e.client(b)
	deployFixtures(b, c, "three-tasks.bpmn")
	startWorker(b, e.grpc)
	for _, inFlight := range []int{256, 1} {
		b.Run(fmt.Sprintf("in_flight=%d", inFlight), func(b *testing.B) {
			// A warm-up, so that connections and the first instances'
			// set-up do not count.
			runInstances(b, c, min(b.N, 500), inFlight)
			b.ResetTimer()
			start := time.Now()
			lat := runInstances(b, c, b.N, inFlight)
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "instances/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// runInstances creates n instances with results, inFlight at a time, and
// returns each request's latency.
func runInstances(b *testing.B, c zbc.Client, n, inFlight int) []time.Duration {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	for g := 0; g < inFlight; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || failed.Load() != nil {
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				begin := time.Now()
				_, err := c.NewCreateInstanceCommand().BPMNProcessId("three").LatestVersion().WithResult().Send(ctx)
				lat[i] = time.Since(begin)
				cancel()
				if err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("creating an instance with its result: %v", err)
	}
	return lat
}
