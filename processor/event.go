package processor

import (
	"context"
	"sync/atomic"
	"time"
)

// Event is one event a source streams: where it is, what entity it is about
// and its payload. Sources fill what they know; the log source asks its
// decoder for the rest.
type Event struct {
	// Position is where the event sits on its source; it is also the
	// event's identity.
	Position Position
	// Key names the entity the event is about (a record key, a Kafka key);
	// the default sequencing policy keeps events with one key in order.
	// "" when the event has none.
	Key string
	// Type says what kind of event it is.
	Type string
	// Timestamp is when the event was appended to its source.
	Timestamp time.Time
	// Metadata carries attributes beside the payload (headers).
	Metadata map[string]string
	// Data is the payload as stored.
	Data []byte
	// Value is the payload decoded, when the source's decoder does so; the
	// property sequencing policy reads it.
	Value any
}

// Delivery is what a handler gets: the event, whether it is a replay, and
// the transaction its writes join. The event is shared with the processor:
// a handler may keep it but must not change it.
type Delivery struct {
	*Event
	// Replay is true when the event was handled before a reset moved the
	// processor back over it.
	Replay bool
	// ResetContext is the context given to the reset that started the
	// replay; nil outside a replay.
	ResetContext []byte
	// Segment is the id of the segment handling the event; -1 when a dead
	// letter is retried (ProcessDeadLetters).
	Segment int
	// Tx collects state writes that commit atomically with the processor's
	// token: exactly-once for effects inside Eddy's store.
	Tx *Tx

	alive *atomic.Int64 // the work package's aliveUntil; nil: no claim to keep
	// stopping is closed when the work package is asked to stop; nil: it
	// never is (a dead letter being retried).
	stopping <-chan struct{}
}

// Stopping is closed when the work package handling the event is asked to
// stop (the processor stops, or gives the segment up): a handler waiting
// out a back-off may give the event up then, returning ErrStopping, rather
// than hold the stop for the rest of its wait.
func (d Delivery) Stopping() <-chan struct{} { return d.stopping }

// KeepAlive says the handler is still at work on the event and returns by
// until, by the processor's clock (WithClock; the wall clock by default):
// a bounded wait, such as a request with a timeout or a backoff. It holds
// for this event only. A handler
// that delivers nothing for the claim timeout is otherwise taken for stuck,
// and its segment is left to another node, which handles the event again
// while this one is still at it. A handler that waits long for something
// bounded calls it before each wait.
func (d Delivery) KeepAlive(until time.Time) {
	if d.alive != nil {
		d.alive.Store(until.UnixNano())
	}
}

// Handler handles events. A handler returning an error fails the event: the
// error handler, then the dead-letter policy, decide what follows.
type Handler interface {
	Handle(ctx context.Context, d Delivery) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, d Delivery) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, d Delivery) error { return f(ctx, d) }

// ResetHandler is the optional ability of a handler to prepare for a replay
// (clear a projection, say). ResetTokens calls it before it moves any token;
// r.Tx commits with the new tokens.
type ResetHandler interface {
	Reset(ctx context.Context, r Reset) error
}

// Reset is what a ResetHandler gets.
type Reset struct {
	// Context is what was given to ResetTokens with ResetContext.
	Context []byte
	// Tx collects state writes that commit together with the reset tokens.
	Tx *Tx
}

// ReplayAware is the optional ability of a handler to refuse replays: when
// SkipsReplays returns true, the handler is not called for replayed events
// nor reset (it keeps the state it has).
type ReplayAware interface {
	SkipsReplays() bool
}

// Middleware wraps a handler: logging, metrics, retries, filters.
type Middleware func(Handler) Handler

// Chain wraps h in middleware, the first one outermost.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}
