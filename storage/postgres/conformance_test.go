package postgres

import (
	"testing"

	"eddy/internal/pgtest"
	"eddy/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, "postgres", pgtest.Schema, storagetest.Features{SharedLocation: true})
}

func BenchmarkStore(b *testing.B) {
	storagetest.Bench(b, "postgres", pgtest.Schema)
}
