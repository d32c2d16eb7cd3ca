package broker

import (
	"sync"
	"sync/atomic"
	"time"
)

// deliveryStats counts what one trigger did on this node since it started.
type deliveryStats struct {
	delivered    atomic.Uint64
	retries      atomic.Uint64
	failures     atomic.Uint64
	deadLettered atomic.Uint64
	replies      atomic.Uint64
	dropped      atomic.Uint64
	// deliveredAt is when the subscriber last accepted an event (Unix
	// nanoseconds): set against lastErrorAt, it says whether deliveries
	// recovered since that error.
	deliveredAt atomic.Int64

	mu          sync.Mutex
	lastError   string
	lastErrorAt time.Time
}

func (s *deliveryStats) accepted() {
	s.delivered.Add(1)
	s.deliveredAt.Store(time.Now().UnixNano())
}

func (s *deliveryStats) retried(reason string) {
	s.retries.Add(1)
	s.setError(reason)
}

func (s *deliveryStats) failed(reason string) {
	s.failures.Add(1)
	s.setError(reason)
}

func (s *deliveryStats) setError(reason string) {
	s.mu.Lock()
	s.lastError, s.lastErrorAt = reason, time.Now()
	s.mu.Unlock()
}

// DeliveryCounts is what a trigger did on this node since it started.
type DeliveryCounts struct {
	// Delivered counts events the subscriber accepted.
	Delivered uint64 `json:"delivered"`
	// Retries counts attempts made again after a retryable failure.
	Retries uint64 `json:"retries"`
	// Failures counts events whose delivery failed for good.
	Failures uint64 `json:"failures"`
	// DeadLettered counts failed events the dead-letter sink accepted.
	DeadLettered uint64 `json:"deadLettered"`
	// Replies counts reply events published into the broker.
	Replies uint64 `json:"replies"`
	// RepliesDropped counts replies not published because their hop count
	// (knativebrokerttl) ran out: a reply loop, cut.
	RepliesDropped uint64 `json:"repliesDropped"`
	// LastDeliveredAt is when the subscriber last accepted an event; one
	// later than LastErrorAt says the deliveries recovered since.
	LastDeliveredAt time.Time `json:"lastDeliveredAt,omitzero"`
	LastError       string    `json:"lastError,omitempty"`
	LastErrorAt     time.Time `json:"lastErrorAt,omitzero"`
}

func (s *deliveryStats) snapshot() DeliveryCounts {
	c := DeliveryCounts{
		Delivered: s.delivered.Load(), Retries: s.retries.Load(), Failures: s.failures.Load(),
		DeadLettered: s.deadLettered.Load(), Replies: s.replies.Load(), RepliesDropped: s.dropped.Load(),
	}
	if at := s.deliveredAt.Load(); at != 0 {
		c.LastDeliveredAt = time.Unix(0, at)
	}
	s.mu.Lock()
	c.LastError, c.LastErrorAt = s.lastError, s.lastErrorAt
	s.mu.Unlock()
	return c
}
