package processor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"eddy/internal/members"
	"eddy/storage"
)

// Processor is a streaming event processor: it reads a Source, hands events
// to a Handler and keeps its progress per segment in the store's token
// store. Several Processors with the same name, on one node or several
// sharing a PostgreSQL store, are one logical processor: they share out its
// segments through claims.
type Processor struct {
	name        string
	store       *storage.Store
	tokens      storage.TokenStore
	src         Source
	handler     Handler
	o           options
	workers     chan struct{} // bounds handler concurrency (Pooled), nil: unbounded
	deadLetters *deadLetters
	members     *members.Group
	epoch       atomic.Uint64 // the state partition's ownership epoch
	// fencedHook, set by tests only, runs when a commit was refused,
	// before the epoch is read again.
	fencedHook func()

	mu       sync.Mutex
	running  bool
	runCtx   context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	stopCtx  context.Context // bounds the final commits of a Stop
	requests chan request
	wake     chan struct{}

	// Owned by the supervisor goroutine; mu guards them for Status.
	wps       map[int]*workPackage
	pooled    *feeder           // Pooled: the coordinator's stream
	tracking  map[int]*feeder   // Tracking: one stream per segment
	noReclaim map[int]time.Time // segments not to claim before a time
	backoff   map[int]time.Duration
	failures  map[int]error // the last failure per segment, until it succeeds
	nextClaim time.Time     // when the next claim round is due
}

// A processor's nodes see each other through the group beside its
// segments, named after it with this suffix.
const membersSuffix = "#nodes"

type request struct {
	fn   func(ctx context.Context) error
	done chan error
}

// New returns a processor named name that reads src and hands its events to
// h, keeping tokens in store. Start runs it.
func New(name string, store *storage.Store, src Source, h Handler, opts ...Opt) (*Processor, error) {
	switch {
	case name == "" || strings.ContainsRune(name, 0):
		return nil, fmt.Errorf("processor: invalid name %q", name)
	case len(name)+len(membersSuffix) > storage.MaxProcessorName:
		return nil, fmt.Errorf("processor: name of %d bytes, the limit is %d", len(name), storage.MaxProcessorName-len(membersSuffix))
	case store == nil || src == nil || h == nil:
		return nil, errors.New("processor: New needs a store, a source and a handler")
	}
	o, err := buildOptions(store, opts)
	if err != nil {
		return nil, err
	}
	p := &Processor{
		name:    name,
		store:   store,
		tokens:  store.Tokens(),
		src:     src,
		handler: h,
		o:       o,
		wake:    make(chan struct{}, 1),
	}
	if o.mode == Pooled && o.workers > 0 {
		p.workers = make(chan struct{}, o.workers)
	}
	if o.deadLetters != nil {
		p.deadLetters = &deadLetters{q: o.deadLetters, policy: o.deadLetterPolicy, p: p}
	}
	p.members = members.New(p.tokens, name+membersSuffix, o.node, o.claimTimeout)
	return p, nil
}

// Name returns the processor's name.
func (p *Processor) Name() string { return p.name }

// NodeID returns the id this node claims segments under.
func (p *Processor) NodeID() string { return p.o.node }

// Mode returns the processor's mode.
func (p *Processor) Mode() Mode { return p.o.mode }

// Running reports whether the processor runs here.
func (p *Processor) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}

// Start creates the processor's segments if it has none (at the initial
// token) and starts claiming and processing them in the background, until
// Stop or until ctx ends.
func (p *Processor) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return fmt.Errorf("%w: processor %s is started already", ErrRunning, p.name)
	}
	if _, err := p.refreshEpoch(ctx); err != nil {
		return err
	}
	if err := p.initialize(ctx); err != nil {
		return err
	}
	p.runCtx, p.cancel = context.WithCancel(ctx)
	p.stopCtx = nil
	p.done = make(chan struct{})
	p.requests = make(chan request)
	p.wps = map[int]*workPackage{}
	p.tracking = map[int]*feeder{}
	p.noReclaim = map[int]time.Time{}
	p.backoff = map[int]time.Duration{}
	p.failures = map[int]error{}
	p.pooled = nil
	p.running = true
	go p.supervise(p.runCtx, p.done)
	return nil
}

// Stop stops processing: each work package finishes the event in hand
// (what it has read ahead is left to the next claim, from the committed
// token), commits what it has done and releases its claim; Stop waits for
// them, or until ctx ends.
func (p *Processor) Stop(ctx context.Context) error {
	p.mu.Lock()
	if !p.running {
		p.mu.Unlock()
		return nil
	}
	p.stopCtx = ctx
	cancel, done := p.cancel, p.done
	p.mu.Unlock()
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("processor %s: stopping: %w", p.name, ctx.Err())
	}
	p.mu.Lock()
	p.running = false
	p.mu.Unlock()
	return nil
}

// Done is closed when the processor has stopped after running (by Stop or
// because Start's context ended).
func (p *Processor) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return p.done
}

// initialize creates the segments at the initial token unless they exist.
func (p *Processor) initialize(ctx context.Context) error {
	segs, err := p.tokens.Segments(ctx, p.name)
	if err != nil {
		return fmt.Errorf("processor %s: reading segments: %w", p.name, err)
	}
	if len(segs) > 0 {
		return nil
	}
	tok, err := p.o.initialToken(ctx, p.src, p.o.clock.Now())
	if err != nil {
		return fmt.Errorf("processor %s: initial token: %w", p.name, err)
	}
	err = p.tokens.InitializeSegments(ctx, p.name, p.o.initialSegments, newProgress(tok).encode())
	if err != nil && !errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("processor %s: creating %d segments: %w", p.name, p.o.initialSegments, err)
	}
	return nil
}

// do runs fn on the supervisor goroutine, between claim rounds.
func (p *Processor) do(ctx context.Context, fn func(ctx context.Context) error) error {
	p.mu.Lock()
	running, requests, done := p.running, p.requests, p.done
	p.mu.Unlock()
	if !running {
		return fmt.Errorf("%w: processor %s", ErrNotRunning, p.name)
	}
	r := request{fn: fn, done: make(chan error, 1)}
	select {
	case requests <- r:
	case <-done:
		return fmt.Errorf("%w: processor %s", ErrNotRunning, p.name)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// poke wakes the supervisor.
func (p *Processor) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
