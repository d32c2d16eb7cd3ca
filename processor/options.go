package processor

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"eddy/processor/deadletter"
	"eddy/storage"
)

// Mode is how a processor spreads its work.
type Mode int

const (
	// Pooled (the default) reads one stream and hands each claimed
	// segment's events to a work package; any number of segments per node.
	Pooled Mode = iota
	// Tracking opens one stream per claimed segment, each moving at its
	// own pace, with at most Threads segments per node.
	Tracking
)

func (m Mode) String() string {
	if m == Tracking {
		return "tracking"
	}
	return "pooled"
}

// Defaults, as in Axon.
const (
	DefaultClaimTimeout       = 10 * time.Second
	DefaultClaimInterval      = 5 * time.Second
	DefaultExtensionThreshold = 5 * time.Second
	DefaultBatchSize          = 100
	DefaultRetryMin           = time.Second
	DefaultRetryMax           = time.Minute
	DefaultPooledSegments     = 16
	DefaultTrackingSegments   = 1
	// DefaultReadAhead is how many batches of events wait for a work
	// package before the stream stops reading.
	DefaultReadAhead = 4
)

type options struct {
	mode               Mode
	threads            int
	workers            int
	maxClaimed         int
	initialSegments    int
	initialToken       InitialToken
	batchSize          int
	claimInterval      time.Duration
	claimTimeout       time.Duration
	extensionThreshold time.Duration
	retryMin, retryMax time.Duration
	sequencing         SequencingPolicy
	errorHandler       ErrorHandler
	deadLetters        *deadletter.Queue
	deadLetterPolicy   deadletter.Policy
	statePartition     int
	node               string
	clock              Clock
	logger             *slog.Logger
	readAhead          int
}

// Opt configures a processor.
type Opt func(*options)

// WithMode sets the mode (Pooled by default).
func WithMode(m Mode) Opt { return func(o *options) { o.mode = m } }

// WithThreads sets how many segments a Tracking processor handles at once on
// this node, each with its own stream (1 by default).
func WithThreads(n int) Opt { return func(o *options) { o.threads = n } }

// WithWorkers bounds how many work packages of a Pooled processor run
// handlers at the same time (by default each runs on its own goroutine).
func WithWorkers(n int) Opt { return func(o *options) { o.workers = n } }

// WithMaxClaimedSegments bounds the segments a Pooled processor claims on
// this node.
func WithMaxClaimedSegments(n int) Opt { return func(o *options) { o.maxClaimed = n } }

// WithInitialSegments sets the segment count a processor starts with the
// first time it runs, a power of two (1 for Tracking, 16 for Pooled).
func WithInitialSegments(n int) Opt { return func(o *options) { o.initialSegments = n } }

// WithInitialToken sets where a processor starts the first time (FromTail by
// default).
func WithInitialToken(t InitialToken) Opt { return func(o *options) { o.initialToken = t } }

// WithBatchSize sets how many events one transaction handles: their state
// writes and the token commit together (100 by default). A batch ends
// early when the stream has no more events ready; it grows, up to eight
// times the size, while the previous batch is still being committed, so that
// a processor catching up is not held back by the disk's sync time.
func WithBatchSize(n int) Opt { return func(o *options) { o.batchSize = n } }

// WithClaimInterval sets how often the processor looks for segments to claim
// (5 s by default).
func WithClaimInterval(d time.Duration) Opt { return func(o *options) { o.claimInterval = d } }

// WithClaimTimeout sets how long a claim lasts without being extended before
// another node may steal it (10 s by default). Every node must use the same.
func WithClaimTimeout(d time.Duration) Opt { return func(o *options) { o.claimTimeout = d } }

// WithClaimExtensionThreshold sets how long a segment may go without a commit
// before its claim is extended (5 s by default).
func WithClaimExtensionThreshold(d time.Duration) Opt {
	return func(o *options) { o.extensionThreshold = d }
}

// WithRetryBackoff sets a Tracking processor's wait after a failure: min at
// first, doubling up to max (1 s and 60 s by default).
func WithRetryBackoff(min, max time.Duration) Opt {
	return func(o *options) { o.retryMin, o.retryMax = min, max }
}

// WithSequencing sets the sequencing policy (PerKey by default).
func WithSequencing(p SequencingPolicy) Opt { return func(o *options) { o.sequencing = p } }

