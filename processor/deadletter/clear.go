package deadletter

import (
	"context"
	"fmt"

	"eddy/storage"
)

// clearBatch is the number of deletions after which Clear commits; a
// sequence is always deleted whole in one commit.
const clearBatch = 1024

// Clear removes every letter and sequence of the queue. It takes every lock,
// so it waits for changes in flight and nothing changes meanwhile; a Process
// call holding a sequence finds it gone. Each sequence goes whole in one
// commit, so a Clear cut short leaves whole sequences behind.
func (q *Queue) Clear(ctx context.Context) error {
	all := make([]int, buckets)
	for i := range all {
		all[i] = i
	}
	h, err := q.locks.lock(ctx, all...)
	if err != nil {
		return err
	}
	defer q.locks.unlock(h)

	var seqs []string
	err = q.scanRows(ctx, func(seq string, _ *sequenceRow) error {
		seqs = append(seqs, seq)
		return nil
	})
	if err != nil {
		return err
	}
	// Sequences leave the known set only once their deletion committed: a
	// sequence wrongly missing there could be jumped.
	b := storage.NewBatch(q.partition, 0)
	var deleted []string
	flush := func() error {
		if b.Empty() {
			return nil
		}
		h.fence(b)
		if err := q.commit(ctx, b); err != nil {
			return fmt.Errorf("deadletter: clearing: %w", err)
		}
		for _, seq := range deleted {
			q.known.remove(seq)
		}
		b, deleted = storage.NewBatch(q.partition, 0), deleted[:0]
		return nil
	}
	for _, seq := range seqs {
		letters, err := q.Letters(ctx, seq)
		if err != nil {
			return err
		}
		for _, l := range letters {
			b.Delete(q.keys.id(l.ID))
			if l.Event.Position > 0 {
				b.Delete(q.keys.position(seq, l.Event))
			}
		}
		err = q.store.Scan(ctx, q.partition, q.keys.letters(seq), func(key, _ []byte) error {
			b.Delete(append([]byte(nil), key...))
			return nil
		})
		if err != nil {
			return q.readError("letters", err)
		}
		b.Delete(q.keys.sequence(seq))
		deleted = append(deleted, seq)
		if len(b.Writes()) >= clearBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// Whatever is left belongs to no sequence (crumbs of an interrupted
	// write by another version): it goes too.
	err = q.store.Scan(ctx, q.partition, q.keys.all(), func(key, _ []byte) error {
		b.Delete(append([]byte(nil), key...))
		return nil
	})
	if err != nil {
		return q.readError("the queue", err)
	}
	return flush()
}

// Drop clears the queue, removes its locks from the token store and
// forgets what this process shares about it: for the queue of a processor
// that is gone for good, which no node opens again.
func (q *Queue) Drop(ctx context.Context) error {
	if err := q.Clear(ctx); err != nil {
		return err
	}
	if err := q.store.Tokens().DeleteSegments(ctx, q.locks.name); err != nil {
		return fmt.Errorf("deadletter: removing the locks of %s: %w", q.locks.name, err)
	}
	forgetState(q.store, q.processor, q.partition)
	return nil
}
