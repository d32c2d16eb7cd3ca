package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"eddy/cloudevents"
	"eddy/storage"
)

// hub serves the live subscribers. Each subscriber reads the node's shared
// eventLog from its own positions, one per partition: from the head when
// it subscribes, or from where a client that reconnects left off (its
// Last-Event-ID), reading the store for what the log's window no longer
// holds. So a node pushes events of every partition, whichever node took
// them in, and the log is read and each event decoded and encoded once
// however many follow it.
type hub struct {
	log    *eventLog
	buffer int
	max    int // subscribers at once
	// idPrefix begins every id: the log's identity and "@" (logidentity.go),
	// set as the broker starts; empty before.
	idPrefix string

	ctx    context.Context // ends when the hub closes
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	subs map[*subscription]struct{}
	err  error // set when the hub closed
}

// pushed is one event for a subscriber.
type pushed struct {
	event *cloudevents.Event
	// json is the event in the JSON format, encoded once for every
	// subscriber it goes to; subscribers only read it.
	json []byte
	// id is where the subscriber stands once it has this event: the
	// Last-Event-ID that resumes after it (see appendEventID).
	id string
	// round is the round of reads whose published positions cover the
	// event (see reachedID).
	round uint64
}

// subscription is one live subscriber.
type subscription struct {
	match    func(*cloudevents.Event) bool
	ch       chan pushed
	idPrefix string // the hub's
	// startID is the id of the positions the subscription starts from:
	// what a stream tells its client as it opens, before any event, so
	// that a client that reconnects at once loses nothing of what was
	// queued for it.
	startID string
	// limit, when above 0, ends the stream once it sent that many
	// events (maxEvents); only the stream's goroutine reads it.
	limit int
	// after is, per partition, the position up to which every matching
	// event has been put on ch; only the subscription's goroutine uses it.
	after []uint64
	// reached is the id of after, stored once the events it covers are on
	// ch: what a stream whose channel is empty may tell its client it has
	// reached (reachedID), even when no event matched for a while. Its
	// round numbers the reads that stored it; published is the last, and
	// only the subscription's goroutine uses it.
	reached   atomic.Pointer[reachedPositions]
	published uint64
	// gone is closed when the hub drops the subscriber; reason says why.
	gone   chan struct{}
	reason error
	// head is, for a subscription that ends at the log's head, where the
	// log stood as it opened; atHead is closed once every matching event
	// up to there is on ch, and nothing is put on ch after. Both are nil
	// for a live subscription.
	head   []uint64
	atHead chan struct{}
	// openedAtHead is set when, with untilHead, the subscription starts
	// at the head already: it has nothing to send.
	openedAtHead bool
	// writing is set while the subscription's stream writes to its client,
	// and wrote is when it last finished a write (Unix nanoseconds): a
	// stream blocked on a client that reads slowly but steadily is
	// backpressure, not a stall (see hub.send).
	writing atomic.Bool
	wrote   atomic.Int64
}

// writeToClient runs write, marking the subscription as writing meanwhile.
func (s *subscription) writeToClient(write func() error) error {
	s.writing.Store(true)
	defer func() {
		s.wrote.Store(time.Now().UnixNano())
		s.writing.Store(false)
	}()
	return write()
}

// stalled reports whether s's stream has been neither writing nor done with
// a write for pushStall.
func (s *subscription) stalled(now time.Time) bool {
	return !s.writing.Load() && now.Sub(time.Unix(0, s.wrote.Load())) >= pushStall
}

// reachedPositions is an id a subscription has reached and the round of
// reads that reached it.
type reachedPositions struct {
	id    string
	round uint64
}

// stallError is why a subscriber that stopped taking events is dropped.
type stallError struct{ behind int }

func (e *stallError) Error() string {
	return fmt.Sprintf("the subscriber took none of the %s waiting for it for %v: it was disconnected; reconnect with the Last-Event-ID of the last event received to resume", counted(e.behind, "event"), pushStall)
}

