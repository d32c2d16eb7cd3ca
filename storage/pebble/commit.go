package pebble

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// Commit implements storage.Backend: one Pebble batch, one sync, for the
// whole group. Checks happen before anything is written, so a refused batch
// leaves no trace. Positions are assigned and the batch is handed to
// Pebble's write-ahead log under mu; the wait for the sync happens outside
// it, so the next group can be written while this one syncs, and Pebble
// folds both into as few syncs as it can.
func (b *Backend) Commit(ctx context.Context, batches []*storage.Batch, firsts []uint64, errs []error) error {
	wb := b.db.NewBatch()
	defer wb.Close()
	applied, err := b.apply(wb, batches, firsts, errs)
	if err != nil || applied.snap == nil {
		return err
	}
	if err := wb.SyncWait(); err != nil {
		// A failed sync leaves the write-ahead log in doubt: stop writing.
		applied.snap.Close()
		b.failed.CompareAndSwap(nil, &err)
		return fmt.Errorf("%w: pebble: syncing %s: %v", storage.ErrOutcomeUnknown, b.dir, err)
	}
	b.views.publish(applied.snap, applied.gen)
	// A sync covers every earlier write too, so heads only move forward even
	// if an earlier group's goroutine reports later.
	for _, h := range applied.heads {
		for {
			cur := b.last[h.partition].Load()
			if cur >= h.last || b.last[h.partition].CompareAndSwap(cur, h.last) {
				break
			}
		}
		b.signals[h.partition].Notify()
	}
	return nil
}

// PipelineDepth implements storage.Pipeliner: Pebble folds the syncs of
// groups written while one is syncing, so keeping several in flight keeps
// the disk busy.
func (b *Backend) PipelineDepth() int { return 4 }

// assigned is a partition's new last position after a group.
type assigned struct {
	partition int
	last      uint64
}

// appliedGroup is what a group left to do once it is in the write-ahead log:
// the heads to publish and the read view to publish, once synced.
type appliedGroup struct {
	heads []assigned
	snap  *pebble.Snapshot // nil when the group wrote nothing
	gen   uint64
}

// apply checks the group, builds its Pebble batch and hands it to the
// write-ahead log.
func (b *Backend) apply(wb *pebble.Batch, batches []*storage.Batch, firsts []uint64, errs []error) (appliedGroup, error) {
	if err := b.lock(); err != nil {
		return appliedGroup{}, err
	}
	defer b.mu.Unlock()
	if f := b.failed.Load(); f != nil {
		return appliedGroup{}, b.failedError(*f)
	}
	now := b.clock()
	nowMilli, nowNano := now.UnixMilli(), now.UnixNano()
	// Token rows read or changed in this group, so that a later batch sees
	// the group's own writes.
	if b.tokens == nil {
		b.tokens = map[string]tokenRow{}
	}
	clear(b.tokens)
	b.touched = b.touched[:0]
	clear(b.written)
	b.written = b.written[:0]

	waiting := 0
	for i, batch := range batches {
		p := batch.Partition
		if batch.Epoch != b.epochs[p] {
			errs[i] = fmt.Errorf("%w: partition %d is at epoch %d, the batch carries epoch %d", storage.ErrFenced, p, b.epochs[p], batch.Epoch)
			continue
		}
		if err := b.checkTokenWrites(batch); err != nil {
			errs[i] = err
			continue
		}
		waiting += batch.Waiting()
		if entries := batch.Entries(); len(entries) > 0 {
			if !b.isTouched(p) {
				b.pending[p] = b.heads[p]
				b.touched = append(b.touched, p)
			}
			h := &b.pending[p]
			h.ts = max(h.ts, nowMilli)
			firsts[i] = h.last + 1
			h.last += uint64(len(entries))
			// Written as chunks once the group is gathered: a partition's
			// batches of one group share chunks (never across groups, so
			// that a reader bounded by the synced head never sees half a
			// chunk).
			b.groupEntries[p] = append(b.groupEntries[p], entries...)
		}
		for _, w := range batch.Writes() {
			b.scratch = appendStateKey(b.scratch[:0], p, w.Key)
			if w.Delete {
				wb.Delete(b.scratch, nil)
			} else {
				wb.Set(b.scratch, w.Value, nil)
			}
		}
		for _, tw := range batch.TokenWrites() {
			key := tokenKey(tw.Claim.Processor, tw.Claim.Segment)
			row := b.tokens[string(key)]
			row.token = append([]byte{}, tw.Token...)
			row.claimedAt = nowNano
			b.tokens[string(key)] = row
			wb.Set(key, row.encode(), nil)
		}
	}
	for _, p := range b.touched {
		b.writeChunks(wb, p, b.heads[p].last+1, b.pending[p].ts, b.groupEntries[p])
		clear(b.groupEntries[p])
		b.groupEntries[p] = b.groupEntries[p][:0]
	}
	heads := make([]assigned, 0, len(b.touched))
	for _, p := range b.touched {
		wb.Set(partitionKey(kindHead, p), b.pending[p].encode(), nil)
		heads = append(heads, assigned{p, b.pending[p].last})
	}
	if wb.Empty() {
		return appliedGroup{}, nil
	}
	if err := b.db.ApplyNoSyncWait(wb, pebble.Sync); err != nil {
		return appliedGroup{}, fmt.Errorf("pebble: committing to %s: %w", b.dir, err)
	}
	for _, p := range b.touched {
		b.heads[p] = b.pending[p]
	}
	for _, c := range b.written {
		b.recent[c.partition].add(c.first, c.value, c.count)
	}
	b.pacer.committed(waiting)
	b.applied++
	return appliedGroup{heads: heads, snap: b.db.NewSnapshot(), gen: b.applied}, nil
}

