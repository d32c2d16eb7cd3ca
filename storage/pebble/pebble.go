// Package pebble is Eddy's embedded storage backend, the default: one Pebble
// database in a data directory holds every partition's log, state, the token
// store and partition ownership. All writes go through one mutex-guarded
// path and are synced before they are acknowledged; storage.Store's group
// commit makes concurrent appenders share each sync.
package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"eddy/storage"
)

func init() { storage.Register("pebble", Open) }

// Backend is the embedded backend. Use it through storage.Open("pebble", dir).
type Backend struct {
	db         *pebble.DB
	dir        string
	fs         vfs.FS
	partitions int
	clock      func() time.Time
	log        *slog.Logger

	// mu serializes every write, so positions, epochs and token claims are
	// checked and changed by one writer at a time.
	mu      sync.Mutex
	heads   []head // assigned heads; last (below) trails them until synced
	epochs  []uint64
	pending []head // per-partition scratch for one commit group
	touched []int
	written []writtenChunk // the chunks of the group being written
	// groupEntries collects each partition's entries of one commit group.
	groupEntries [][][]byte
	scratch      []byte
	tokens       map[string]tokenRow
	applied      uint64 // commit generations handed to Pebble

	// views is what state and token reads see: acknowledged writes only.
	views views
	// lifeMu: reads hold it shared, Close exclusively, so Close waits for
	// reads in flight instead of closing Pebble under them.
	lifeMu sync.RWMutex

	last    []atomic.Uint64 // visible last position per partition
	recent  []recentChunks  // newest chunks per partition, for reads near the head
	signals []storage.Signal
	closed  atomic.Bool
	failed  atomic.Pointer[error] // set by a failed sync; no write after it

	markStop chan struct{}
	wals     []string // write-ahead logs found before opening
	markDone chan struct{}

	// corruptFile is the last file Pebble reported corrupt, so that errors
	// can name it.
	corruptFile atomic.Pointer[string]

	pacer *syncPacer
}

// Open opens or creates the store in directory dir.
func Open(ctx context.Context, dir string, o storage.Options) (storage.Backend, error) {
	return OpenFS(dir, vfs.Default, o)
}

// OpenFS opens the store in dir on fs. All of the backend's file IO goes
// through fs, so tests can use Pebble's crashable in-memory filesystem to
// lose whatever was not synced.
func OpenFS(dir string, fs vfs.FS, o storage.Options) (*Backend, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if dir == "" {
		return nil, errors.New("pebble: no data directory given")
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pebble: data directory %s is not usable: %w", dir, unwrapPath(err))
	}
	if err := checkWritable(fs, dir); err != nil {
		return nil, err
	}
	// Pebble replays and then removes damaged write-ahead logs while opening,
	// so name them now in case the mark check has to blame them.
	b := &Backend{dir: dir, fs: fs, clock: o.Clock, log: o.Logger, wals: walFiles(fs, dir), pacer: newSyncPacer(time.Now)}
	cache := pebble.NewCache(128 << 20)
	defer cache.Unref()
	pebbleFS := fs
	if fs == vfs.Default {
		pebbleFS = shrinkingRemoveFS{fs}
	}
	pebbleFS = writtenAheadFS{pebbleFS}
	opts := &pebble.Options{
		FS:                 pebbleFS,
		Cache:              cache,
		MemTableSize:       64 << 20,
		FormatMajorVersion: pebble.FormatNewest,
		WALMinSyncInterval: b.pacer.interval,
		Logger:             pebbleLogger{o.Logger},
		// Pebble's default answer to corruption is to exit the process; we
		// note the file and let the read fail with an error naming it.
		EventListener: &pebble.EventListener{DataCorruption: func(info pebble.DataCorruptionInfo) {
			path := info.Path
			b.corruptFile.Store(&path)
			o.Logger.Error("storage: corrupt file", "file", path, "error", info.Details.Error())
		}},
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, openError(dir, err)
	}
	b.db = db
	if err := b.load(o.Partitions); err != nil {
		db.Close()
		return nil, err
	}
	if err := b.checkMark(); err != nil {
		db.Close()
		return nil, err
	}
	b.views.publish(db.NewSnapshot(), 0)
	b.markStop, b.markDone = make(chan struct{}), make(chan struct{})
	go b.markLoop(b.markStop, b.markDone)
	return b, nil
}

