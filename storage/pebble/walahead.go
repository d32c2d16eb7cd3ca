package pebble

import (
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// writtenAheadFS hands Pebble write-ahead logs whose space is written with
// zeros ahead of the log's end. An fdatasync after an append that grows a
// file, or writes into space only reserved (fallocate), must also commit the
// file's new size and extents to the filesystem journal: on this kind of
// disk that is a second write and wait per sync, 240 µs against 140 µs for
// an overwrite. So the log is extended a step at a time, and every sync in
// between overwrites space that is already the file's.
//
// Pebble reads a log's zeroed tail as its end, as it does the tail of a
// recycled log: the record reader looks ahead past the first zeroed chunk,
// finds no chunk of this log, and reports an unclean end, which replay
// accepts for the newest log. Older logs end with Pebble's EOF trailer.
type writtenAheadFS struct{ vfs.FS }

// writeAheadStep is how much zeroed space an extension adds past the write
// that needs it. One step is written, and synced by the log's next sync,
// about once a second under full load, against a thousand syncs spared the
// journal in between.
const writeAheadStep = 4 << 20

// zeros is what the extension writes, a piece at a time. An array, so
// that it costs no allocation when the program starts.
var zeros [256 << 10]byte

func isWAL(name string) bool { return strings.HasSuffix(name, ".log") }

// Create implements vfs.FS.
func (fs writtenAheadFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || !isWAL(name) {
		return f, err
	}
	return &writtenAheadFile{File: f, name: name}, nil
}

// ReuseForWrite implements vfs.FS. A recycled log's old content is written
// space already, so the extension starts where it ends.
func (fs writtenAheadFS) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, category)
	if err != nil || !isWAL(newname) {
		return f, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &writtenAheadFile{File: f, name: newname, written: info.Size()}, nil
}

// writtenAheadFile is a log being written. Pebble writes a log from one
// goroutine at a time, sequentially from offset 0.
type writtenAheadFile struct {
	vfs.File
	name    string
	end     int64 // where the next Write lands
	written int64 // the file's written space ends here
}

// Write implements vfs.File: it extends the written space first when p
// would reach past it.
func (f *writtenAheadFile) Write(p []byte) (int, error) {
	if need := f.end + int64(len(p)); need > f.written {
		if err := f.extend(need + writeAheadStep); err != nil {
			return 0, err
		}
	}
	n, err := f.File.Write(p)
	f.end += int64(n)
	return n, err
}

// SyncData implements vfs.File. Pebble syncs a log with it (through its
// syncing wrapper's Sync), from the log's flush loop.
func (f *writtenAheadFile) SyncData() error { return syncData(f.File, f.name) }

// extend writes zeros from the written space's end up to to. (The log's
// end never passes it: every Write lands inside it.)
func (f *writtenAheadFile) extend(to int64) error {
	for from := f.written; from < to; {
		piece := zeros[:min(int64(len(zeros)), to-from)]
		n, err := f.File.WriteAt(piece, from)
		from += int64(n)
		if err != nil {
			return err
		}
	}
	f.written = to
	return nil
}
