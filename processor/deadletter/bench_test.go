package deadletter

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"eddy/internal/pgtest"
	"eddy/storage"
)

// benchStores opens a fresh store of each backend for a benchmark.
var benchStores = []struct {
	name string
	open func(b *testing.B) *storage.Store
}{
	{"pebble", func(b *testing.B) *storage.Store {
		return testBackend{name: "pebble", location: b.TempDir()}.open(b)
	}},
	{"postgres", func(b *testing.B) *storage.Store {
		return testBackend{name: "postgres", location: pgtest.Schema(b)}.open(b)
	}},
}

// benchSequences is how many sequences the enqueue benchmarks spread over.
const benchSequences = 256

// BenchmarkEnqueue: durable enqueues spread over 256 existing sequences, one
// caller at a time and from 16 goroutines (whose commits the store groups).
// On PostgreSQL the queue takes node locks, as several nodes would need.
func BenchmarkEnqueue(b *testing.B) {
	for _, s := range benchStores {
		for _, parallel := range []bool{false, true} {
			name := s.name + "/sequential"
			if parallel {
				name = s.name + "/parallel"
			}
			b.Run(name, func(b *testing.B) {
				q := openQueue(b, s.open(b), "bench", WithMaxSequenceSize(1<<30))
				ctx := context.Background()
				l := letter("s", 1)
				l.Event.Payload = make([]byte, 200)
				var n atomic.Uint64
				enqueue := func() error {
					i := n.Add(1)
					l := l
					l.SequenceID = fmt.Sprint("s", i%benchSequences)
					l.Event.Position = i
					return q.Enqueue(ctx, l)
				}
				// Warm up: the sequences exist and the connections are
				// open, so that what is timed is the steady state.
				for range benchSequences {
					if err := enqueue(); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				if parallel {
					b.SetParallelism(8)
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := enqueue(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				} else {
					for b.Loop() {
						if err := enqueue(); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "letters/s")
			})
		}
	}
}

// BenchmarkContains: the processor's check for every event. It reads no
// storage, so one backend is enough.
func BenchmarkContains(b *testing.B) {
	for _, tt := range []struct {
		name      string
		sequences int
		probe     string
	}{
		{"empty", 0, "s1"},
		{"miss-of-1000", 1000, "other"},
		{"hit-of-1000", 1000, "s500"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			q := openQueue(b, benchStores[0].open(b), "bench")
			for i := range tt.sequences {
				mustEnqueue(b, q, letter(fmt.Sprint("s", i), uint64(i)))
			}
			ctx := context.Background()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := q.Contains(ctx, tt.probe); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkEnqueueIfPresentMiss: what a processor pays per event while its
// queue is empty.
func BenchmarkEnqueueIfPresentMiss(b *testing.B) {
	q := openQueue(b, benchStores[0].open(b), "bench")
	ctx := context.Background()
	build := func() Letter { return letter("s", 1) }
	for b.Loop() {
		if parked, err := q.EnqueueIfPresent(ctx, "s", build); parked || err != nil {
			b.Fatal(parked, err)
		}
	}
}

// BenchmarkProcess: letters retried successfully per second, through a
// no-op handler, from sequences of 100 letters.
func BenchmarkProcess(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			q := openQueue(b, s.open(b), "bench")
			ctx := context.Background()
			noop := func(context.Context, Letter) error { return nil }
			handled := 0
			for b.Loop() {
				b.StopTimer()
				for i := range 100 {
					mustEnqueue(b, q, letter("s", uint64(i)))
				}
				b.StartTimer()
				if processed, err := q.Process(ctx, noop, nil); !processed || err != nil {
					b.Fatal(processed, err)
				}
				handled += 100
			}
			b.ReportMetric(float64(handled)/b.Elapsed().Seconds(), "letters/s")
		})
	}
}
