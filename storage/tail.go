package storage

import "context"

// Tail follows a partition's log from a position on, waking on appends
// instead of polling. It is not safe for concurrent use.
type Tail struct {
	store     *Store
	partition int
	next      uint64
}

// Tail returns a tail of partition that starts at position from (0 or 1: the
// beginning).
func (s *Store) Tail(partition int, from uint64) (*Tail, error) {
	if err := s.checkPartition(partition); err != nil {
		return nil, err
	}
	if from == 0 {
		from = 1
	}
	return &Tail{store: s, partition: partition, next: from}, nil
}

// Position is the next position the tail will read.
func (t *Tail) Position() uint64 { return t.next }

// Next calls fn for up to limit entries from the tail's position, waiting
// until at least one is there or ctx ends. It returns how many it handed
// over; the position advances past each entry fn accepted.
func (t *Tail) Next(ctx context.Context, limit int, fn func(Entry) error) (int, error) {
	for {
		// Take the wake-up channel before reading, so that an append landing
		// between the read and the wait is not missed.
		changed := t.store.backend.Changed(t.partition)
		n := 0
		err := t.store.Read(ctx, t.partition, t.next, limit, func(e Entry) error {
			if err := fn(e); err != nil {
				return err
			}
			t.next = e.Position + 1
			n++
			return nil
		})
		if err != nil || n > 0 {
			return n, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
