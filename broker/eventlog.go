package broker

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"eddy/cloudevents"
	"eddy/storage"
)

// eventLog is the node's one reader of the log's CloudEvents, shared by
// every trigger and live subscriber of the node: each partition is read
// once, its CloudEvents decoded once (other records are skipped from their
// header) and the recent ones kept in memory. A reader reads from that
// window when it covers the position it is at, and from the store
// otherwise (a trigger catching up after a restart, a client resuming from
// an old position), until it reaches the window. The readers run while
// someone uses the log (acquire, release).
type eventLog struct {
	store *storage.Store
	// windowEvents and windowBytes bound the CloudEvents kept per
	// partition.
	windowEvents int
	windowBytes  int

	mu     sync.Mutex // guards users, parts and the readers' lifecycle
	users  int
	parts  []*partitionLog
	cancel context.CancelFunc
	wg     sync.WaitGroup

	cmu     sync.Mutex
	changed chan struct{} // closed when any partition is read further
}

// The window's default bounds, per partition: enough for the triggers of a
// busy node to read from memory while one of them retries, small beside a
// node's memory.
const (
	defaultWindowEvents = 8192
	defaultWindowBytes  = 8 << 20
	// logReadBatch is how many entries one read of the store takes.
	logReadBatch = 1024
)

// partitionLog is one partition's window: the CloudEvents at positions in
// (floor, read], in log order.
type partitionLog struct {
	mu     sync.Mutex
	events []*logEvent
	bytes  int
	floor  uint64
	read   uint64
	err    error // the reader's last failure, until it reads again
}

// logEvent is a CloudEvent of the log, decoded once for the whole node.
// Everything in it is shared: nobody changes it.
type logEvent struct {
	position  uint64
	timestamp int64 // Unix milliseconds, as the log keeps it
	data      []byte
	event     *cloudevents.Event
	// key is the sequence an ordered trigger keeps the event in.
	key string
	// size is what the event holds in memory (footprint), counted
	// against the window's byte bound.
	size int

	jsonOnce sync.Once
	json     []byte
}

// JSON returns the event in the JSON format, encoded once.
func (e *logEvent) JSON() []byte {
	e.jsonOnce.Do(func() { e.json = cloudevents.AppendJSON(nil, e.event) })
	return e.json
}

func newEventLog(store *storage.Store) *eventLog {
	return &eventLog{store: store, windowEvents: defaultWindowEvents, windowBytes: defaultWindowBytes, changed: make(chan struct{})}
}

// partitions is how many partitions the log has.
func (l *eventLog) partitions() int { return l.store.Partitions() }

// acquire starts the readers at the log's head if nobody uses the log
// yet; every acquire is matched by a release.
func (l *eventLog) acquire(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.users == 0 {
		if err := l.startLocked(ctx); err != nil {
			return err
		}
	}
	l.users++
	return nil
}

// release stops the readers, and forgets the window, when the last user
// leaves.
func (l *eventLog) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.users--; l.users > 0 {
		return
	}
	l.cancel()
	l.wg.Wait()
	l.parts, l.cancel = nil, nil
}

func (l *eventLog) startLocked(ctx context.Context) error {
	n := l.partitions()
	parts := make([]*partitionLog, n)
	tails := make([]*storage.Tail, n)
	for p := range n {
		b, err := l.store.Bounds(ctx, p)
		if err != nil {
			return fmt.Errorf("reading the bounds of log partition %d: %w", p, err)
		}
		if tails[p], err = l.store.Tail(p, b.Last+1); err != nil {
			return fmt.Errorf("following log partition %d: %w", p, err)
		}
		parts[p] = &partitionLog{floor: b.Last, read: b.Last}
	}
	rctx, cancel := context.WithCancel(context.Background())
	l.parts, l.cancel = parts, cancel
	for p := range n {
		l.wg.Add(1)
		go l.follow(rctx, p, parts[p], tails[p])
	}
	return nil
}

