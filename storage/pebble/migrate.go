package pebble

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// Format 1 kept one key per log entry, its value <ts i64><crc32c u32><data>.
// A directory in that format is rewritten in chunks when opened, in one
// synced batch with the new format number, so a crash leaves it either
// untouched or migrated.

// logValueHeader is the timestamp and checksum in front of a format-1
// entry's data.
const logValueHeader = 12

// appendLogValue encodes a format-1 entry (kept for the migration's tests).
func appendLogValue(dst []byte, ts int64, data []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	crc := crc32.Update(crc32.Checksum(dst[len(dst)-8:], castagnoli), castagnoli, data)
	dst = binary.BigEndian.AppendUint32(dst, crc)
	return append(dst, data...)
}

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

// migrateFrom1 rewrites every partition's format-1 log as chunks, one per
// run of entries with the same timestamp (a commit's).
func (b *Backend) migrateFrom1(partitions int) error {
	wb := b.db.NewBatch()
	defer wb.Close()
	entries := 0
	for p := range partitions {
		n, err := b.migratePartition(wb, p)
		if err != nil {
			return err
		}
		entries += n
	}
	wb.Set(metaFormat, binary.BigEndian.AppendUint64(nil, formatVersion), nil)
	if err := wb.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebble: migrating %s to format %d: %w", b.dir, formatVersion, err)
	}
	b.log.Info("storage: data directory migrated", "dir", b.dir, "from", 1, "to", formatVersion, "entries", entries)
	return nil
}

func (b *Backend) migratePartition(wb *pebble.Batch, p int) (int, error) {
	it, err := b.db.NewIter(&pebble.IterOptions{LowerBound: partitionKey(kindLog, p), UpperBound: partitionKey(kindLog, p+1)})
	if err != nil {
		return 0, b.readError("log", err)
	}
	defer it.Close()
	var (
		run      [][]byte
		runTs    int64
		runFirst uint64
		next     uint64
		count    int
	)
	flush := func() {
		for len(run) > 0 {
			n := chunkSplit(run)
			wb.Set(appendLogKey(nil, p, runFirst), appendChunk(nil, runTs, run[:n]), nil)
			runFirst += uint64(n)
			run = run[n:]
		}
	}
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
		if next != 0 && pos != next {
			return 0, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("migrating: log of partition %d: position %d is missing (found %d)", p, next, pos)}
		}
		if len(run) > 0 && ts != runTs {
			flush()
		}
		if len(run) == 0 {
			runFirst, runTs = pos, ts
		}
		run = append(run, bytes.Clone(data))
		// The chunk written later under the same key wins over this.
		wb.Delete(it.Key(), nil)
		next = pos + 1
		count++
	}
	if err := it.Error(); err != nil {
		return 0, b.readError(fmt.Sprintf("log of partition %d", p), err)
	}
	flush()
	return count, nil
}
