package storage

import (
	"context"
	"sync"
	"sync/atomic"
)

// committer is the group commit: concurrent Commit calls queue their batches,
// a goroutine hands whatever has queued to the backend as one durable write,
// and every caller is answered. Under load many batches share one fsync.
//
// For a backend that is a Pipeliner, several such goroutines run: while one
// group waits for its sync, the next ones are gathered and handed over, so a
// sync is always in flight. Backends order the groups and keep positions
// gapless.
type committer struct {
	backend  Backend
	maxGroup int
	queue    chan *commitRequest
	stop     chan struct{}
	done     sync.WaitGroup
	metrics  *Metrics

	// closeMu makes close wait for senders in flight, so that no request
	// lands in the queue after the final drain.
	closeMu sync.RWMutex
	closed  bool
}

type commitRequest struct {
	batch *Batch
	first uint64
	err   error
	ready chan struct{}
}

var requestPool = sync.Pool{New: func() any { return &commitRequest{ready: make(chan struct{}, 1)} }}

func newCommitter(b Backend, maxGroup int, m *Metrics) *committer {
	depth := 1
	if p, ok := b.(Pipeliner); ok {
		depth = max(1, p.PipelineDepth())
	}
	c := &committer{
		backend:  b,
		maxGroup: maxGroup,
		queue:    make(chan *commitRequest, maxGroup),
		stop:     make(chan struct{}),
		metrics:  m,
	}
	c.done.Add(depth)
	for range depth {
		go c.run()
	}
	return c
}

// commit queues b and waits for its outcome. ctx bounds the wait for a place
// in the queue only: once queued, the batch is in the committer's hands and
// Commit waits for the answer, so that the caller never reuses a batch that
// is still being written (backends answer every group).
func (c *committer) commit(ctx context.Context, b *Batch) (uint64, error) {
	c.closeMu.RLock()
	if c.closed {
		c.closeMu.RUnlock()
		return 0, ErrClosed
	}
	req := requestPool.Get().(*commitRequest)
	req.batch = b
	select {
	case c.queue <- req:
		c.closeMu.RUnlock()
	case <-ctx.Done():
		c.closeMu.RUnlock()
		requestPool.Put(req)
		return 0, ctx.Err()
	}
	<-req.ready
	first, err := req.first, req.err
	req.batch, req.err = nil, nil
	requestPool.Put(req)
	return first, err
}

func (c *committer) run() {
	defer c.done.Done()
	group := make([]*commitRequest, 0, c.maxGroup)
	batches := make([]*Batch, 0, c.maxGroup)
	firsts := make([]uint64, c.maxGroup)
	errs := make([]error, c.maxGroup)
	for {
		group, batches = group[:0], batches[:0]
		select {
		case req := <-c.queue:
			group = append(group, req)
		case <-c.stop:
			c.drainClosed()
			return
		}
	gather:
		for len(group) < c.maxGroup {
			select {
			case req := <-c.queue:
				group = append(group, req)
			default:
				break gather
			}
		}
		for _, r := range group {
			batches = append(batches, r.batch)
		}
		n := len(group)
		clear(errs[:n])
		clear(firsts[:n])
		err := c.backend.Commit(context.Background(), batches, firsts[:n], errs[:n])
		// Counters move before any waiter wakes, so that a caller whose
		// commit returned sees it counted.
		entries := 0
		for i, r := range group {
			r.first, r.err = firsts[i], errs[i]
			if err != nil {
				r.first, r.err = 0, err
			}
			if r.err == nil {
				entries += len(r.batch.entries)
			}
		}
		c.metrics.Groups.Add(1)
		c.metrics.Batches.Add(uint64(n))
		c.metrics.Entries.Add(uint64(entries))
		for _, r := range group {
			r.ready <- struct{}{}
		}
	}
}

// drainClosed answers requests that raced with close.
func (c *committer) drainClosed() {
	for {
		select {
		case req := <-c.queue:
			req.first, req.err = 0, ErrClosed
			req.ready <- struct{}{}
		default:
			return
		}
	}
}

func (c *committer) close() {
	c.closeMu.Lock()
	if c.closed {
		c.closeMu.Unlock()
		c.done.Wait()
		return
	}
	c.closed = true
	c.closeMu.Unlock()
	close(c.stop)
	c.done.Wait()
}

// Metrics are the store's counters, as a plain struct of atomics.
type Metrics struct {
	// Groups counts durable writes; Batches/Groups is the group-commit gain.
	Groups  atomic.Uint64
	Batches atomic.Uint64
	Entries atomic.Uint64
}
