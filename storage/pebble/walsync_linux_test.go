package pebble

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// fdFile is a vfs.File that has only a descriptor.
type fdFile struct {
	vfs.File
	fd uintptr
}

func (f fdFile) Fd() uintptr { return f.fd }

// TestLogSyncSaysWhatFailed syncs a descriptor that cannot be synced, a
// pipe's, through the raw path: the error must name the file and the cause.
// A log on disk syncs without error.
func TestLogSyncSaysWhatFailed(t *testing.T) {
	// With one processor the log syncs the ordinary way, through the file.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	err = syncData(fdFile{fd: w.Fd()}, "/data/000042.log")
	if err == nil {
		t.Fatal("syncing a pipe succeeded")
	}
	if !strings.Contains(err.Error(), "/data/000042.log") || !strings.Contains(err.Error(), syscall.EINVAL.Error()) {
		t.Fatalf("the error does not say which file and why: %v", err)
	}

	fs := writtenAheadFS{vfs.Default}
	f, err := fs.Create(fs.PathJoin(t.TempDir(), "000001.log"), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("record")); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncData(); err != nil {
		t.Fatal(err)
	}
}
