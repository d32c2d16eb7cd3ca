package pebble

import (
	"os"
	"runtime"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// syncData syncs a write-ahead log without telling the Go scheduler that
// the goroutine is in a system call. A log sync is a wait of a fraction of
// a millisecond that the node has in flight most of the time under load.
// Told of it, the scheduler's monitor takes the processor (P) from the
// syncing thread, wakes another thread to run it, and on return parks the
// syncing thread and queues its goroutine: four thread switches per sync,
// and the monitor polls every 20 µs while it keeps finding syncs to take.
// Measured under wrk, that was 12-15% of the node's CPU per event.
//
// The price is that the P is held while the disk works: with one P there
// would be nothing to run meanwhile, so then, and for files without a
// descriptor (in-memory filesystems), the sync goes the ordinary way. A
// stop-the-world also waits for the sync to end; gctrace showed no longer
// pauses under load.
func syncData(f vfs.File, name string) error {
	fd := f.Fd()
	if fd == vfs.InvalidFd || runtime.GOMAXPROCS(0) < 2 {
		return f.SyncData()
	}
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_FDATASYNC, fd, 0, 0)
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		default:
			return &os.PathError{Op: "fdatasync", Path: name, Err: errno}
		}
	}
}
