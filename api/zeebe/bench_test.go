package zeebe

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
)

// BenchmarkGateway runs start → three service tasks → end through the
// gateway in one process: the Go client's JobWorkers complete the jobs and
// 256 goroutines create instances with results. It measures the gateway
// and engine without the cost of a second process (see the e2e package for
// that figure).
//
//	go test -run '^$' -bench Gateway -benchtime 20000x ./api/zeebe
func BenchmarkGateway(b *testing.B) {
	g := startGateway(b)
	deploy(b, g.client, "three-tasks.bpmn")
	handler := func(client worker.JobClient, job entities.Job) {
		if _, err := client.NewCompleteJobCommand().JobKey(job.Key).Send(context.Background()); err != nil {
			b.Error(err)
		}
	}
	var workers []worker.JobWorker
	for _, typ := range []string{"a", "b", "c"} {
		workers = append(workers, g.client.NewJobWorker().JobType(typ).Handler(handler).MaxJobsActive(256).Concurrency(32).
			RequestTimeout(time.Second).Open())
	}
	defer closeWorkers(workers)
	const inFlight = 256
	b.ResetTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < inFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				_, err := g.client.NewCreateInstanceCommand().BPMNProcessId("three").LatestVersion().WithResult().Send(ctx)
				cancel()
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "instances/s")
}
