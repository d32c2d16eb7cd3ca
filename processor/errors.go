package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

var (
	// ErrRunning: the operation needs the processor stopped (on every node,
	// for a reset), or it was started twice.
	ErrRunning = errors.New("processor: running")
	// ErrNotRunning: the operation needs the processor running.
	ErrNotRunning = errors.New("processor: not running")
	// ErrClaimLost: another node took the segment's claim (it timed out and
	// was stolen), so this node's work on it was not committed. The error
	// it comes in also wraps the storage.ErrFenced that told.
	ErrClaimLost = errors.New("processor: claim on the segment was lost")
	// ErrNotClaimed: the segment is held by another node.
	ErrNotClaimed = errors.New("processor: segment is not claimed by this node")
	// ErrMerging: the segment is still advancing the two halves of a merge;
	// it cannot be split or merged again until they meet.
	ErrMerging = errors.New("processor: segment is still merging")
	// ErrStopping is what a handler returns when it gives its event up
	// because the work package stops (Delivery.Stopping): the event is
	// not dead-lettered, and is handled again from the committed token by
	// whoever takes the segment next.
	ErrStopping = errors.New("processor: the handler gave the event up as its segment stops")
)

// HandlerError is a handler's failure on one event, as status reports it.
type HandlerError struct {
	Processor string
	Segment   int
	Position  Position
	Err       error
}

func (e *HandlerError) Error() string {
	return fmt.Sprintf("processor %s segment %d: handling the event at %s: %v", e.Processor, e.Segment, e.Position, e.Err)
}

func (e *HandlerError) Unwrap() error { return e.Err }

// ErrorHandler decides what a handler's error means: nil goes on with the
// next event as if the handler had succeeded (the failed event's writes are
// dropped); an error fails the batch. A Tracking processor then retries
// after a back-off; a Pooled one gives the segment up to be claimed again.
// With a dead-letter queue, the queue's policy is asked first.
type ErrorHandler func(ctx context.Context, d Delivery, err error) error

// Propagate fails the batch on every error; it is what a processor does
// without an error handler.
func Propagate(_ context.Context, _ Delivery, err error) error { return err }

// LogAndContinue logs each error and goes on.
func LogAndContinue(l *slog.Logger) ErrorHandler {
	return func(ctx context.Context, d Delivery, err error) error {
		l.WarnContext(ctx, "processor: handler failed; going on", "position", d.Position.String(), "segment", d.Segment, "error", err)
		return nil
	}
}
