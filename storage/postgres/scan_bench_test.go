package postgres

import (
	"fmt"
	"testing"

	"eddy/internal/pgtest"
	"eddy/storage"
)

// BenchmarkScan reads a prefix of small values whole, as an engine's load
// of a partition's state does.
func BenchmarkScan(b *testing.B) {
	be := openBackend(b, pgtest.Schema(b), 1)
	st := storage.New(be, "postgres", 0)
	const n = 20000
	bt := storage.NewBatch(0, 0)
	for i := range n {
		bt.Put(fmt.Appendf(nil, "k/%06d", i), make([]byte, 150))
	}
	commit(b, be, bt)
	for b.Loop() {
		read := 0
		if err := st.Scan(b.Context(), 0, []byte("k/"), func(k, v []byte) error { read++; return nil }); err != nil || read != n {
			b.Fatalf("scan: %v after %d keys, want %d", err, read, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
}
