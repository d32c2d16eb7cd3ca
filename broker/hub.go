package broker

import (
	"context"
	"fmt"
	"sync"

	"eddy/cloudevents"
	"eddy/storage"
)

// hub follows the log from its head and pushes each CloudEvent to the live
// subscribers whose filter matches it. It reads every partition, so a node
// pushes events whichever node took them in. One hub serves all of a
// node's subscribers: the log is read and each event decoded once, however
// many follow it. It starts with the first subscriber.
type hub struct {
	store  *storage.Store
	buffer int

	mu      sync.Mutex
	subs    map[*subscription]struct{}
	started bool
	err     error // why the hub stopped, if it did
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// pushed is one event for a subscriber, with where it is on the log.
type pushed struct {
	event     *cloudevents.Event
	partition int
	position  uint64
	// json is the event in the JSON format, encoded once for every
	// subscriber it goes to; subscribers only read it.
	json []byte
}

// subscription is one live subscriber.
type subscription struct {
	match func(*cloudevents.Event) bool
	ch    chan pushed
	// gone is closed when the hub drops the subscriber; reason says why.
	gone   chan struct{}
	reason error
}

func newHub(store *storage.Store, buffer int) *hub {
	return &hub{store: store, buffer: buffer, subs: map[*subscription]struct{}{}}
}

// subscribe adds a subscriber: every event appended to the log from now on
// that match accepts is sent on the subscription's channel.
func (h *hub) subscribe(match func(*cloudevents.Event) bool) (*subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return nil, h.err
	}
	if !h.started {
		if err := h.start(); err != nil {
			return nil, err
		}
	}
	s := &subscription{match: match, ch: make(chan pushed, h.buffer), gone: make(chan struct{})}
	h.subs[s] = struct{}{}
	return s, nil
}

// unsubscribe removes s; it is safe to call after the hub dropped it.
func (h *hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.gone)
	}
}

// start opens a tail at the head of every partition; h.mu is held.
func (h *hub) start() error {
	ctx, cancel := context.WithCancel(context.Background())
	var tails []*storage.Tail
	for p := range h.store.Partitions() {
		b, err := h.store.Bounds(ctx, p)
		if err != nil {
			cancel()
			return fmt.Errorf("live push: reading the bounds of log partition %d: %w", p, err)
		}
		t, err := h.store.Tail(p, b.Last+1)
		if err != nil {
			cancel()
			return fmt.Errorf("live push: following log partition %d: %w", p, err)
		}
		tails = append(tails, t)
	}
	h.cancel, h.started = cancel, true
	for p, t := range tails {
		h.wg.Add(1)
		go h.follow(ctx, p, t)
	}
	return nil
}

func (h *hub) follow(ctx context.Context, p int, t *storage.Tail) {
	defer h.wg.Done()
	for ctx.Err() == nil {
		_, err := t.Next(ctx, 1024, func(e storage.Entry) error {
			if !isCloudEventEntry(e.Data) {
				return nil
			}
			ev, err := decodeCloudEvent(p, e)
			if err != nil {
				return err
			}
			h.dispatch(pushed{event: ev, partition: p, position: e.Position})
			return nil
		})
		if err != nil && ctx.Err() == nil {
			// A log the hub cannot read ends every subscription with the
			// reason, rather than leaving them silent.
			h.fail(fmt.Errorf("live push stopped: %w", err))
			return
		}
	}
}

// dispatch hands ev to every subscriber that wants it. A subscriber whose
// buffer is full is dropped with the reason: the alternative, waiting,
// would let one slow client hold up every other.
func (h *hub) dispatch(ev pushed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.match(ev.event) {
			continue
		}
		if ev.json == nil {
			ev.json = cloudevents.AppendJSON(nil, ev.event)
		}
		select {
		case s.ch <- ev:
		default:
			s.reason = fmt.Errorf("the subscriber fell %d events behind and was disconnected; subscribe again to follow new events", cap(s.ch))
			delete(h.subs, s)
			close(s.gone)
		}
	}
}

func (h *hub) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
	for s := range h.subs {
		s.reason = err
		delete(h.subs, s)
		close(s.gone)
	}
}

// close stops the hub and drops every subscriber.
func (h *hub) close() {
	h.mu.Lock()
	cancel := h.cancel
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	h.wg.Wait()
	h.fail(fmt.Errorf("the broker is shutting down"))
}
