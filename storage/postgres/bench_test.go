package postgres

import (
	"sync"
	"sync/atomic"
	"testing"

	"eddy/internal/pgtest"
	"eddy/storage"
)

// BenchmarkAppend16x10 is the throughput target's shape: 16 concurrent
// appenders, each committing batches of 10 records of 200 bytes through the
// Store's group commit. One op is one batch; records/s is the figure to read.
func BenchmarkAppend16x10(b *testing.B) {
	const appenders, perBatch, size = 16, 10, 200
	ctx := guard(b)
	s, err := storage.Open(ctx, "postgres", pgtest.Schema(b), storage.WithPartitions(4))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	records := make([][]byte, perBatch)
	for i := range records {
		records[i] = make([]byte, size)
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	var wg sync.WaitGroup
	errs := make(chan error, appenders)
	b.SetBytes(perBatch * size)
	b.ResetTimer()
	for w := range appenders {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if _, err := s.Append(ctx, w%s.Partitions(), 0, records...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	m := s.Metrics()
	b.ReportMetric(float64(b.N*perBatch)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(m.Batches.Load())/float64(max(m.Groups.Load(), 1)), "batches/group")
}
