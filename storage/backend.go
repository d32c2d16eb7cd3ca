package storage

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Backend is what a storage implementation provides. Store wraps it with
// validation, group commit and tailing; a backend may assume that batches
// reaching Commit passed Batch validation and name partitions in range.
type Backend interface {
	// Partitions is the partition count, fixed when the store was created.
	Partitions() int

	// Commit makes a group of batches durable. Each batch is checked on its
	// own (ownership epoch, token claims): one that fails is left out and
	// gets its error in errs[i]. All others are committed atomically
	// together, entries getting consecutive positions per partition in
	// group order; firsts[i] is the first position given to batch i (0
	// when it appends nothing). If the durable write itself fails, Commit
	// returns that error for the whole group: wrapping ErrOutcomeUnknown
	// when the group may have become durable anyway (a connection cut after
	// the commit was sent, a failed sync after the write), and otherwise
	// meaning that no batch of the group was committed.
	// firsts and errs have len(batches).
	//
	// A backend that implements Pipeliner may get several Commit calls at
	// once: it serializes what must be ordered and may wait for durability
	// outside that, but Read must never show an entry before Commit
	// acknowledged it, and positions must become durable in order.
	Commit(ctx context.Context, batches []*Batch, firsts []uint64, errs []error) error

	// Read calls fn for each entry of partition at positions >= from, in
	// order, stopping after limit entries, at the end of the log, or at the
	// first error fn returns (which Read returns). Entry.Data is valid only
	// during the call.
	Read(ctx context.Context, partition int, from uint64, limit int, fn func(Entry) error) error
	// Bounds returns the partition's first and last positions.
	Bounds(ctx context.Context, partition int) (Bounds, error)
	// Changed returns a channel closed at the next append to partition that
	// becomes visible to Read, including appends by other nodes.
	Changed(partition int) <-chan struct{}

	// Get returns the value of key in partition's state, or ErrNotFound.
	// State reads, like Read, show only what Commit has acknowledged.
	Get(ctx context.Context, partition int, key []byte) ([]byte, error)
	// Scan calls fn for each key with prefix in partition's state, in
	// ascending byte order. key and value are valid only during the call.
	Scan(ctx context.Context, partition int, prefix []byte, fn func(key, value []byte) error) error

	TokenStore
	Ownership

	Close() error
}

// Pipeliner is an optional ability of a backend: one that gains from several
// commit groups in flight at once (while one waits for its sync, the next is
// written) says how many. Without it, Commit is called for one group at a
// time and each group carries everything that queued meanwhile, which suits
// a backend whose transactions on a partition run one after another anyway.
type Pipeliner interface {
	PipelineDepth() int
}

// Options configure a store. Backends read them when opening.
type Options struct {
	// Partitions is the partition count to create a new store with; 0 means
	// DefaultPartitions for a new store and "whatever it has" for an
	// existing one. An existing store with another count is an error.
	Partitions int
	// Clock is the time source for append timestamps and claim times.
	Clock func() time.Time
	// Logger receives operational messages.
	Logger *slog.Logger
	// MaxGroup bounds how many batches one group commit carries.
	MaxGroup int
}

// DefaultPartitions is the partition count of a new store unless told
// otherwise: small, and more than one so cross-partition paths always run.
const DefaultPartitions = 3

// Opt sets an option.
type Opt func(*Options)

// WithPartitions sets the partition count.
func WithPartitions(n int) Opt { return func(o *Options) { o.Partitions = n } }

// WithClock sets the time source (tests pass a fake one).
func WithClock(now func() time.Time) Opt { return func(o *Options) { o.Clock = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Opt { return func(o *Options) { o.Logger = l } }

// WithMaxGroup bounds the batches of one group commit.
func WithMaxGroup(n int) Opt { return func(o *Options) { o.MaxGroup = n } }

func buildOptions(opts []Opt) (Options, error) {
	o := Options{Clock: time.Now, Logger: slog.Default(), MaxGroup: 512}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Partitions < 0 || o.Partitions > MaxPartitions {
		return o, fmt.Errorf("storage: partition count %d out of range [1, %d]", o.Partitions, MaxPartitions)
	}
	if o.MaxGroup < 1 {
		o.MaxGroup = 1
	}
	return o, nil
}

// MaxPartitions bounds the partition count; keys carry the partition in
// their high bits.
const MaxPartitions = 1 << 12

// OpenFunc opens a backend at location (a directory, a DSN, ...).
type OpenFunc func(ctx context.Context, location string, o Options) (Backend, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]OpenFunc{}
)

// Register makes a backend available to Open under name. It panics on a
// duplicate name, as database/sql does.
func Register(name string, open OpenFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("storage: Register called twice for backend " + name)
	}
	registry[name] = open
}

// Backends lists the registered backend names, sorted.
func Backends() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return backendsLocked()
}

func lookup(name string) (OpenFunc, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	open, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("storage: unknown backend %q (known: %s)", name, strings.Join(backendsLocked(), ", "))
	}
	return open, nil
}

func backendsLocked() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
