package pebble

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// Read implements storage.Backend. Every chunk's checksum and the
// positions' continuity are verified: a torn, rotten or missing entry is an
// error, never skipped.
func (b *Backend) Read(ctx context.Context, p int, from uint64, limit int, fn func(storage.Entry) error) error {
	if !b.enterRead() {
		return storage.ErrClosed
	}
	defer b.exitRead()
	last := b.last[p].Load()
	if from > last || limit <= 0 {
		return nil
	}
	// Bound by the visible head so a read never runs past what was
	// acknowledged to readers: a chunk is never split across two commits,
	// so no visible chunk reaches past it either.
	it, err := b.db.NewIter(&pebble.IterOptions{LowerBound: partitionKey(kindLog, p), UpperBound: appendLogKey(nil, p, last+1)})
	if err != nil {
		return b.readError(fmt.Sprintf("log of partition %d", p), err)
	}
	defer it.Close()
	want := from
	n := 0
	// The chunk holding from is the last one that starts at or before it.
	valid := it.SeekLT(appendLogKey(nil, p, from+1))
	if !valid {
		valid = it.First()
	}
	for visited := false; valid && n < limit; valid, visited = it.Next(), true {
		first := logKeyPosition(it.Key())
		if first > want {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d: position %d is missing (found %d)", p, want, first)}
		}
		// Only the first chunk may start before the position wanted; a
		// later one doing so overlaps its predecessor.
		if visited && first != want {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d: the chunk at %d overlaps the one before it", p, first)}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return b.readError(fmt.Sprintf("log of partition %d at position %d", p, first), err)
		}
		c, err := decodeChunk(v)
		if err != nil {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d at position %d: %v", p, first, err)}
		}
		if first+c.count <= want {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d: position %d is missing (the chunk before it ends at %d)", p, want, first+c.count-1)}
		}
		for pos := first; pos < first+c.count && n < limit && pos <= last; pos++ {
			data, err := c.next()
			if err != nil {
				return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d at position %d: %v", p, pos, err)}
			}
			if pos < want {
				continue
			}
			if err := fn(storage.Entry{Position: pos, Timestamp: c.ts, Data: data}); err != nil {
				return err
			}
			want++
			n++
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := it.Error(); err != nil {
		return b.readError(fmt.Sprintf("log of partition %d", p), err)
	}
	if n < limit && want <= last {
		return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d: position %d is missing (the head is at %d)", p, want, last)}
	}
	return nil
}

// Bounds implements storage.Backend.
func (b *Backend) Bounds(ctx context.Context, p int) (storage.Bounds, error) {
	if !b.enterRead() {
		return storage.Bounds{}, storage.ErrClosed
	}
	defer b.exitRead()
	last := b.last[p].Load()
	if last == 0 {
		return storage.Bounds{}, nil
	}
	it, err := b.db.NewIter(&pebble.IterOptions{LowerBound: partitionKey(kindLog, p), UpperBound: appendLogKey(nil, p, last+1)})
	if err != nil {
		return storage.Bounds{}, b.readError(fmt.Sprintf("log of partition %d", p), err)
	}
	defer it.Close()
	if !it.First() {
		if err := it.Error(); err != nil {
			return storage.Bounds{}, b.readError(fmt.Sprintf("log of partition %d", p), err)
		}
		return storage.Bounds{}, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d is empty but its head is at %d", p, last)}
	}
	return storage.Bounds{First: logKeyPosition(it.Key()), Last: last}, nil
}
