package pebble

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

// write applies one token or ownership change, synced, and publishes a read
// view that holds it. The caller holds mu. Its sync covers every group
// written before, so the view is all durable.
func (b *Backend) write(fill func(wb *pebble.Batch) error) error {
	if f := b.failed.Load(); f != nil {
		return b.failedError(*f)
	}
	wb := b.db.NewBatch()
	defer wb.Close()
	if err := fill(wb); err != nil {
		return err
	}
	if err := wb.Commit(pebble.Sync); err != nil {
		b.failed.CompareAndSwap(nil, &err)
		return fmt.Errorf("%w: pebble: committing to %s: %v", storage.ErrOutcomeUnknown, b.dir, err)
	}
	b.applied++
	b.views.publish(b.db.NewSnapshot(), b.applied)
	return nil
}

func (b *Backend) failedError(err error) error {
	return fmt.Errorf("pebble: %s stopped accepting writes after a failed sync: %w", b.dir, err)
}