// errShuttingDown is why every subscription ends when the hub closes.
var errShuttingDown = errors.New("the broker is shutting down")

// pushStall is how long a subscriber may leave its full buffer untaken,
// while its stream is not writing to its client, before it is dropped (see
// hub.send); it can resume from its Last-Event-ID.
const pushStall = time.Second

// pushReadBatch bounds the events a subscriber reads of a partition at a
// time.
const pushReadBatch = 256

func newHub(store *storage.Store, buffer, max int) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{log: newEventLog(store), buffer: buffer, max: max, ctx: ctx, cancel: cancel, subs: map[*subscription]struct{}{}}
}

// errTooManySubscribers refuses a subscriber beyond the hub's bound.
var errTooManySubscribers = errors.New("live push: this node has as many subscribers as it takes; try again later, or another node")

// subscribe adds a subscriber: every event that match accepts is sent on
// the subscription's channel, in log order per partition; those after
// from (a position per partition, as a Last-Event-ID gives) when from is
// not nil, else those appended from now on. A from beyond the log's head
// is an *eventIDError. With untilHead, the subscription ends at the log's
// head as it opens: see subscription.atHead.
func (h *hub) subscribe(ctx context.Context, match func(*cloudevents.Event) bool, from []uint64, untilHead bool) (*subscription, error) {
	// Refused before the reads below, which a client retrying at the
	// bound would otherwise cost each time; asked again on insertion.
	if err := h.refusal(); err != nil {
		return nil, err
	}
	if from != nil {
		if err := h.checkResume(ctx, from); err != nil {
			return nil, err
		}
	}
	if err := h.log.acquire(ctx); err != nil {
		return nil, fmt.Errorf("live push: %w", err)
	}
	after := from
	if after == nil {
		after = h.log.readPositions()
	}
	s := &subscription{match: match, ch: make(chan pushed, h.buffer), after: append([]uint64(nil), after...), gone: make(chan struct{}), idPrefix: h.idPrefix}
	s.wrote.Store(time.Now().UnixNano())
	if untilHead {
		head, err := h.head(ctx)
		if err != nil {
			h.log.release()
			return nil, err
		}
		s.head, s.atHead = head, make(chan struct{})
		s.openedAtHead = s.reachedHead() // before run moves s.after
	}
	s.publishReached()
	s.startID = s.reached.Load().id
	h.mu.Lock()
	if err := h.refusalLocked(); err != nil {
		h.mu.Unlock()
		h.log.release()
		return nil, err
	}
	h.subs[s] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	go h.run(s)
	return s, nil
}

// refusal is why the hub takes no subscriber now: it closed, or it has as
// many as it takes; nil when it takes one.
func (h *hub) refusal() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refusalLocked()
}

func (h *hub) refusalLocked() error {
	if h.err != nil {
		return h.err
	}
	if len(h.subs) >= h.max {
		return errTooManySubscribers
	}
	return nil
}

// checkResume refuses positions the log has not reached: such an id comes
// from another log (a store started afresh), and resuming from it would
// skip events.
func (h *hub) checkResume(ctx context.Context, from []uint64) error {
	store := h.log.store
	for p, pos := range from {
		b, err := store.Bounds(ctx, p)
		if err != nil {
			return fmt.Errorf("live push: reading the bounds of log partition %d: %w", p, err)
		}
		if pos > b.Last {
			return &eventIDError{fmt.Sprintf("it names position %d of log partition %d, which ends at %d: the id is not from this log", pos, p, b.Last)}
		}
	}
	return nil
}