// checkWritable fails early, with the directory's name, where Pebble would
// fail later with a less helpful message.
func checkWritable(fs vfs.FS, dir string) error {
	name := fs.PathJoin(dir, fmt.Sprintf(".eddy-probe-%d", os.Getpid()))
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("pebble: data directory %s is not writable: %w", dir, unwrapPath(err))
	}
	f.Close()
	return fs.Remove(name)
}

// walFiles lists the write-ahead logs in dir.
func walFiles(fs vfs.FS, dir string) []string {
	names, _ := fs.List(dir)
	var wals []string
	for _, n := range names {
		if strings.HasSuffix(n, ".log") {
			wals = append(wals, fs.PathJoin(dir, n))
		}
	}
	return wals
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func openError(dir string, err error) error {
	switch {
	case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock held"):
		return fmt.Errorf("pebble: data directory %s is in use by another process", dir)
	case pebble.IsCorruptionError(err):
		return &storage.CorruptError{File: dir, Detail: firstLine(err)}
	}
	return fmt.Errorf("pebble: cannot open data directory %s: %w", dir, err)
}

// load reads the partition count (writing it for a new store), the heads and
// the epochs, and checks each head against the last log key.
func (b *Backend) load(want int) error {
	stored, err := b.getUint(metaPartitions)
	migrate := false
	switch {
	case errors.Is(err, pebble.ErrNotFound):
		if want == 0 {
			want = storage.DefaultPartitions
		}
		wb := b.db.NewBatch()
		wb.Set(metaPartitions, binary.BigEndian.AppendUint64(nil, uint64(want)), nil)
		wb.Set(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion), nil)
		if err := wb.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("pebble: initializing %s: %w", b.dir, err)
		}
		stored = uint64(want)
	case err != nil:
		return b.readError("partition count", err)
	default:
		format, err := b.getUint(metaFormat)
		if err != nil {
			return b.readError("format version", err)
		}
		if format > formatVersion {
			return fmt.Errorf("pebble: data directory %s has format %d, this eddy reads up to %d: upgrade eddy", b.dir, format, formatVersion)
		}
		// A migration cut off has set the new format already: its
		// progress row says it is not done.
		unfinished, err := b.exists(metaMigration)
		if err != nil {
			return b.readError("migration progress", err)
		}
		migrate = format < formatVersion || unfinished
		if want != 0 && uint64(want) != stored {
			return fmt.Errorf("pebble: data directory %s holds %d partitions, %d were asked for (the count is fixed when a store is created)", b.dir, stored, want)
		}
	}
	if stored == 0 || stored > storage.MaxPartitions {
		return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("partition count %d is out of range", stored)}
	}
	if migrate {
		if err := b.migrateFrom1(int(stored)); err != nil {
			return err
		}
	}
	n := int(stored)
	b.partitions = n
	b.heads = make([]head, n)
	b.pending = make([]head, n)
	b.groupEntries = make([][][]byte, n)
	b.epochs = make([]uint64, n)
	b.last = make([]atomic.Uint64, n)
	b.signals = make([]storage.Signal, n)
	b.recent = make([]recentChunks, n)
	for p := 0; p < n; p++ {
		if err := b.loadPartition(p); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) loadPartition(p int) error {
	v, closer, err := b.db.Get(partitionKey(kindHead, p))
	if err == nil {
		h, derr := decodeHead(v)
		closer.Close()
		if derr != nil {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("head of partition %d: %v", p, derr)}
		}
		b.heads[p] = h
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return b.readError(fmt.Sprintf("head of partition %d", p), err)
	}
	lastKey, err := b.lastLogPosition(p)
	if err != nil {
		return err
	}
	if lastKey != b.heads[p].last {
		return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("partition %d: head says last position %d, the log ends at %d", p, b.heads[p].last, lastKey)}
	}
	b.last[p].Store(b.heads[p].last)

	v, closer, err = b.db.Get(partitionKey(kindOwner, p))
	if err == nil {
		r, derr := decodeOwner(v)
		closer.Close()
		if derr != nil {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("owner of partition %d: %v", p, derr)}
		}
		b.epochs[p] = r.epoch
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return b.readError(fmt.Sprintf("owner of partition %d", p), err)
	}
	return nil
}

