package pebble

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"eddy/storage"
)

// gatedFS holds write-ahead log syncs at a gate while it is closed, so a
// test can look at the store while a commit is written but not yet synced.
type gatedFS struct {
	vfs.FS
	mu      sync.Mutex
	closed  bool
	waiting chan struct{} // receives when a sync reaches the closed gate
	open    chan struct{} // closed when the gate opens
}

func newGatedFS() *gatedFS {
	return &gatedFS{FS: vfs.NewMem(), waiting: make(chan struct{}, 64), open: make(chan struct{})}
}

func (g *gatedFS) close() { g.mu.Lock(); g.closed, g.open = true, make(chan struct{}); g.mu.Unlock() }
func (g *gatedFS) release() {
	g.mu.Lock()
	g.closed = false
	close(g.open)
	g.mu.Unlock()
}

func (g *gatedFS) pass() {
	g.mu.Lock()
	closed, open := g.closed, g.open
	g.mu.Unlock()
	if closed {
		g.waiting <- struct{}{}
		<-open
	}
}

func (g *gatedFS) wrap(f vfs.File, name string, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return gatedFile{f, g}, nil
}

func (g *gatedFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.Create(name, c)
	return g.wrap(f, name, err)
}

func (g *gatedFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.ReuseForWrite(old, name, c)
	return g.wrap(f, name, err)
}

type gatedFile struct {
	vfs.File
	g *gatedFS
}

func (f gatedFile) Sync() error     { f.g.pass(); return f.File.Sync() }
func (f gatedFile) SyncData() error { f.g.pass(); return f.File.SyncData() }
func (f gatedFile) SyncTo(length int64) (bool, error) {
	f.g.pass()
	return f.File.SyncTo(length)
}

func openGated(t *testing.T) (*gatedFS, *storage.Store) {
	t.Helper()
	fs := newGatedFS()
	opts := storage.Options{Partitions: 1, Clock: time.Now, Logger: discardLogger(), MaxGroup: 64}
	b, err := OpenFS("/data", fs, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := storage.New(b, "pebble", opts.MaxGroup)
	t.Cleanup(func() { s.Close() })
	return fs, s
}

// Pebble shows a write as soon as it is in the memtable, before its sync.
// Neither the log nor the state may show a commit before it is
// acknowledged.
func TestNothingIsVisibleBeforeItsSync(t *testing.T) {
	fs, s := openGated(t)
	ctx := context.Background()
	fs.close()
	done := make(chan error, 1)
	go func() {
		b := storage.NewBatch(0, 0)
		b.Append([]byte("entry"))
		b.Put([]byte("key"), []byte("value"))
		_, err := s.Commit(ctx, b)
		done <- err
	}()
	<-fs.waiting // the commit is in the log and the memtable, its sync held

	if _, err := s.Get(ctx, 0, []byte("key")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("state shows a write before its sync: Get = %v", err)
	}
	n := 0
	s.Scan(ctx, 0, nil, func(k, v []byte) error { n++; return nil })
	if n != 0 {
		t.Errorf("Scan shows %d keys before their sync", n)
	}
	if bounds, _ := s.Bounds(ctx, 0); !bounds.Empty() {
		t.Errorf("Bounds show %+v before the sync", bounds)
	}
	s.Read(ctx, 0, 1, 0, func(e storage.Entry) error {
		t.Errorf("Read shows position %d before its sync", e.Position)
		return nil
	})

	fs.release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, 0, []byte("key")); err != nil || string(v) != "value" {
		t.Fatalf("after the commit: Get = %q, %v", v, err)
	}
}

// Close waits for a read in flight instead of closing Pebble under it.
func TestCloseWaitsForReads(t *testing.T) {
	_, s := openGated(t)
	ctx := context.Background()
	if _, err := s.Append(ctx, 0, 0, []byte("a"), []byte("b")); err != nil {
		t.Fatal(err)
	}
	inRead, finish := make(chan struct{}), make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		readErr <- s.Read(ctx, 0, 1, 0, func(e storage.Entry) error {
			if e.Position == 1 {
				close(inRead)
				<-finish
			}
			return nil
		})
	}()
	<-inRead
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a read was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	if err := <-readErr; err != nil {
		t.Fatalf("read in flight: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Read(ctx, 0, 1, 0, func(storage.Entry) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
}
