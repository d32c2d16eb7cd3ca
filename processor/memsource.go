package processor

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"eddy/storage"
)

// MemorySource is a source held in memory, for tests and examples: events
// appended to it stream like the log's, one token position per partition.
type MemorySource struct {
	mu      sync.Mutex
	parts   [][]Event
	now     func() time.Time
	appends storage.Signal
}

// NewMemorySource returns an empty source of partitions partitions whose
// events are stamped by now (time.Now when nil).
func NewMemorySource(partitions int, now func() time.Time) *MemorySource {
	if now == nil {
		now = time.Now
	}
	return &MemorySource{parts: make([][]Event, max(1, partitions)), now: now}
}

// Append adds events to partition, giving each its position and, when it has
// none, a timestamp; it returns the position of the last one.
func (m *MemorySource) Append(partition int, events ...Event) Position {
	m.mu.Lock()
	if partition < 0 || partition >= len(m.parts) {
		m.mu.Unlock()
		panic(fmt.Sprintf("processor: MemorySource.Append to partition %d of %d", partition, len(m.parts)))
	}
	var last Position
	for _, e := range events {
		e.Position = Position{Partition: partition, Offset: uint64(len(m.parts[partition]) + 1)}
		if e.Timestamp.IsZero() {
			e.Timestamp = m.now()
		}
		m.parts[partition] = append(m.parts[partition], e)
		last = e.Position
	}
	m.mu.Unlock()
	m.appends.Notify()
	return last
}

// TailToken implements Source.
func (m *MemorySource) TailToken(context.Context) (Token, error) { return Token{}, nil }

// HeadToken implements Source.
func (m *MemorySource) HeadToken(context.Context) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t Token
	for p, evs := range m.parts {
		t.raise(Position{Partition: p, Offset: uint64(len(evs))})
	}
	return t, nil
}

// TokenAt implements Source.
func (m *MemorySource) TokenAt(_ context.Context, at time.Time) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t Token
	for p, evs := range m.parts {
		i := sort.Search(len(evs), func(i int) bool { return !evs[i].Timestamp.Before(at) })
		t.raise(Position{Partition: p, Offset: uint64(i)})
	}
	return t, nil
}

// Open implements Source.
func (m *MemorySource) Open(_ context.Context, after Token) (Stream, error) {
	m.mu.Lock()
	n := len(m.parts)
	m.mu.Unlock()
	next := make([]uint64, n)
	for _, p := range after.pos {
		if p.Stream != "" || p.Partition >= n {
			return nil, fmt.Errorf("processor: token %s does not fit the memory source: it names %s, the source has partitions 0-%d", after, p, n-1)
		}
		next[p.Partition] = p.Offset
	}
	return &memStream{src: m, next: next}, nil
}

// memReadSize bounds the events one Next returns per partition.
const memReadSize = 1000

type memStream struct {
	src  *MemorySource
	next []uint64 // per partition, the offset last returned
}

func (s *memStream) Next(ctx context.Context, wait time.Duration) ([]Event, error) {
	var wctx context.Context
	for {
		changed := s.src.appends.Wait()
		if out := s.take(); len(out) > 0 {
			return out, nil
		}
		if wait == 0 {
			return nil, nil
		}
		if wctx == nil {
			var cancel context.CancelFunc
			wctx, cancel = waitContext(ctx, wait)
			defer cancel()
		}
		select {
		case <-changed:
		case <-wctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *memStream) take() []Event {
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	var out []Event
	for p, evs := range s.src.parts {
		from := s.next[p]
		to := min(uint64(len(evs)), from+memReadSize)
		out = append(out, evs[from:to]...)
		s.next[p] = to
	}
	return out
}

func (s *memStream) Close() error { return nil }