// follow reads partition p into its window until ctx ends. A failure (a
// record that does not decode, a store that cannot be read) is kept for
// the readers to see and the read is tried again, backing off.
func (l *eventLog) follow(ctx context.Context, p int, pl *partitionLog, tail *storage.Tail) {
	defer l.wg.Done()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		c := eventCollector{p: p}
		_, err := tail.Next(ctx, logReadBatch, c.take)
		if ctx.Err() != nil {
			err = nil // stopping is no failure
		}
		if c.last > 0 || err != nil {
			l.add(pl, c.events, c.last, err)
		}
		if err == nil {
			backoff = 100 * time.Millisecond
			continue
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// eventCollector gathers the CloudEvents among entries read from
// partition p, and the position the read reached: the window and the
// store are read alike.
type eventCollector struct {
	p      int
	events []*logEvent
	last   uint64
}

func (c *eventCollector) take(e storage.Entry) error {
	if isCloudEventEntry(e.Data) {
		le, err := newLogEvent(c.p, e)
		if err != nil {
			return err
		}
		c.events = append(c.events, le)
	}
	c.last = e.Position
	return nil
}

// newLogEvent decodes the CloudEvent entry e of partition p; e.Data is
// copied, the store's buffer is not kept.
func newLogEvent(p int, e storage.Entry) (*logEvent, error) {
	ev, err := decodeCloudEvent(p, e)
	if err != nil {
		return nil, err
	}
	le := &logEvent{position: e.Position, timestamp: e.Timestamp, data: append([]byte(nil), e.Data...), event: ev, key: orderKey(p, ev)}
	le.size = footprint(le)
	return le, nil
}

// footprint estimates the memory an event holds in the window: its entry,
// the decoded event (whose attributes and data are copies), the JSON it is
// encoded to once a reader asks for it, and the structures around them.
// The JSON is counted from the start, so that the bound holds whenever it
// is encoded. TestWindowFootprint checks the estimate against the heap.
func footprint(le *logEvent) int {
	ev := le.event
	attrs := len(ev.ID) + len(ev.Source) + len(ev.SpecVersion) + len(ev.Type) +
		len(ev.DataContentType) + len(ev.DataSchema) + len(ev.Subject) + len(ev.Time)
	for _, x := range ev.Extensions {
		attrs += len(x.Name) + len(x.Value.Text) + extensionOverhead
	}
	// JSON: attribute names and quotes besides the values; data that is
	// not JSON goes out in base64.
	json := 2*attrs + len(ev.Data)*4/3 + jsonOverhead
	return len(le.data) + attrs + len(ev.Data) + len(le.key) + json + eventOverhead
}

// Fixed costs per event and per extension in footprint: the logEvent and
// cloudevents.Event structures, slice headers and allocation rounding,
// measured by TestWindowFootprint.
const (
	eventOverhead     = 384
	extensionOverhead = 48
	jsonOverhead      = 96
)

// add appends what the reader read of pl up to position last (0: nothing)
// and wakes whoever waits.
func (l *eventLog) add(pl *partitionLog, batch []*logEvent, last uint64, err error) {
	pl.mu.Lock()
	if last > pl.read {
		pl.events = append(pl.events, batch...)
		for _, e := range batch {
			pl.bytes += e.size
		}
		pl.read = last
		pl.trimLocked(l.windowEvents, l.windowBytes)
	}
	pl.err = err
	pl.mu.Unlock()
	l.cmu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.cmu.Unlock()
}

// trimLocked drops the oldest events beyond the bounds; the floor rises
// to the last one dropped.
func (pl *partitionLog) trimLocked(maxEvents, maxBytes int) {
	k := 0
	for len(pl.events)-k > maxEvents || (pl.bytes > maxBytes && k < len(pl.events)) {
		pl.bytes -= pl.events[k].size
		pl.floor = pl.events[k].position
		k++
	}
	if k > 0 {
		clear(pl.events[:k])
		pl.events = pl.events[k:]
	}
}

// changes returns a channel closed when any partition is read further.
// Take it before reading, so that what lands in between is not missed.
func (l *eventLog) changes() <-chan struct{} {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	return l.changed
}

// readPositions returns how far each partition has been read: where a
// reader that wants what comes from now on starts. The caller has
// acquired the log.
func (l *eventLog) readPositions() []uint64 {
	l.mu.Lock()
	parts := l.parts
	l.mu.Unlock()
	out := make([]uint64, len(parts))
	for p, pl := range parts {
		pl.mu.Lock()
		out[p] = pl.read
		pl.mu.Unlock()
	}
	return out
}

// read returns the CloudEvents of partition p after position after, at
// most limit of them, in log order, and the position it read up to (after
// when there is nothing new yet). The events are shared: nobody changes
// them. The caller has acquired the log.
func (l *eventLog) read(ctx context.Context, p int, after uint64, limit int) ([]*logEvent, uint64, error) {
	l.mu.Lock()
	pl := l.parts[p]
	l.mu.Unlock()
	pl.mu.Lock()
	if after >= pl.floor {
		if pl.err != nil && after >= pl.read {
			err := pl.err
			pl.mu.Unlock()
			return nil, after, fmt.Errorf("reading log partition %d: %w", p, err)
		}
		i := sort.Search(len(pl.events), func(i int) bool { return pl.events[i].position > after })
		j := min(len(pl.events), i+limit)
		out := append([]*logEvent(nil), pl.events[i:j]...)
		upTo := pl.read
		if j < len(pl.events) {
			upTo = pl.events[j-1].position
		}
		pl.mu.Unlock()
		return out, max(upTo, after), nil
	}
	floor := pl.floor
	pl.mu.Unlock()
	return l.readStore(ctx, p, after, floor, limit)
}

// readStore reads what the window no longer (or not yet) holds: the
// CloudEvents after position after, from the store, up to limit entries.
func (l *eventLog) readStore(ctx context.Context, p int, after, floor uint64, limit int) ([]*logEvent, uint64, error) {
	c := eventCollector{p: p, last: after}
	err := l.store.Read(ctx, p, after+1, limit, c.take)
	out, upTo := c.events, c.last
	if err != nil {
		return out, upTo, fmt.Errorf("reading log partition %d after position %d: %w", p, after, err)
	}
	if upTo == after {
		// Nothing is left below the window's floor (the log was
		// truncated there): the window takes over.
		upTo = floor
	}
	return out, upTo, nil
}
