package broker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"eddy/storage"
)

// stateWriter commits the broker's own rows (triggers, waits) to one
// partition's state. Every state write is fenced by the partition's
// ownership epoch, which the broker does not hold: it reads the current one
// and, when a commit is refused because the partition changed hands,
// reads it again and retries once.
type stateWriter struct {
	store     *storage.Store
	partition int
	epoch     atomic.Uint64
	known     atomic.Bool
}

func newStateWriter(store *storage.Store, partition int) *stateWriter {
	return &stateWriter{store: store, partition: partition}
}

func (s *stateWriter) refresh(ctx context.Context) error {
	claims, err := s.store.Ownership().PartitionClaims(ctx)
	if err != nil {
		return fmt.Errorf("reading the partition claims: %w", err)
	}
	var epoch uint64
	for _, c := range claims {
		if c.Partition == s.partition {
			epoch = c.Epoch
		}
	}
	s.epoch.Store(epoch)
	s.known.Store(true)
	return nil
}

// commit makes the writes fill adds durable in one atomic batch.
func (s *stateWriter) commit(ctx context.Context, fill func(b *storage.Batch)) error {
	for retried := false; ; retried = true {
		if !s.known.Load() {
			if err := s.refresh(ctx); err != nil {
				return err
			}
		}
		b := storage.NewBatch(s.partition, s.epoch.Load())
		fill(b)
		_, err := s.store.Commit(ctx, b)
		if err == nil || retried || !errors.Is(err, storage.ErrFenced) {
			return err
		}
		s.known.Store(false)
	}
}

func (s *stateWriter) put(ctx context.Context, key, value []byte) error {
	return s.commit(ctx, func(b *storage.Batch) { b.Put(key, value) })
}

func (s *stateWriter) delete(ctx context.Context, key []byte) error {
	return s.commit(ctx, func(b *storage.Batch) { b.Delete(key) })
}

// get reads a row; storage.ErrNotFound when there is none.
func (s *stateWriter) get(ctx context.Context, key []byte) ([]byte, error) {
	return s.store.Get(ctx, s.partition, key)
}

// scan calls fn for every row under prefix, in key order.
func (s *stateWriter) scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	return s.store.Scan(ctx, s.partition, prefix, fn)
}
