package processor

import (
	"bytes"
	"context"

	"eddy/storage"
)

// Tx is a handler's view of the transaction its batch commits in: state
// writes to one partition of Eddy's store (WithStatePartition) that become
// durable together with the processor's token, or not at all. A handler that
// keeps its effects here is exactly-once; writes of an event whose handler
// fails are dropped.
type Tx struct {
	store     *storage.Store
	partition int
	writes    []storage.StateWrite
	// inflight are the previous batch's writes while it commits: not yet
	// readable from the store, already the state this batch builds on.
	inflight []storage.StateWrite
}

func newTx(store *storage.Store, partition int) Tx {
	return Tx{store: store, partition: partition}
}

// Partition is the partition whose state the transaction writes.
func (t *Tx) Partition() int { return t.partition }

// Put sets key to value when the batch commits. Key and value are copied.
func (t *Tx) Put(key, value []byte) {
	t.writes = append(t.writes, storage.StateWrite{Key: bytes.Clone(key), Value: bytes.Clone(value)})
}

// Delete removes key when the batch commits.
func (t *Tx) Delete(key []byte) {
	t.writes = append(t.writes, storage.StateWrite{Key: bytes.Clone(key), Delete: true})
}

// Get returns key's value as the transaction sees it: its own pending write
// if there is one, else the committed state. storage.ErrNotFound if none.
func (t *Tx) Get(ctx context.Context, key []byte) ([]byte, error) {
	for _, ws := range [][]storage.StateWrite{t.writes, t.inflight} {
		for i := len(ws) - 1; i >= 0; i-- {
			if w := ws[i]; bytes.Equal(w.Key, key) {
				if w.Delete {
					return nil, storage.ErrNotFound
				}
				return bytes.Clone(w.Value), nil
			}
		}
	}
	return t.store.Get(ctx, t.partition, key)
}

// mark and rollback drop the writes of one failed event.
func (t *Tx) mark() int { return len(t.writes) }

func (t *Tx) rollback(mark int) {
	clear(t.writes[mark:])
	t.writes = t.writes[:mark]
}

func (t *Tx) fill(b *storage.Batch) {
	for _, w := range t.writes {
		if w.Delete {
			b.Delete(w.Key)
		} else {
			b.Put(w.Key, w.Value)
		}
	}
}
