package pebble

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"eddy/storage"
)

// The durable mark is a small file, beside Pebble's, holding every
// partition's last acknowledged position. Pebble treats a damaged
// write-ahead log as a torn tail and can open without the records after the
// damage; the mark lets Open notice that acknowledged entries are missing
// and refuse, instead of silently carrying on without them. It is written in
// the background, at most every markInterval, so it costs the append path
// nothing; damage to the newest markInterval of writes can go unnoticed.
const (
	markFile     = "EDDY-DURABLE-MARK"
	markMagic    = "EDDYMRK1"
	markInterval = 100 * time.Millisecond
)

func (b *Backend) markPath() string { return b.fs.PathJoin(b.dir, markFile) }

// readMark returns the marked positions, or nil when there is no mark yet.
func (b *Backend) readMark() ([]uint64, error) {
	f, err := b.fs.Open(b.markPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pebble: reading %s: %w", b.markPath(), err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("pebble: reading %s: %w", b.markPath(), err)
	}
	marks, ok := decodeMark(data, b.partitions)
	if !ok {
		return nil, &storage.CorruptError{File: b.markPath(), Detail: "length, magic or checksum does not match"}
	}
	return marks, nil
}

// encodeMark lays out a mark: magic, a position per partition, checksum.
func encodeMark(marks []uint64) []byte {
	data := make([]byte, 0, len(markMagic)+8*len(marks)+4)
	data = append(data, markMagic...)
	for _, m := range marks {
		data = binary.BigEndian.AppendUint64(data, m)
	}
	return binary.BigEndian.AppendUint32(data, crc32.Checksum(data, castagnoli))
}

// decodeMark reads a mark of n partitions; ok is false for anything else.
func decodeMark(data []byte, n int) (marks []uint64, ok bool) {
	if len(data) != len(markMagic)+8*n+4 || string(data[:len(markMagic)]) != markMagic ||
		crc32.Checksum(data[:len(data)-4], castagnoli) != binary.BigEndian.Uint32(data[len(data)-4:]) {
		return nil, false
	}
	marks = make([]uint64, n)
	for p := range marks {
		marks[p] = binary.BigEndian.Uint64(data[len(markMagic)+8*p:])
	}
	return marks, true
}

// checkMark refuses a store whose log ends before an acknowledged position.
func (b *Backend) checkMark() error {
	marks, err := b.readMark()
	if err != nil {
		return err
	}
	for p, m := range marks {
		if b.heads[p].last < m {
			file := b.dir
			if len(b.wals) > 0 {
				file = strings.Join(b.wals, ", ")
			}
			return &storage.CorruptError{File: file, Detail: fmt.Sprintf(
				"partition %d ends at position %d but position %d was acknowledged: the write-ahead log lost records (refusing to open; restore from a backup, or remove %s to accept the loss)",
				p, b.heads[p].last, m, b.markPath())}
		}
	}
	return nil
}

// syncedHeads returns the synced head of every partition.
func (b *Backend) syncedHeads() []uint64 {
	marks := make([]uint64, len(b.last))
	for p := range b.last {
		marks[p] = b.last[p].Load()
	}
	return marks
}

// writeMark records marks: synced, then renamed into place.
func (b *Backend) writeMark(marks []uint64) error {
	data := encodeMark(marks)
	tmp := b.markPath() + ".tmp"
	f, err := b.fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return b.fs.Rename(tmp, b.markPath())
}

// markLoop rewrites the mark while the log grows, until stop is closed.
func (b *Backend) markLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(markInterval)
	defer ticker.Stop()
	marked := b.syncedHeads()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
		}
		if heads := b.syncedHeads(); !slices.Equal(heads, marked) {
			if err := b.writeMark(heads); err != nil {
				b.log.Error("storage: writing durable mark", "file", b.markPath(), "error", err)
				continue
			}
			marked = heads
		}
	}
}
