package storage

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Store is the front of a storage backend: what every caller uses. It
// validates requests, groups concurrent commits and tails the log; the
// backend does the durable work.
type Store struct {
	backend   Backend
	name      string
	committer *committer
	metrics   Metrics
}

// Open opens the named backend at location (a directory for "pebble", a DSN
// for "postgres"), creating it if needed.
func Open(ctx context.Context, backend, location string, opts ...Opt) (*Store, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	open, err := lookup(backend)
	if err != nil {
		return nil, err
	}
	b, err := open(ctx, location, o)
	if err != nil {
		return nil, err
	}
	return New(b, backend, o.MaxGroup), nil
}

// New wraps an opened backend. Most callers use Open.
func New(b Backend, name string, maxGroup int) *Store {
	s := &Store{backend: b, name: name}
	if maxGroup < 1 {
		maxGroup = 512
	}
	s.committer = newCommitter(b, maxGroup, &s.metrics)
	return s
}

// Backend returns the backend's name.
func (s *Store) Backend() string { return s.name }

// Partitions returns the partition count.
func (s *Store) Partitions() int { return s.backend.Partitions() }

// Metrics returns the store's counters.
func (s *Store) Metrics() *Metrics { return &s.metrics }

// Commit makes b durable and returns the position of its first entry (0 if it
// appends none). On return without error the batch survives a crash. ctx
// bounds the wait for a place in the commit queue; once queued, Commit waits
// for the outcome. An error wrapping ErrOutcomeUnknown means the batch may
// have been committed.
func (s *Store) Commit(ctx context.Context, b *Batch) (uint64, error) {
	if err := b.validate(s.Partitions()); err != nil {
		return 0, err
	}
	if b.Empty() {
		return 0, nil
	}
	return s.committer.commit(ctx, b)
}

// Append appends entries to partition under epoch and returns the first
// position.
func (s *Store) Append(ctx context.Context, partition int, epoch uint64, data ...[]byte) (uint64, error) {
	b := NewBatch(partition, epoch)
	b.Append(data...)
	return s.Commit(ctx, b)
}

func (s *Store) checkPartition(p int) error {
	if p < 0 || p >= s.Partitions() {
		return invalidf("partition %d out of range [0, %d)", p, s.Partitions())
	}
	return nil
}

// Read calls fn for up to limit entries of partition from position from on;
// limit <= 0 means no limit. Entry.Data is valid only during the call.
func (s *Store) Read(ctx context.Context, partition int, from uint64, limit int, fn func(Entry) error) error {
	if err := s.checkPartition(partition); err != nil {
		return err
	}
	if from == 0 {
		from = 1
	}
	if limit <= 0 {
		limit = int(^uint(0) >> 1)
	}
	return s.backend.Read(ctx, partition, from, limit, fn)
}

// Bounds returns the partition's first and last positions.
func (s *Store) Bounds(ctx context.Context, partition int) (Bounds, error) {
	if err := s.checkPartition(partition); err != nil {
		return Bounds{}, err
	}
	return s.backend.Bounds(ctx, partition)
}

// SeekTime returns the first position whose append time is at or after t, or
// Last+1 if every entry is older. Timestamps never decrease within a
// partition, so a binary search over positions finds it in O(log n) reads.
func (s *Store) SeekTime(ctx context.Context, partition int, t time.Time) (uint64, error) {
	bounds, err := s.Bounds(ctx, partition)
	if err != nil {
		return 0, err
	}
	if bounds.Empty() {
		return bounds.Last + 1, nil
	}
	// Timestamps are whole milliseconds: round t up, so that a position
	// found is never before t.
	want := t.UnixMilli()
	if t.UnixNano() > want*int64(time.Millisecond) {
		want++
	}
	var searchErr error
	n := int(bounds.Last - bounds.First + 1)
	i := sort.Search(n, func(i int) bool {
		if searchErr != nil {
			return true
		}
		ts, err := s.timestampAt(ctx, partition, bounds.First+uint64(i))
		if err != nil {
			searchErr = err
			return true
		}
		return ts >= want
	})
	if searchErr != nil {
		return 0, searchErr
	}
	return bounds.First + uint64(i), nil
}

func (s *Store) timestampAt(ctx context.Context, partition int, pos uint64) (int64, error) {
	var ts int64
	found := false
	err := s.backend.Read(ctx, partition, pos, 1, func(e Entry) error {
		if e.Position != pos {
			return &CorruptError{File: fmt.Sprintf("log of partition %d", partition), Detail: fmt.Sprintf("expected position %d, found %d", pos, e.Position)}
		}
		ts, found = e.Timestamp, true
		return nil
	})
	if err == nil && !found {
		err = &CorruptError{File: fmt.Sprintf("log of partition %d", partition), Detail: fmt.Sprintf("position %d is missing inside the log's bounds", pos)}
	}
	return ts, err
}

// Get returns key's value in partition's state, or ErrNotFound.
func (s *Store) Get(ctx context.Context, partition int, key []byte) ([]byte, error) {
	if err := s.checkPartition(partition); err != nil {
		return nil, err
	}
	if len(key) == 0 {
		return nil, invalidf("partition %d: get with an empty key", partition)
	}
	return s.backend.Get(ctx, partition, key)
}

// Scan calls fn for each key with prefix in partition's state, in ascending
// order. key and value are valid only during the call.
func (s *Store) Scan(ctx context.Context, partition int, prefix []byte, fn func(key, value []byte) error) error {
	if err := s.checkPartition(partition); err != nil {
		return err
	}
	return s.backend.Scan(ctx, partition, prefix, fn)
}

// Tokens returns the token store.
func (s *Store) Tokens() TokenStore { return tokenFront{s.backend} }

// Ownership returns partition ownership.
func (s *Store) Ownership() Ownership { return ownershipFront{s.backend, s.Partitions()} }

// Close stops the group commit and closes the backend. Commits waiting in
// the queue are answered with ErrClosed.
func (s *Store) Close() error {
	s.committer.close()
	return s.backend.Close()
}
