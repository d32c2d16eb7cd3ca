package processor_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"eddy/internal/pgtest"
	"eddy/processor"
	"eddy/storage"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// backend is a storage backend the behaviour tests run on.
type backend struct {
	name string
	// location returns a fresh, empty location.
	location func(t testing.TB) string
	// shared: several stores may open one location (several nodes).
	shared bool
}

var backends = []backend{
	{name: "pebble", location: func(t testing.TB) string { return t.TempDir() }},
	{name: "postgres", location: pgtest.Schema, shared: true},
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// open opens a store at location, closed when the test ends.
func (b backend) open(t testing.TB, location string, opts ...storage.Opt) *storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := storage.Open(ctx, b.name, location, opts...)
	if err != nil {
		t.Fatalf("open %s store: %v", b.name, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close %s store: %v", b.name, err)
		}
	})
	return st
}

// fresh opens a store at a new location.
func (b backend) fresh(t testing.TB, opts ...storage.Opt) *storage.Store {
	t.Helper()
	return b.open(t, b.location(t), opts...)
}

// record is the test's log record: "key/n", n counting the key's events.
func record(key string, n int) []byte { return []byte(key + "/" + strconv.Itoa(n)) }

// decodeRecord is the test's log decoder: the key is what precedes "/".
func decodeRecord(_ int, e storage.Entry) (processor.Event, error) {
	i := bytes.IndexByte(e.Data, '/')
	if i < 0 {
		return processor.Event{}, fmt.Errorf("record %q has no key", e.Data)
	}
	return processor.Event{Key: string(e.Data[:i]), Type: "test", Data: e.Data}, nil
}

// recordNumber is n of a "key/n" record.
func recordNumber(t testing.TB, data []byte) int {
	i := bytes.IndexByte(data, '/')
	n, err := strconv.Atoi(string(data[i+1:]))
	if err != nil {
		t.Fatalf("record %q: %v", data, err)
	}
	return n
}

// appendKeys appends, for each key, records n+1..n+count to the key's
// partition (a hash of the key), and returns the new counts.
type logWriter struct {
	store  *storage.Store
	counts map[string]int
	mu     sync.Mutex
}

func newLogWriter(st *storage.Store) *logWriter {
	return &logWriter{store: st, counts: map[string]int{}}
}

func keyPartition(key string, partitions int) int {
	h := 0
	for _, c := range []byte(key) {
		h = h*31 + int(c)
	}
	return h % partitions
}

// write appends count records for each key, round-robin over the keys.
func (w *logWriter) write(t testing.TB, keys []string, count int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	ctx := context.Background()
	for range count {
		for _, k := range keys {
			w.counts[k]++
			p := keyPartition(k, w.store.Partitions())
			if _, err := w.store.Append(ctx, p, 0, record(k, w.counts[k])); err != nil {
				t.Errorf("append %s: %v", k, err)
				return
			}
		}
	}
}

// writeWhile writes one record per key, round after round, in the
// background until the returned stop is called (which waits for it).
func (w *logWriter) writeWhile(t testing.TB, keys []string) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			default:
				w.write(t, keys, 1)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// logSource is a log source with the test's decoder.
func logSource(st *storage.Store) *processor.LogSource {
	return processor.NewLogSource(st, processor.WithDecoder(decodeRecord))
}

// total is how many records were written.
func (w *logWriter) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.counts {
		n += c
	}
	return n
}

func keys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = fmt.Sprintf("k%02d", i)
	}
	return ks
}

// recorder is a handler that remembers what it was given.
type recorder struct {
	mu      sync.Mutex
	handled []delivered
	count   map[processor.Position]int
	fail    func(d processor.Delivery) error
}

type delivered struct {
	pos     processor.Position
	key     string
	data    string
	replay  bool
	context string
	segment int
}

func newRecorder() *recorder { return &recorder{count: map[processor.Position]int{}} }

func (r *recorder) Handle(_ context.Context, d processor.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(d); err != nil {
			return err
		}
	}
	r.handled = append(r.handled, delivered{pos: d.Position, key: d.Key, data: string(d.Data), replay: d.Replay, context: string(d.ResetContext), segment: d.Segment})
	r.count[d.Position]++
	return nil
}

// distinct is how many different events were handled.
func (r *recorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.count)
}

func (r *recorder) snapshot() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.handled)
}

// checkExactlyOnce fails unless every one of want events was handled once.
func (r *recorder) checkExactlyOnce(t testing.TB, want int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for pos, n := range r.count {
		if n != 1 {
			t.Errorf("event at %s handled %d times, want once", pos, n)
		}
	}
	if len(r.count) != want {
		t.Errorf("handled %d distinct events, want %d", len(r.count), want)
	}
}

// checkKeyOrder fails unless each key's records were handled in order, from
// 1 up, without a gap (first handling of each event only).
func (r *recorder) checkKeyOrder(t testing.TB) {
	t.Helper()
	next := map[string]int{}
	seen := map[processor.Position]bool{}
	for _, d := range r.snapshot() {
		if seen[d.pos] {
			continue
		}
		seen[d.pos] = true
		n := recordNumber(t, []byte(d.data))
		if n != next[d.key]+1 {
			t.Fatalf("key %s: record %d handled after record %d", d.key, n, next[d.key])
		}
		next[d.key] = n
	}
}

// waitFor waits until cond holds, failing the test after a generous
// deadline (a guard against hanging, not a performance check).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// start starts p and stops it when the test ends.
func start(t testing.TB, p *processor.Processor) {
	t.Helper()
	if err := p.Start(context.Background()); err != nil {
		t.Fatalf("start %s: %v", p.Name(), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", p.Name(), err)
		}
	})
}

func stop(t testing.TB, p *processor.Processor) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("stop %s: %v", p.Name(), err)
	}
}

func newProcessor(t testing.TB, name string, st *storage.Store, src processor.Source, h processor.Handler, opts ...processor.Opt) *processor.Processor {
	t.Helper()
	p, err := processor.New(name, st, src, h, opts...)
	if err != nil {
		t.Fatalf("new processor %s: %v", name, err)
	}
	return p
}

// segments reads the processor's segments from the token store.
func segments(t testing.TB, st *storage.Store, name string) []storage.Segment {
	t.Helper()
	segs, err := st.Tokens().Segments(context.Background(), name)
	if err != nil {
		t.Fatalf("segments of %s: %v", name, err)
	}
	return segs
}
