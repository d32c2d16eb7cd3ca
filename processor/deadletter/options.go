package deadletter

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults, as in Axon: a queue holds at most 1024 sequences of at most 1024
// letters each.
const (
	DefaultMaxSequences    = 1024
	DefaultMaxSequenceSize = 1024
	// DefaultClaimDuration is how long a Process call's lease on a
	// sequence lasts unless renewed (see WithClaimDuration).
	DefaultClaimDuration = 30 * time.Second
	// DefaultLockTimeout is how long a node's lock on a bucket of sequences
	// lasts before another node may take it (only a dead node holds one
	// that long: a lock is held for one read and one commit).
	DefaultLockTimeout = 10 * time.Second
)

// MaxSequenceID bounds a sequence id in bytes.
const MaxSequenceID = 1024

type options struct {
	maxSequences  int
	maxSize       int
	clock         func() time.Time
	claimDuration time.Duration
	lockTimeout   time.Duration
	nodeLocks     *bool
	partition     int // -1: by hash of the processor name
	logger        *slog.Logger
	node          string
}

// Opt configures a Queue.
type Opt func(*options)

// WithMaxSequences bounds the number of sequences; Enqueue of a new sequence
// beyond it fails with ErrFull. With several nodes the bound can be passed by
// as many sequences as nodes create at the same instant.
func WithMaxSequences(n int) Opt { return func(o *options) { o.maxSequences = n } }

// WithMaxSequenceSize bounds the letters of one sequence; an Enqueue beyond
// it fails with ErrFull.
func WithMaxSequenceSize(n int) Opt { return func(o *options) { o.maxSize = n } }

// WithClock sets the time source (tests pass a fake one).
func WithClock(now func() time.Time) Opt { return func(o *options) { o.clock = now } }

// WithClaimDuration sets how long a Process call's lease on a sequence lasts.
// The lease is renewed while the handler runs, every third of it, so this is
// how soon another Process may take over the sequence of a holder that died,
// not a bound on the handler.
func WithClaimDuration(d time.Duration) Opt { return func(o *options) { o.claimDuration = d } }

// WithLockTimeout sets how long a node's lock on a bucket of sequences lasts
// before another node may take it. Every node sharing the store should use
// the same value.
func WithLockTimeout(d time.Duration) Opt { return func(o *options) { o.lockTimeout = d } }

// WithNodeLocks says whether several nodes share the store, so that changes
// must be locked in storage as well as in memory. The default is true for
// every backend but "pebble", which one process opens at a time.
func WithNodeLocks(on bool) Opt { return func(o *options) { o.nodeLocks = &on } }

// WithPartition sets the partition whose state holds the queue (by default a
// hash of the processor's name picks one). Every node must use the same.
func WithPartition(p int) Opt { return func(o *options) { o.partition = p } }

// WithLogger sets where the queue reports what it cannot return (a lock it
// could not release).
func WithLogger(l *slog.Logger) Opt { return func(o *options) { o.logger = l } }

// WithNode names the node in the leases this process's Process calls take,
// so that the line logged when another node takes a sequence over whose
// lease lapsed says which node held it. Like WithLockTimeout, the first
// Open of a queue in a process sets it.
func WithNode(name string) Opt { return func(o *options) { o.node = name } }

func buildOptions(opts []Opt) (options, error) {
	o := options{
		maxSequences:  DefaultMaxSequences,
		maxSize:       DefaultMaxSequenceSize,
		clock:         time.Now,
		claimDuration: DefaultClaimDuration,
		lockTimeout:   DefaultLockTimeout,
		partition:     -1,
		logger:        slog.Default(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.maxSequences < 1:
		return o, fmt.Errorf("deadletter: WithMaxSequences(%d): the limit must be at least 1", o.maxSequences)
	case o.maxSize < 1:
		return o, fmt.Errorf("deadletter: WithMaxSequenceSize(%d): the limit must be at least 1", o.maxSize)
	case o.claimDuration <= 0:
		return o, fmt.Errorf("deadletter: WithClaimDuration(%v): the duration must be positive", o.claimDuration)
	case o.lockTimeout <= 0:
		return o, fmt.Errorf("deadletter: WithLockTimeout(%v): the timeout must be positive", o.lockTimeout)
	case len(o.node) > MaxSequenceID:
		return o, fmt.Errorf("deadletter: WithNode: a name of %d bytes, the limit is %d", len(o.node), MaxSequenceID)
	case o.clock == nil:
		return o, fmt.Errorf("deadletter: WithClock(nil): a clock is required")
	case o.logger == nil:
		o.logger = slog.Default()
	}
	return o, nil
}
