package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"eddy/storage"
)

// benchRecordSize is the size of every benchmark record, about that of an
// engine record.
const benchRecordSize = 200

// Bench runs the shared benchmarks against backend, b.N counting records of
// 200 bytes and every benchmark reporting records/s:
//
//   - Append/appenders=A/batch=N: A goroutines (1 or 16, spread over the
//     partitions) commit b.N records in batches of N (1, 10, 100); every
//     commit is durable. It also reports batches/group, the group-commit gain.
//   - Read: sequential reads through Store.Read in chunks of 1000 over a log
//     of 100,000 records filled once.
//   - Tail: a Tail follows one goroutine appending batches of 100.
//
// newLocation returns a fresh, empty location.
func Bench(b *testing.B, backend string, newLocation func(tb testing.TB) string) {
	s := &suite{backend: backend, newLocation: newLocation}
	b.Run("Append", func(b *testing.B) {
		for _, appenders := range []int{1, 16} {
			for _, batch := range []int{1, 10, 100} {
				b.Run(fmt.Sprintf("appenders=%d/batch=%d", appenders, batch), func(b *testing.B) {
					benchAppend(b, s, appenders, batch)
				})
			}
		}
	})
	// The Read benchmark's log is filled once, for all its runs; the
	// parent closes it when every benchmark is done.
	parent := b
	filled := sync.OnceValues(func() (*store, error) { return fillReadLog(parent, s) })
	b.Run("Read", func(b *testing.B) {
		st, err := filled()
		if err != nil {
			b.Fatal(err)
		}
		benchRead(b, st)
	})
	b.Run("Tail", func(b *testing.B) { benchTail(b, s) })
}

// benchRecord returns a record of benchRecordSize bytes.
func benchRecord(i int) []byte {
	r := make([]byte, benchRecordSize)
	for j := range r {
		r[j] = byte(i + j*31)
	}
	return r
}

// reportRecords reports the records/s metric.
func reportRecords(b *testing.B, records int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(records)/s, "records/s")
	}
}

// benchAppend commits b.N records in batches of batch, split over
// appenders goroutines, each on its own partition where there are enough.
func benchAppend(b *testing.B, s *suite, appenders, batch int) {
	st := s.fresh(b)
	ctx := context.Background()
	data := make([][]byte, batch)
	for i := range data {
		data[i] = benchRecord(i)
	}
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	var failed sync.Once
	for a := range appenders {
		n := b.N / appenders
		if a < b.N%appenders {
			n++
		}
		p := a % st.Partitions()
		wg.Go(func() {
			bt := storage.NewBatch(p, 0)
			for n > 0 {
				k := min(batch, n)
				bt.Reset(p, 0)
				bt.Append(data[:k]...)
				if _, err := st.Commit(ctx, bt); err != nil {
					failed.Do(func() { b.Errorf("appender %d: commit to partition %d: %v", a, p, err) })
					return
				}
				n -= k
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	reportRecords(b, b.N)
	m := st.Metrics()
	if g := m.Groups.Load(); g > 0 {
		b.ReportMetric(float64(m.Batches.Load())/float64(g), "batches/group")
	}
}

// benchReadRecords is how many records the Read benchmark reads over,
// cycling as b.N needs.
const benchReadRecords = 100_000

// fillReadLog opens a store and appends benchReadRecords records to
// partition 0.
func fillReadLog(tb testing.TB, s *suite) (*store, error) {
	st, err := s.tryOpen(tb, s.newLocation(tb))
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	data := make([][]byte, 1000)
	for i := range data {
		data[i] = benchRecord(i)
	}
	for filled := 0; filled < benchReadRecords; filled += len(data) {
		if _, err := st.Append(context.Background(), 0, 0, data...); err != nil {
			return nil, fmt.Errorf("pre-fill: %w", err)
		}
	}
	return st, nil
}

// benchRead reads partition 0 of st sequentially in chunks of 1000,
// starting over at its end.
func benchRead(b *testing.B, st *store) {
	ctx := context.Background()
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	b.ResetTimer()
	pos, total := uint64(1), 0
	for total < b.N {
		n := 0
		err := st.Read(ctx, 0, pos, min(1000, b.N-total), func(e storage.Entry) error {
			if len(e.Data) != benchRecordSize {
				return fmt.Errorf("position %d holds %d bytes, want %d", e.Position, len(e.Data), benchRecordSize)
			}
			pos = e.Position + 1
			n++
			return nil
		})
		if err != nil {
			b.Fatalf("read partition 0 from %d: %v", pos, err)
		}
		if n == 0 {
			pos = 1 // past the end: start over
			continue
		}
		total += n
	}
	b.StopTimer()
	reportRecords(b, total)
}

// benchTail measures a tail following one writer that appends batches of
// 100; b.N counts records the tail receives.
func benchTail(b *testing.B, s *suite) {
	st := s.fresh(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := make([][]byte, 100)
	for i := range data {
		data[i] = benchRecord(i)
	}
	tail, err := st.Tail(0, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchRecordSize)
	b.ReportAllocs()
	b.ResetTimer()
	writer := make(chan error, 1)
	go func() {
		for left := b.N; left > 0; left -= len(data) {
			if _, err := st.Append(ctx, 0, 0, data[:min(len(data), left)]...); err != nil {
				writer <- err
				cancel() // unblock the tail
				return
			}
		}
		writer <- nil
	}()
	got := 0
	for got < b.N {
		n, err := tail.Next(ctx, 1000, func(e storage.Entry) error {
			if len(e.Data) != benchRecordSize {
				return fmt.Errorf("position %d holds %d bytes, want %d", e.Position, len(e.Data), benchRecordSize)
			}
			return nil
		})
		if err != nil {
			select {
			case werr := <-writer:
				if werr != nil {
					b.Fatalf("writer: %v", werr)
				}
			default:
			}
			b.Fatalf("tail after %d records: %v", got, err)
		}
		got += n
	}
	b.StopTimer()
	if err := <-writer; err != nil {
		b.Fatalf("writer: %v", err)
	}
	reportRecords(b, got)
}
