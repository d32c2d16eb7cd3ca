package deadletter

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

// Letter is one dead-lettered event: the event, why it failed and what has
// happened to it since.
type Letter struct {
	// ID identifies the letter; Enqueue assigns it.
	ID string
	// SequenceID is the sequence the event belongs to: the letter is handled
	// only after every earlier letter of the sequence.
	SequenceID string
	Event      Event
	// Cause is why the event failed; zero for an event parked behind its
	// sequence without having been tried.
	Cause Cause
	// EnqueuedAt is when the letter entered the queue; Enqueue sets it.
	EnqueuedAt time.Time
	// LastTouched is when the letter was enqueued or last requeued.
	LastTouched time.Time
	// Retries counts the failed retries (requeues).
	Retries int
	// Diagnostics are key-value notes a policy or an operator attaches.
	Diagnostics map[string]string
}

// Queued reports whether the letter is in the queue already (it has an ID):
// a policy tells a retry's failure from an event's first failure by it.
func (l Letter) Queued() bool { return l.ID != "" }

// clone copies the maps and the payload, so that a stored letter shares
// nothing with the caller's.
func (l Letter) clone() Letter {
	l.Event.Payload = append([]byte(nil), l.Event.Payload...)
	l.Event.Metadata = maps.Clone(l.Event.Metadata)
	l.Diagnostics = maps.Clone(l.Diagnostics)
	return l
}

// Event is the dead-lettered event as the processor read it.
type Event struct {
	// Type names the kind of event.
	Type    string
	Payload []byte
	// Source, Partition and Position say where the event was read.
	Source    string
	Partition int
	Position  uint64
	// Time is when the event happened (zero if unknown).
	Time     time.Time
	Metadata map[string]string
}

// Cause is why handling an event failed.
type Cause struct {
	// Type is the Go type of the error (for example "*net.OpError").
	Type    string
	Message string
}

// IsZero reports whether c says nothing.
func (c Cause) IsZero() bool { return c.Type == "" && c.Message == "" }

func (c Cause) String() string {
	if c.Type == "" {
		return c.Message
	}
	return c.Type + ": " + c.Message
}

// CauseOf describes err: its message and the type of the first error in its
// chain that is more than fmt.Errorf's wrapping (the type that says what went
// wrong, like *fs.PathError, rather than the layers that added context).
func CauseOf(err error) Cause {
	if err == nil {
		return Cause{}
	}
	typ := fmt.Sprintf("%T", err)
	for e := err; typ == "*fmt.wrapError"; {
		if e = errors.Unwrap(e); e == nil {
			break
		}
		typ = fmt.Sprintf("%T", e)
	}
	return Cause{Type: typ, Message: err.Error()}
}

// SequenceInfo describes one dead-lettered sequence.
type SequenceInfo struct {
	ID string
	// Size is the number of letters in the sequence.
	Size int
	// Since is when the sequence's first letter was enqueued: how long the
	// sequence has been blocked.
	Since time.Time
	// LastTouched is when the head letter was enqueued or last requeued;
	// Process takes the sequence with the oldest first.
	LastTouched time.Time
	// Processing is true while a Process call holds the sequence.
	Processing bool
}
