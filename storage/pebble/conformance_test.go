package pebble_test

import (
	"testing"

	"eddy/storage/storagetest"
)

func newDir(t testing.TB) string { return t.TempDir() }

func TestConformance(t *testing.T) {
	storagetest.Run(t, "pebble", newDir, storagetest.Features{})
}

func BenchmarkStore(b *testing.B) {
	storagetest.Bench(b, "pebble", newDir)
}
