package deadletter

import (
	"fmt"
	"maps"
)

// Action is what to do with a failed event or letter.
type Action uint8

const (
	// ActionIgnore treats the failure as handled: the processor goes on as
	// if the handler had succeeded. When retrying a letter it means the same
	// as ActionEvict.
	ActionIgnore Action = iota
	// ActionEnqueue dead-letters the event. When retrying a letter it means
	// the same as ActionRequeue.
	ActionEnqueue
	// ActionEvict drops the letter (or does not enqueue the event) and goes
	// on with the rest of its sequence.
	ActionEvict
	// ActionRequeue keeps the letter at the head of its sequence, with the
	// new cause, one more retry and a fresh LastTouched; the rest of the
	// sequence stays parked behind it.
	ActionRequeue
)

func (a Action) String() string {
	switch a {
	case ActionIgnore:
		return "ignore"
	case ActionEnqueue:
		return "enqueue"
	case ActionEvict:
		return "evict"
	case ActionRequeue:
		return "requeue"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// keeps reports whether the action leaves the letter in the queue.
func (a Action) keeps() bool { return a == ActionEnqueue || a == ActionRequeue }

// Decision is a policy's answer about one failure.
type Decision struct {
	Action Action
	// Cause, when set, replaces the cause taken from the error (to add
	// context or to hide details).
	Cause *Cause
	// Diagnostics are merged into the letter's (a key set here wins).
	Diagnostics map[string]string
}

// Ignore treats the failure as handled.
func Ignore() Decision { return Decision{Action: ActionIgnore} }

// Enqueue dead-letters the event, with optional diagnostics.
func Enqueue(diagnostics map[string]string) Decision {
	return Decision{Action: ActionEnqueue, Diagnostics: diagnostics}
}

// Evict drops the letter.
func Evict() Decision { return Decision{Action: ActionEvict} }

// Requeue keeps the letter at the head of its sequence, with optional
// diagnostics.
func Requeue(diagnostics map[string]string) Decision {
	return Decision{Action: ActionRequeue, Diagnostics: diagnostics}
}

// WithCause returns d with c as the cause to record.
func (d Decision) WithCause(c Cause) Decision {
	d.Cause = &c
	return d
}

// Keeps reports whether the decision leaves the event in the queue (enqueue
// or requeue).
func (d Decision) Keeps() bool { return d.Action.keeps() }

// apply records the decision's cause (or err's) and diagnostics on l.
func (d Decision) apply(l Letter, err error) Letter {
	if d.Cause != nil {
		l.Cause = *d.Cause
	} else {
		l.Cause = CauseOf(err)
	}
	if len(d.Diagnostics) > 0 {
		if l.Diagnostics == nil {
			l.Diagnostics = make(map[string]string, len(d.Diagnostics))
		}
		maps.Copy(l.Diagnostics, d.Diagnostics)
	}
	return l
}

// Policy decides what a failure means. It is called with the letter (not yet
// queued, Queued() false, for an event's first failure; the queued letter
// when a retry fails) and the handler's error.
type Policy func(l Letter, err error) Decision

// DefaultPolicy enqueues every failed event and requeues every letter whose
// retry fails: nothing is dropped without an operator or a policy saying so.
func DefaultPolicy(Letter, error) Decision { return Enqueue(nil) }

// EvictAfter evicts a letter once a retry has failed for the retries-th time
// and asks next (DefaultPolicy when nil) otherwise. retries < 1 evicts on the
// first failed retry.
func EvictAfter(retries int, next Policy) Policy {
	next = orDefault(next)
	return func(l Letter, err error) Decision {
		if l.Queued() && l.Retries+1 >= retries {
			return Evict()
		}
		return next(l, err)
	}
}

// IgnoreWhen ignores the failures that match says are not worth a dead
// letter (an event the handler can never accept, say) and asks next
// (DefaultPolicy when nil) about the others.
func IgnoreWhen(match func(error) bool, next Policy) Policy {
	next = orDefault(next)
	return func(l Letter, err error) Decision {
		if match(err) {
			return Ignore()
		}
		return next(l, err)
	}
}

func orDefault(p Policy) Policy {
	if p == nil {
		return DefaultPolicy
	}
	return p
}