func (b *Backend) lastLogPosition(p int) (uint64, error) {
	it, err := b.db.NewIter(&pebble.IterOptions{LowerBound: partitionKey(kindLog, p), UpperBound: partitionKey(kindLog, p+1)})
	if err != nil {
		return 0, b.readError("log", err)
	}
	defer it.Close()
	if !it.Last() {
		return 0, b.readError(fmt.Sprintf("log of partition %d", p), it.Error())
	}
	first := logKeyPosition(it.Key())
	v, err := it.ValueAndErr()
	if err != nil {
		return 0, b.readError(fmt.Sprintf("log of partition %d at position %d", p, first), err)
	}
	c, err := decodeChunk(v)
	if err == nil {
		var last uint64
		if last, err = c.lastPosition(first); err == nil {
			return last, nil
		}
	}
	return 0, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d at position %d: %v", p, first, err)}
}

// exists reports whether key is stored.
func (b *Backend) exists(key []byte) (bool, error) {
	_, closer, err := b.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	closer.Close()
	return true, nil
}

func (b *Backend) getUint(key []byte) (uint64, error) {
	v, closer, err := b.db.Get(key)
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("meta key %q has %d bytes, want 8", key, len(v))}
	}
	return binary.BigEndian.Uint64(v), nil
}

// readError turns a Pebble read error into one that names the directory and
// what was being read; corruption becomes a storage.CorruptError.
func (b *Backend) readError(what string, err error) error {
	if err == nil {
		return nil
	}
	if pebble.IsCorruptionError(err) {
		file := b.dir
		if f := b.corruptFile.Load(); f != nil {
			file = *f
		}
		return &storage.CorruptError{File: file, Detail: fmt.Sprintf("reading %s: %s", what, firstLine(err))}
	}
	return fmt.Errorf("pebble: reading %s in %s: %w", what, b.dir, err)
}

// enterRead admits a read unless the store is closed; exitRead ends it.
func (b *Backend) enterRead() bool {
	b.lifeMu.RLock()
	if b.closed.Load() {
		b.lifeMu.RUnlock()
		return false
	}
	return true
}

func (b *Backend) exitRead() { b.lifeMu.RUnlock() }

// lock takes mu for a write, refusing once the store is closed.
func (b *Backend) lock() error {
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		return storage.ErrClosed
	}
	return nil
}

// Partitions implements storage.Backend.
func (b *Backend) Partitions() int { return b.partitions }

// Changed implements storage.Backend.
func (b *Backend) Changed(p int) <-chan struct{} { return b.signals[p].Wait() }

// Close implements storage.Backend.
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	close(b.markStop)
	<-b.markDone
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	for p := range b.signals {
		b.signals[p].Notify()
	}
	b.views.close()
	markErr := b.writeMark(b.syncedHeads())
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("pebble: closing %s: %w", b.dir, err)
	}
	if markErr != nil {
		return fmt.Errorf("pebble: writing %s: %w", b.markPath(), markErr)
	}
	return nil
}

// pebbleLogger sends Pebble's own messages to slog: its chatter at debug
// level, its errors at error level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := "pebble: " + fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic(msg)
}

// firstLine drops the detail lines Pebble's errors carry.
func firstLine(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
