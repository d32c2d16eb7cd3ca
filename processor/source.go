package processor

import (
	"context"
	"time"
)

// Source is a stream of events that can be opened at a token: the Eddy log,
// an in-memory stream for tests, several sources merged, or (later) a Kafka
// topic. Positions must be stable: reopening at a token yields the same
// events after it, in the same order per partition.
type Source interface {
	// Open returns a stream of the events after token (those it does not
	// cover), in order within each partition.
	Open(ctx context.Context, after Token) (Stream, error)
	// TailToken is the token before the oldest event (nothing seen).
	TailToken(ctx context.Context) (Token, error)
	// HeadToken is the token after the newest event (everything seen).
	HeadToken(ctx context.Context) (Token, error)
	// TokenAt is the token after which the events appended at or after t
	// come.
	TokenAt(ctx context.Context, t time.Time) (Token, error)
}

// Stream is an open source. It is used by one goroutine at a time.
type Stream interface {
	// Next returns the next events, waiting up to wait for at least one
	// (wait < 0: until one comes or ctx ends). No events and a nil error
	// mean none came in time. The caller owns the returned slice.
	Next(ctx context.Context, wait time.Duration) ([]Event, error)
	// Close releases the stream.
	Close() error
}

// SkippingStream is the optional ability of a stream to leave out events
// its processor would ignore (a filter applied at the source, records of no
// interest on a shared log). ReadUpTo says how far the stream has read,
// what it left out included, so that the processor's tokens move past
// skipped events without handling anything. A SkippingStream's Next may
// return no events and a nil error once it has read further, whatever the
// wait.
type SkippingStream interface {
	Stream
	// ReadUpTo returns the token that covers every event the stream has
	// returned or left out so far.
	ReadUpTo() Token
}

// InitialToken chooses where a processor starts when it has no token yet,
// and where ResetTokens moves it.
type InitialToken func(ctx context.Context, src Source, now time.Time) (Token, error)

// FromTail starts at the oldest event: everything is handled. The default.
func FromTail() InitialToken {
	return func(ctx context.Context, src Source, _ time.Time) (Token, error) { return src.TailToken(ctx) }
}

// FromHead starts after the newest event: only new events are handled.
func FromHead() InitialToken {
	return func(ctx context.Context, src Source, _ time.Time) (Token, error) { return src.HeadToken(ctx) }
}

// FromTime starts at the events appended at or after t.
func FromTime(t time.Time) InitialToken {
	return func(ctx context.Context, src Source, _ time.Time) (Token, error) { return src.TokenAt(ctx, t) }
}

// Since starts at the events appended in the last d, by the processor's
// clock.
func Since(d time.Duration) InitialToken {
	return func(ctx context.Context, src Source, now time.Time) (Token, error) {
		return src.TokenAt(ctx, now.Add(-d))
	}
}

// FromToken starts after t.
func FromToken(t Token) InitialToken {
	return func(context.Context, Source, time.Time) (Token, error) { return t, nil }
}

// waitContext bounds a wait of d (< 0: unbounded) inside ctx.
func waitContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
