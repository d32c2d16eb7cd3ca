package processor

import (
	"context"
	"fmt"
	"maps"

	"eddy/processor/deadletter"
)

// WithDeadLetters gives the processor a sequenced dead-letter queue: when a
// handler fails, policy (deadletter.DefaultPolicy when nil) decides whether
// the event is parked in q; from then on the later events of its sequence
// are parked behind it, while other sequences flow on. ProcessDeadLetters
// retries them. The error handler is asked only when the queue cannot take
// the event (it is full, say).
func WithDeadLetters(q *deadletter.Queue, policy deadletter.Policy) Opt {
	return func(o *options) { o.deadLetters, o.deadLetterPolicy = q, policy }
}

// keyMetadata carries Event.Key through a dead letter, whose event has no key
// of its own.
const keyMetadata = "eddy.key"

type deadLetters struct {
	q      *deadletter.Queue
	policy deadletter.Policy
	p      *Processor
}

// parkIfPresent parks d's event behind its sequence when that sequence is
// dead-lettered. Contains answers from memory: the common case costs no IO.
func (dl *deadLetters) parkIfPresent(ctx context.Context, seq string, d Delivery) (bool, error) {
	if in, err := dl.q.Contains(ctx, seq); err != nil || !in {
		return false, err
	}
	parked, err := dl.q.EnqueueIfPresent(ctx, seq, func() deadletter.Letter { return letterOf(seq, d.Event) })
	if err != nil {
		return false, fmt.Errorf("processor %s: parking the event at %s behind its dead-lettered sequence %q: %w", dl.p.name, d.Position, seq, err)
	}
	return parked, nil
}

func letterOf(seq string, e *Event) deadletter.Letter {
	md := e.Metadata
	if e.Key != "" {
		md = maps.Clone(md)
		if md == nil {
			md = map[string]string{}
		}
		md[keyMetadata] = e.Key
	}
	return deadletter.Letter{
		SequenceID: seq,
		Event: deadletter.Event{
			Type:      e.Type,
			Payload:   e.Data,
			Source:    e.Position.Stream,
			Partition: e.Position.Partition,
			Position:  e.Position.Offset,
			Time:      e.Timestamp,
			Metadata:  md,
		},
	}
}

// LetterEvent is the event a dead letter holds, as the processor read it:
// what a handler retrying the letter outside ProcessDeadLetters hands on.
func LetterEvent(l deadletter.Letter) Event {
	e := Event{
		Position:  Position{Stream: l.Event.Source, Partition: l.Event.Partition, Offset: l.Event.Position},
		Type:      l.Event.Type,
		Timestamp: l.Event.Time,
		Data:      l.Event.Payload,
		Metadata:  l.Event.Metadata,
	}
	if key, ok := e.Metadata[keyMetadata]; ok {
		e.Key = key
		e.Metadata = maps.Clone(e.Metadata)
		delete(e.Metadata, keyMetadata)
		if len(e.Metadata) == 0 {
			e.Metadata = nil
		}
	}
	return e
}

// handleFailure decides what a handler's error on d means: nil goes on with
// the next event.
func (p *Processor) handleFailure(ctx context.Context, d Delivery, seq string, err error) error {
	herr := &HandlerError{Processor: p.name, Segment: d.Segment, Position: d.Position, Err: err}
	if dl := p.deadLetters; dl != nil {
		// Whatever the policy decides (park, ignore, evict), the stream
		// goes on: the sequence's later events are parked if it was.
		if _, qerr := dl.q.EnqueueFailure(ctx, letterOf(seq, d.Event), err, dl.policy); qerr == nil {
			return nil
		} else {
			herr.Err = fmt.Errorf("%w (and dead-lettering it failed: %v)", err, qerr)
		}
	}
	if eh := p.o.errorHandler; eh != nil {
		return eh(ctx, d, herr)
	}
	return herr
}

// ProcessDeadLetters retries the dead-lettered sequence whose head has waited
// longest, handing its letters to the processor's handler in order (see
// deadletter.Queue.Process). It returns true when it emptied a sequence, so
// that a caller can loop while it does, and how many letters the handler
// took (the letters an operator evicted meanwhile are not among them). The
// handlers' Tx writes commit after each letter, without a token:
// at-least-once.
func (p *Processor) ProcessDeadLetters(ctx context.Context) (emptied bool, handled int, err error) {
	dl := p.deadLetters
	if dl == nil {
		return false, 0, fmt.Errorf("processor %s has no dead-letter queue (WithDeadLetters)", p.name)
	}
	emptied, err = dl.q.Process(ctx, func(ctx context.Context, l deadletter.Letter) error {
		e := LetterEvent(l)
		tx := newTx(p.store, p.o.statePartition)
		d := Delivery{Event: &e, Segment: -1, Tx: &tx}
		if err := p.handler.Handle(ctx, d); err != nil {
			return err
		}
		if len(tx.writes) > 0 {
			if err := p.commit(ctx, &tx); err != nil {
				return err
			}
		}
		handled++
		return nil
	}, dl.policy)
	return emptied, handled, err
}
