// Package storagetest is the conformance suite every storage backend must
// pass, and the benchmarks they share.
//
// A backend's own test runs the suite through the public API only
// (storage.Open and the Store it returns):
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, "pebble", func(t testing.TB) string { return t.TempDir() }, storagetest.Features{})
//	}
//
//	func BenchmarkStore(b *testing.B) {
//		storagetest.Bench(b, "pebble", func(tb testing.TB) string { return tb.TempDir() })
//	}
//
// newLocation must return a fresh, empty location on every call; each
// subtest asks for its own. Features declares optional abilities: tests of
// an ability a backend lacks are skipped, never failed.
//
// The suite never asserts durations: time that matters (append timestamps,
// claim timeouts) comes from a fake Clock, and deadlines only guard against
// a hang.
package storagetest
