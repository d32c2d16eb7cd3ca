package processor_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/processor"
	"eddy/storage"
)

// replayRecords is the size of the replay benchmark's log: 1,000,000 by
// default, EDDY_BENCH_REPLAY_RECORDS=10000000 for the figure in
// docs/benchmarks.md. The log is filled once per `go test -bench` run.
func replayRecords(b *testing.B) int {
	if s := os.Getenv("EDDY_BENCH_REPLAY_RECORDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("EDDY_BENCH_REPLAY_RECORDS=%q: want a positive count", s)
		}
		return n
	}
	return 1_000_000
}

// fillReplayLog appends n records of 200 bytes over the store's partitions,
// in batches of 1000, from one goroutine per partition.
func fillReplayLog(b *testing.B, st *storage.Store, n int) {
	record := make([]byte, 200)
	for i := range record {
		record[i] = byte(i)
	}
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = record
	}
	parts := st.Partitions()
	var wg sync.WaitGroup
	for p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			left := n / parts
			if p < n%parts {
				left++
			}
			for left > 0 {
				k := min(left, len(batch))
				if _, err := st.Append(context.Background(), p, 0, batch[:k]...); err != nil {
					b.Error(err)
					return
				}
				left -= k
			}
		}()
	}
	wg.Wait()
}

// replays numbers the replay benchmark's processors: each starts afresh.
var replays atomic.Int64

// BenchmarkReplay replays the whole log through a no-op handler, from a
// fresh processor each iteration (a reset to the tail costs the same), and
// reports events/s. Run it with -benchtime 1x for a large log.
func BenchmarkReplay(b *testing.B) {
	n := replayRecords(b)
	parent := b
	fixture := sync.OnceValues(func() (*storage.Store, error) {
		dir, err := os.MkdirTemp("", "eddy-replay-bench-")
		if err != nil {
			return nil, err
		}
		parent.Cleanup(func() { os.RemoveAll(dir) })
		st, err := storage.Open(context.Background(), "pebble", dir)
		if err != nil {
			return nil, err
		}
		parent.Cleanup(func() { st.Close() })
		started := time.Now()
		fillReplayLog(parent, st, n)
		parent.Logf("filled a log of %d records in %v", n, time.Since(started).Round(time.Millisecond))
		return st, nil
	})
	noop := processor.HandlerFunc(func(context.Context, processor.Delivery) error { return nil })
	for _, tc := range []struct {
		segments, batch int
		mode            processor.Mode
	}{
		{1, 1000, processor.Pooled},
		{16, 1000, processor.Pooled},
		{1, 100, processor.Pooled},
		{16, 100, processor.Pooled},
	} {
		b.Run(fmt.Sprintf("records=%d/segments=%d/batch=%d", n, tc.segments, tc.batch), func(b *testing.B) {
			st, err := fixture()
			if err != nil {
				b.Fatal(err)
			}
			src := processor.NewLogSource(st)
			b.ResetTimer()
			for range b.N {
				p, err := processor.New(fmt.Sprintf("replay-%d", replays.Add(1)), st, src, noop,
					processor.WithMode(tc.mode), processor.WithInitialSegments(tc.segments), processor.WithBatchSize(tc.batch))
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				waitCaughtUp(b, p, tc.segments)
				b.StopTimer()
				if err := p.Stop(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// waitCaughtUp polls until every segment has handled the whole log.
func waitCaughtUp(b *testing.B, p *processor.Processor, segments int) {
	for {
		sts, err := p.Status(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		done := len(sts) == segments
		for _, s := range sts {
			if s.Err != nil {
				b.Fatal(s.Err)
			}
			done = done && s.CaughtUp && s.Lag == 0
		}
		if done {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkLatency appends one record at a time and measures how long it
// takes from the call to Append to the handler, reporting p50 and p99 in
// milliseconds. Each append is a durable commit, so the figure includes the
// sync.
func BenchmarkLatency(b *testing.B) {
	for _, bk := range backends {
		for _, segments := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/segments=%d", bk.name, segments), func(b *testing.B) {
				st := bk.fresh(b)
				var mu sync.Mutex
				lat := make([]time.Duration, 0, b.N)
				got := make(chan struct{}, 1)
				h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
					sent := time.Unix(0, int64(binary.BigEndian.Uint64(d.Data)))
					mu.Lock()
					lat = append(lat, time.Since(sent))
					mu.Unlock()
					got <- struct{}{}
					return nil
				})
				p, err := processor.New("latency", st, processor.NewLogSource(st), h, processor.WithInitialSegments(segments))
				if err != nil {
					b.Fatal(err)
				}
				if err := p.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				defer p.Stop(context.Background())
				data := make([]byte, 200)
				b.ResetTimer()
				for i := range b.N {
					binary.BigEndian.PutUint64(data, uint64(time.Now().UnixNano()))
					if _, err := st.Append(context.Background(), i%st.Partitions(), 0, data); err != nil {
						b.Fatal(err)
					}
					<-got
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
				b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			})
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