// run feeds s until it is dropped or the hub closes.
func (h *hub) run(s *subscription) {
	defer h.wg.Done()
	defer h.log.release()
	for {
		changed := h.log.changes()
		moved := false
		round := s.published + 1
		for p := range s.after {
			was := s.after[p]
			evs, upTo, err := h.log.read(h.ctx, p, was, pushReadBatch)
			if err != nil {
				if h.ctx.Err() == nil {
					// The client can resume once the log reads again.
					h.drop(s, fmt.Errorf("live push stopped: %w", err))
				}
				return
			}
			for _, e := range evs {
				s.after[p] = e.position
				if !s.match(e.event) {
					continue
				}
				ev := pushed{event: e.event, json: e.JSON(), id: string(appendEventID([]byte(h.idPrefix), p, s.after)), round: round}
				if !h.send(s, ev) {
					return
				}
			}
			s.after[p] = max(s.after[p], upTo)
			moved = moved || s.after[p] != was
		}
		if moved {
			s.published = round
			s.publishReached()
		}
		if s.reachedHead() {
			close(s.atHead)
			return
		}
		if moved {
			continue
		}
		select {
		case <-changed:
		case <-s.gone:
			return
		case <-h.ctx.Done():
			return
		}
	}
}

// head is where each partition of the log ends now: the store's end, which
// the node's reader may not have reached yet (an event answered 202 a
// moment ago is there), or the reader's position if it is further.
func (h *hub) head(ctx context.Context) ([]uint64, error) {
	head := h.log.readPositions()
	for p := range head {
		b, err := h.log.store.Bounds(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("live push: reading the end of log partition %d: %w", p, err)
		}
		head[p] = max(head[p], b.Last)
	}
	return head, nil
}

// reachedHead reports whether s ends at the log's head and has reached it.
func (s *subscription) reachedHead() bool {
	if s.atHead == nil {
		return false
	}
	for p, pos := range s.head {
		if s.after[p] < pos {
			return false
		}
	}
	return true
}

// publishReached stores the id of s.after, as of round s.published: every
// event it covers is on s.ch or was skipped by the filter.
func (s *subscription) publishReached() {
	s.reached.Store(&reachedPositions{id: string(appendEventID([]byte(s.idPrefix), 0, s.after)), round: s.published})
}

// reachedID is the id of the positions the subscription has reached, when
// its client has been sent every event they cover and they are not behind
// the last event it was sent (of round sent), else "". Only the goroutine
// that takes from ch may call it: the id is read before the channel is
// seen empty, so the events it covers were on ch, and that goroutine has
// taken them. An event is on ch before the positions of its round are
// published: told before then, the older positions would move the
// client's id back behind the event, which a resume would send again.
func (s *subscription) reachedID(sent uint64) string {
	r := s.reached.Load()
	if len(s.ch) > 0 || r.round < sent {
		return ""
	}
	return r.id
}

// send puts ev on s's channel, waiting for room. A subscriber that takes
// nothing for pushStall while its stream is not writing to its client is
// dropped with the reason. One whose stream is writing waits as long as
// the client takes data: each subscription reads the log at its own
// position, so a slow one holds back no other, and a client that takes
// nothing at all ends its stream at the write's deadline. It returns false
// when s is gone.
func (h *hub) send(s *subscription, ev pushed) bool {
	select {
	case s.ch <- ev:
		return true
	case <-s.gone:
		return false
	default:
	}
	t := time.NewTimer(pushStall)
	defer t.Stop()
	for {
		select {
		case s.ch <- ev:
			return true
		case <-s.gone:
			return false
		case <-h.ctx.Done():
			return false
		case now := <-t.C:
			if !s.stalled(now) {
				t.Reset(pushStall)
				continue
			}
			h.drop(s, &stallError{behind: cap(s.ch)})
			return false
		}
	}
}

// unsubscribe removes s; it is safe to call after the hub dropped it.
func (h *hub) unsubscribe(s *subscription) {
	h.drop(s, nil)
}

// drop removes s with the reason, if it is still there.
func (h *hub) drop(s *subscription, reason error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		s.reason = reason
		close(s.gone)
	}
}

// close drops every subscriber and waits for their goroutines.
func (h *hub) close() {
	h.mu.Lock()
	if h.err == nil {
		h.err = errShuttingDown
	}
	for s := range h.subs {
		delete(h.subs, s)
		s.reason = h.err
		close(s.gone)
	}
	h.mu.Unlock()
	h.cancel()
	h.wg.Wait()
}
