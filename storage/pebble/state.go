package pebble

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// Get implements storage.Backend. It reads the acknowledged view.
func (b *Backend) Get(ctx context.Context, p int, key []byte) ([]byte, error) {
	if !b.enterRead() {
		return nil, storage.ErrClosed
	}
	defer b.exitRead()
	view := b.views.acquire()
	defer b.views.release(view)
	v, closer, err := view.snap.Get(appendStateKey(nil, p, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: key %q in the state of partition %d", storage.ErrNotFound, key, p)
	}
	if err != nil {
		return nil, b.readError(fmt.Sprintf("state of partition %d", p), err)
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// Scan implements storage.Backend. It reads the acknowledged view.
func (b *Backend) Scan(ctx context.Context, p int, prefix []byte, fn func(key, value []byte) error) error {
	if !b.enterRead() {
		return storage.ErrClosed
	}
	defer b.exitRead()
	view := b.views.acquire()
	defer b.views.release(view)
	lower := appendStateKey(nil, p, prefix)
	upper := storage.PrefixEnd(lower)
	it, err := view.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return b.readError(fmt.Sprintf("state of partition %d", p), err)
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return b.readError(fmt.Sprintf("state of partition %d", p), err)
		}
		if err := fn(it.Key()[3:], v); err != nil {
			return err
		}
	}
	return b.readError(fmt.Sprintf("state of partition %d", p), it.Error())
}
