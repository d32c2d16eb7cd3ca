package engine

import (
	"context"
	"sync/atomic"
	"time"
)

// jobWorkers runs, for each type given, a worker that behaves as Zeebe's
// JobWorker does: it keeps up to maxActive jobs in hand, completes each as
// soon as it has it, and activates more once fewer than 30% remain, so
// that the next jobs are on their way while the last ones complete.
func jobWorkers(ctx context.Context, e *Engine, maxActive int, types ...string) {
	threshold := int64(maxActive * 3 / 10)
	for _, typ := range types {
		go func() {
			var active atomic.Int64
			low := make(chan struct{}, 1)
			vars := []byte(`{"` + typ + `":1}`)
			for ctx.Err() == nil {
				if active.Load() > threshold {
					select {
					case <-low:
					case <-ctx.Done():
						return
					}
					continue
				}
				jobs, err := e.ActivateJobs(ctx, ActivateRequest{Type: typ, Worker: "w", Timeout: time.Minute,
					MaxJobs: maxActive - int(active.Load()), RequestTimeout: time.Second})
				if err != nil {
					return
				}
				active.Add(int64(len(jobs)))
				for _, j := range jobs {
					go func() {
						_ = e.CompleteJob(ctx, j.Key, vars)
						if active.Add(-1) <= threshold {
							select {
							case low <- struct{}{}:
							default:
							}
						}
					}()
				}
			}
		}()
	}
}
