package rest

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"eddy/engine"
	"eddy/internal/pgtest"
	"eddy/storage"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// backends are the storages every end-to-end test runs on.
var backends = []string{"pebble", "postgres"}

// testPartitions is more than one, so that cross-partition paths (a
// message on another partition than its instance) are always taken.
const testPartitions = 3

// openStore opens a fresh store on backend, closed when the test ends.
func openStore(t testing.TB, backend string) *storage.Store {
	t.Helper()
	location := ""
	switch backend {
	case "pebble":
		location = t.TempDir()
	case "postgres":
		location = pgtest.Schema(t)
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := storage.Open(ctx, backend, location, storage.WithPartitions(testPartitions))
	if err != nil {
		t.Fatalf("opening %s storage: %v", backend, err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// startEngine claims every partition of store and runs an engine on them.
func startEngine(t testing.TB, store *storage.Store) *engine.Engine {
	t.Helper()
	ctx := context.Background()
	epochs := map[int]uint64{}
	for p := 0; p < store.Partitions(); p++ {
		claim, err := store.Ownership().ClaimPartition(ctx, p, "rest-test", time.Minute)
		if err != nil {
			t.Fatalf("claiming partition %d: %v", p, err)
		}
		epochs[p] = claim.Epoch
	}
	e, err := engine.Start(ctx, store, engine.Options{Epochs: epochs})
	if err != nil {
		t.Fatalf("starting the engine: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// serve runs the API of a fresh engine on backend over HTTP and returns
// its address.
func serve(t testing.TB, backend string) string {
	t.Helper()
	e := startEngine(t, openStore(t, backend))
	srv := httptest.NewServer(New(e))
	t.Cleanup(srv.Close)
	return srv.URL
}

// fixture reads testdata/name.
func fixture(t testing.TB, name string) File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return File{Name: name, Content: data}
}

// deploy deploys fixtures and fails the test on error.
func deploy(t testing.TB, c *Client, names ...string) DeployResponse {
	t.Helper()
	files := make([]File, len(names))
	for i, n := range names {
		files[i] = fixture(t, n)
	}
	dep, err := c.Deploy(context.Background(), files...)
	if err != nil {
		t.Fatalf("deploying %v: %v", names, err)
	}
	return dep
}

func testContext(t testing.TB) context.Context {
	// A guard against a hung test, not a measurement.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
