package pebble

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// Read implements storage.Backend. Every chunk's checksum and the
// positions' continuity are verified: a torn, rotten or missing entry is an
// error, never skipped. Reads near the head are served from the chunks the
// partition keeps in memory (recentChunks), older ones from Pebble.
func (b *Backend) Read(ctx context.Context, p int, from uint64, limit int, fn func(storage.Entry) error) error {
	if !b.enterRead() {
		return storage.ErrClosed
	}
	defer b.exitRead()
	last := b.last[p].Load()
	if from > last || limit <= 0 {
		return nil
	}
	r := logReader{b: b, p: p, want: from, last: last, limit: limit, fn: fn}
	var kept [16]recentChunk
	for !r.done() {
		chunks, ok := b.recent[p].from(kept[:0], r.want, min(len(kept), r.limit-r.n))
		if !ok {
			break
		}
		for _, c := range chunks {
			if r.done() {
				break
			}
			if err := r.chunk(c.first, c.value); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if r.done() {
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
	// The chunk holding the position wanted is the last one that starts
	// at or before it.
	valid := it.SeekLT(appendLogKey(nil, p, r.want+1))
	if !valid {
		valid = it.First()
	}
	for ; valid && !r.done(); valid = it.Next() {
		first := logKeyPosition(it.Key())
		v, err := it.ValueAndErr()
		if err != nil {
			return b.readError(fmt.Sprintf("log of partition %d at position %d", p, first), err)
		}
		if err := r.chunk(first, v); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := it.Error(); err != nil {
		return b.readError(fmt.Sprintf("log of partition %d", p), err)
	}
	if !r.done() {
		return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d: position %d is missing (the head is at %d)", p, r.want, last)}
	}
	return nil
}

// logReader hands a read's entries to its callback, chunk by chunk, from
// memory or from Pebble alike, checking that they continue one another.
type logReader struct {
	b       *Backend
	p       int
	want    uint64 // the next position to hand over
	last    uint64 // the visible head
	limit   int
	n       int
	visited bool // a chunk was read: the next must start at want
	fn      func(storage.Entry) error
}

func (r *logReader) done() bool { return r.n >= r.limit || r.want > r.last }

// chunk reads the chunk stored under position first.
func (r *logReader) chunk(first uint64, v []byte) error {
	if first > r.want {
		return &storage.CorruptError{File: r.b.dir, Detail: fmt.Sprintf("log of partition %d: position %d is missing (found %d)", r.p, r.want, first)}
	}
	// Only the first chunk may start before the position wanted; a later
	// one doing so overlaps its predecessor.
	if r.visited && first != r.want {
		return &storage.CorruptError{File: r.b.dir, Detail: fmt.Sprintf("log of partition %d: the chunk at %d overlaps the one before it", r.p, first)}
	}
	r.visited = true
	c, err := decodeChunk(v)
	if err != nil {
		return &storage.CorruptError{File: r.b.dir, Detail: fmt.Sprintf("log of partition %d at position %d: %v", r.p, first, err)}
	}
	if first+c.count <= r.want {
		return &storage.CorruptError{File: r.b.dir, Detail: fmt.Sprintf("log of partition %d: position %d is missing (the chunk before it ends at %d)", r.p, r.want, first+c.count-1)}
	}
	for pos := first; pos < first+c.count && !r.done(); pos++ {
		data, err := c.next()
		if err != nil {
			return &storage.CorruptError{File: r.b.dir, Detail: fmt.Sprintf("log of partition %d at position %d: %v", r.p, pos, err)}
		}
		if pos < r.want {
			continue
		}
		if err := r.fn(storage.Entry{Position: pos, Timestamp: c.ts, Data: data}); err != nil {
			return err
		}
		r.want++
		r.n++
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