// WithErrorHandler sets what a handler's error means (by default it fails the
// batch).
func WithErrorHandler(h ErrorHandler) Opt { return func(o *options) { o.errorHandler = h } }

// WithStatePartition sets the partition whose state Delivery.Tx writes to (0
// by default).
func WithStatePartition(p int) Opt { return func(o *options) { o.statePartition = p } }

// WithNodeID names this node in claims; nodes must have distinct ids (by
// default the host name, process id and a random suffix). A node restarted
// under the same id takes its segments back at once instead of waiting for
// its old claims to time out.
func WithNodeID(id string) Opt { return func(o *options) { o.node = id } }

// WithClock sets the time source for claims, back-off and time-based tokens
// (tests pass a fake one; the store should use the same).
func WithClock(c Clock) Opt { return func(o *options) { o.clock = c } }

// WithLogger sets where the processor reports what it cannot return.
func WithLogger(l *slog.Logger) Opt { return func(o *options) { o.logger = l } }

// WithReadAhead sets how many batches of events may wait for one work
// package before the stream stops reading (4 by default).
func WithReadAhead(n int) Opt { return func(o *options) { o.readAhead = n } }

func buildOptions(store *storage.Store, opts []Opt) (options, error) {
	o := options{
		initialToken:       FromTail(),
		batchSize:          DefaultBatchSize,
		claimInterval:      DefaultClaimInterval,
		claimTimeout:       DefaultClaimTimeout,
		extensionThreshold: DefaultExtensionThreshold,
		retryMin:           DefaultRetryMin,
		retryMax:           DefaultRetryMax,
		sequencing:         PerKey(),
		clock:              realClock{},
		logger:             slog.Default(),
		readAhead:          DefaultReadAhead,
		threads:            1,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.initialSegments == 0 {
		o.initialSegments = DefaultPooledSegments
		if o.mode == Tracking {
			o.initialSegments = DefaultTrackingSegments
		}
	}
	if o.node == "" {
		o.node = defaultNodeID()
	}
	if o.maxClaimed <= 0 {
		o.maxClaimed = 1 << 16
	}
	switch {
	case o.mode != Pooled && o.mode != Tracking:
		return o, fmt.Errorf("processor: unknown mode %d", o.mode)
	case o.initialSegments < 1 || o.initialSegments > 1<<16 || o.initialSegments&(o.initialSegments-1) != 0:
		return o, fmt.Errorf("processor: WithInitialSegments(%d): must be a power of two in [1, 65536]", o.initialSegments)
	case o.threads < 1:
		return o, fmt.Errorf("processor: WithThreads(%d): must be at least 1", o.threads)
	case o.workers < 0:
		return o, fmt.Errorf("processor: WithWorkers(%d): must not be negative", o.workers)
	case o.batchSize < 1:
		return o, fmt.Errorf("processor: WithBatchSize(%d): must be at least 1", o.batchSize)
	case o.claimInterval <= 0 || o.claimTimeout <= 0 || o.extensionThreshold <= 0:
		return o, fmt.Errorf("processor: claim interval %v, timeout %v and extension threshold %v must be positive", o.claimInterval, o.claimTimeout, o.extensionThreshold)
	case o.extensionThreshold >= o.claimTimeout:
		return o, fmt.Errorf("processor: claim extension threshold %v must be below the claim timeout %v, or claims lapse before they are extended", o.extensionThreshold, o.claimTimeout)
	case o.retryMin <= 0 || o.retryMax < o.retryMin:
		return o, fmt.Errorf("processor: WithRetryBackoff(%v, %v): need 0 < min <= max", o.retryMin, o.retryMax)
	case o.sequencing == nil || o.initialToken == nil || o.clock == nil:
		return o, fmt.Errorf("processor: sequencing policy, initial token and clock must not be nil")
	case o.statePartition < 0 || o.statePartition >= store.Partitions():
		return o, fmt.Errorf("processor: WithStatePartition(%d): the store has partitions 0-%d", o.statePartition, store.Partitions()-1)
	case o.readAhead < 1:
		return o, fmt.Errorf("processor: WithReadAhead(%d): must be at least 1", o.readAhead)
	case len(o.node) > 200:
		return o, fmt.Errorf("processor: node id of %d bytes, the limit is 200", len(o.node))
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o, nil
}

// segmentLimit is how many segments this node may hold at once.
func (o *options) segmentLimit() int {
	if o.mode == Tracking {
		return o.threads
	}
	return o.maxClaimed
}

func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "node"
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(suffix))
}
