package pebble

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// Read implements storage.Backend. Every entry's checksum and position are
// verified: a torn, rotten or missing entry is an error, never skipped.
func (b *Backend) Read(ctx context.Context, p int, from uint64, limit int, fn func(storage.Entry) error) error {
	if !b.enterRead() {
		return storage.ErrClosed
	}
	defer b.exitRead()
	last := b.last[p].Load()
	if from > last {
		return nil
	}
	lower := appendLogKey(nil, p, from)
	// Bound by the visible head so a read never runs past what was
	// acknowledged to readers.
	upper := appendLogKey(nil, p, last+1)
	it, err := b.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return b.readError(fmt.Sprintf("log of partition %d", p), err)
	}
	defer it.Close()
	want := from
	n := 0
	for valid := it.First(); valid && n < limit; valid = it.Next() {
		pos := logKeyPosition(it.Key())
		if pos != want {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d: position %d is missing (found %d)", p, want, pos)}
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return b.readError(fmt.Sprintf("log of partition %d at position %d", p, pos), err)
		}
		ts, data, ok := decodeLogValue(v)
		if !ok {
			return &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("log of partition %d at position %d: checksum mismatch", p, pos)}
		}
		if err := fn(storage.Entry{Position: pos, Timestamp: ts, Data: data}); err != nil {
			return err
		}
		want++
		n++
		if n%1024 == 0 && ctx.Err() != nil {
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