func (b *Backend) isTouched(p int) bool {
	for _, t := range b.touched {
		if t == p {
			return true
		}
	}
	return false
}

// checkTokenWrites verifies every claim of the batch before anything of it is
// written, keeping the rows it read in b.tokens.
func (b *Backend) checkTokenWrites(batch *storage.Batch) error {
	for _, tw := range batch.TokenWrites() {
		key := tokenKey(tw.Claim.Processor, tw.Claim.Segment)
		row, ok := b.tokens[string(key)]
		if !ok {
			var err error
			row, err = b.readToken(key, tw.Claim.Processor, tw.Claim.Segment)
			if err != nil {
				return err
			}
			b.tokens[string(key)] = row
		}
		if err := fenceToken(row, tw.Claim); err != nil {
			return err
		}
	}
	return nil
}

// readToken reads a segment's row; storage.ErrNotFound if there is none.
func (b *Backend) readToken(key []byte, processor string, segment int) (tokenRow, error) {
	v, closer, err := b.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return tokenRow{}, fmt.Errorf("%w: segment %d of processor %s", storage.ErrNotFound, segment, processor)
	}
	if err != nil {
		return tokenRow{}, b.readError(fmt.Sprintf("token %s/%d", processor, segment), err)
	}
	defer closer.Close()
	row, err := decodeToken(v)
	if err != nil {
		return tokenRow{}, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("token %s/%d: %v", processor, segment, err)}
	}
	return row, nil
}

func fenceToken(row tokenRow, c storage.Claim) error {
	if row.owner != c.Owner || row.epoch != c.Epoch {
		return fmt.Errorf("%w: segment %d of processor %s is held by %q at epoch %d, not %q at epoch %d",
			storage.ErrFenced, c.Segment, c.Processor, row.owner, row.epoch, c.Owner, c.Epoch)
	}
	return nil
}

// writeChunks puts entries, from position first on, into chunks, and
// notes each for the partition's recent chunks once the group is in the
// write-ahead log.
func (b *Backend) writeChunks(wb *pebble.Batch, p int, first uint64, ts int64, entries [][]byte) {
	for len(entries) > 0 {
		n := chunkSplit(entries)
		b.scratch = appendLogKey(b.scratch[:0], p, first)
		value := appendChunk(make([]byte, 0, chunkBound(entries[:n])), ts, entries[:n])
		wb.Set(b.scratch, value, nil)
		b.written = append(b.written, writtenChunk{p, first, uint64(n), value})
		first += uint64(n)
		entries = entries[n:]
	}
}

// writtenChunk is a chunk of the group being written.
type writtenChunk struct {
	partition int
	first     uint64
	count     uint64
	value     []byte
}
