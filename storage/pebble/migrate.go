package pebble

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// Format 1 kept one key per log entry, its value <ts i64><crc32c u32><data>.
// A directory in that format is rewritten in chunks when opened.

// logValueHeader is the timestamp and checksum in front of a format-1
// entry's data.
const logValueHeader = 12

// decodeLogValue returns a format-1 entry's timestamp and data, or
// ok=false when the checksum does not match (a torn or rotten entry).
func decodeLogValue(v []byte) (ts int64, data []byte, ok bool) {
	if len(v) < logValueHeader {
		return 0, nil, false
	}
	crc := crc32.Update(crc32.Checksum(v[:8], castagnoli), castagnoli, v[logValueHeader:])
	if crc != binary.BigEndian.Uint32(v[8:12]) {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(v[:8])), v[logValueHeader:], true
}

// metaMigration is the progress of an interrupted migration: the partition
// and the last position already in chunks. Entries after it are still in
// format 1.
var metaMigration = []byte("mmigration")

// migrationStep bounds the entry bytes one migration batch rewrites, so
// that memory stays bounded and Pebble's batch limit is never reached (a
// variable for the tests).
var migrationStep = 32 << 20

// migrateFrom1 rewrites every partition's format-1 log as chunks, one run
// per timestamp (a commit's), in synced steps that record their progress:
// a crash leaves a directory that the next open goes on migrating.
func (b *Backend) migrateFrom1(partitions int) error {
	startP, after := 0, uint64(0)
	v, closer, err := b.db.Get(metaMigration)
	switch {
	case err == nil:
		if len(v) != 16 {
			closer.Close()
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("migration progress has %d bytes, want 16", len(v))}
		}
		startP, after = int(binary.BigEndian.Uint64(v)), binary.BigEndian.Uint64(v[8:])
		closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return b.readError("migration progress", err)
	}
	entries := 0
	for p := startP; p < partitions; p++ {
		from := uint64(0)
		if p == startP {
			from = after
		}
		n, err := b.migratePartition(p, from)
		if err != nil {
			return err
		}
		entries += n
	}
	wb := b.db.NewBatch()
	defer wb.Close()
	wb.Set(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion), nil)
	wb.Delete(metaMigration, nil)
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebble: migrating %s to format %d: %w", b.dir, formatVersion, err)
	}
	b.log.Info("storage: data directory migrated", "dir", b.dir, "from", 1, "to", formatVersion, "entries", entries)
	return nil
}

// oldEntry is a format-1 entry on its way into a chunk.
type oldEntry struct {
	pos  uint64
	ts   int64
	data []byte
}

// migratePartition rewrites partition p's format-1 entries after position
// after, one step at a time.
func (b *Backend) migratePartition(p int, after uint64) (int, error) {
	it, err := b.db.NewIter(&pebble.IterOptions{LowerBound: appendLogKey(nil, p, after+1), UpperBound: partitionKey(kindLog, p+1)})
	if err != nil {
		return 0, b.readError("log", err)
	}
	defer it.Close()
	var (
		step  []oldEntry
		size  int
		next  = after + 1
		count int
	)
	for valid := it.First(); valid; valid = it.Next() {
		pos := logKeyPosition(it.Key())
		v, err := it.ValueAndErr()
		if err != nil {
			return 0, b.readError(fmt.Sprintf("log of partition %d at position %d", p, pos), err)
		}
		ts, data, ok := decodeLogValue(v)
		if !ok {
			return 0, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("migrating: log of partition %d at position %d: checksum mismatch", p, pos)}
		}
		if (count > 0 || after > 0) && pos != next {
			return 0, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("migrating: log of partition %d: position %d is missing (found %d)", p, next, pos)}
		}
		step = append(step, oldEntry{pos, ts, bytes.Clone(data)})
		size += len(data)
		next = pos + 1
		count++
		if size >= migrationStep {
			if err := b.migrateStep(p, step); err != nil {
				return 0, err
			}
			step, size = step[:0], 0
		}
	}
	if err := it.Error(); err != nil {
		return 0, b.readError(fmt.Sprintf("log of partition %d", p), err)
	}
	if len(step) > 0 {
		if err := b.migrateStep(p, step); err != nil {
			return 0, err
		}
	}
	return count, nil
}

// migrateStep replaces a run of consecutive format-1 entries by chunks and
// records the progress, in one synced batch.
func (b *Backend) migrateStep(p int, step []oldEntry) error {
	wb := b.db.NewBatch()
	defer wb.Close()
	first, last := step[0].pos, step[len(step)-1].pos
	// The chunks, written after the range deletion in the same batch,
	// win over it.
	if err := wb.DeleteRange(appendLogKey(nil, p, first), appendLogKey(nil, p, last+1), nil); err != nil {
		return err
	}
	for len(step) > 0 {
		n := 1
		for n < len(step) && step[n].ts == step[0].ts {
			n++
		}
		run := make([][]byte, n)
		for i := range run {
			run[i] = step[i].data
		}
		b.writeChunks(wb, p, step[0].pos, step[0].ts, run)
		step = step[n:]
	}
	progress := binary.BigEndian.AppendUint64(nil, uint64(p))
	wb.Set(metaMigration, binary.BigEndian.AppendUint64(progress, last), nil)
	// The directory holds chunks from the first step on: an older eddy,
	// which would read a chunk as one format-1 entry, must refuse it.
	wb.Set(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion), nil)
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebble: migrating %s to format %d: %w", b.dir, formatVersion, err)
	}
	return nil
}
