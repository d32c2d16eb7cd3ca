package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"eddy/processor"
	"eddy/storage"
)

// A replay moves a trigger's processor back (Axon's token reset) so that
// it delivers the log's events again from a point: the log's start, its
// head, or a time. A reset needs the processor stopped on every node, so
// the node that replays first stores a replay row for the trigger; every
// node's reload stops the trigger's processor while the row is there (at
// most a refresh interval later), the replaying node resets the tokens as
// soon as no node holds a segment, then removes the row and starts the
// trigger again, and the other nodes follow at their next reload. While it
// replays, the trigger's status marks each segment replaying until it
// passes where it had been.

var replayPrefix = []byte("broker/trigger-replay/")

func replayKey(namespace, name string) []byte {
	return append(append(append(append([]byte(nil), replayPrefix...), namespace...), '/'), name...)
}

// replayWait bounds how long a replay waits for every node to let go of
// the trigger's segments: a reload on each (the refresh interval), and a
// dead node's claims to lapse.
func (r *Router) replayWait() time.Duration {
	return 2*r.b.o.refresh + 2*processor.DefaultClaimTimeout
}

// ParseReplayFrom reads where a replay starts: "tail" (the log's first
// event), "head" (only events from now on, which clears the backlog), or
// an RFC 3339 time (the first event logged at or after it). There is no
// default: a replay from the tail delivers the whole log again, which a
// forgotten field must not do.
func ParseReplayFrom(from string) (processor.InitialToken, error) {
	switch from {
	case "":
		return nil, &TriggerError{Reason: `a replay needs "from": "tail" (the log's first event), "head" (from now on, which clears the backlog) or an RFC 3339 time such as 2026-11-23T10:00:00Z`}
	case "tail":
		return processor.FromTail(), nil
	case "head":
		return processor.FromHead(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, from)
	if err != nil {
		return nil, &TriggerError{Reason: fmt.Sprintf(`replay from %q: want "tail", "head" or an RFC 3339 time such as 2026-11-23T10:00:00Z`, from)}
	}
	return processor.FromTime(t), nil
}

// Replay resets the trigger namespace/name to from (ParseReplayFrom) and
// runs it again: it returns once the tokens are moved and the trigger runs
// here. ErrTriggerNotFound if there is no such trigger.
func (r *Router) Replay(ctx context.Context, namespace, name, from string) error {
	to, err := ParseReplayFrom(from)
	if err != nil {
		return err
	}
	return r.reset(ctx, namespace, name, from, func(string) processor.InitialToken { return to })
}

// othersMayRun says whether a node other than this one may run a trigger:
// one does when a live node shares the store, or when the broker cannot
// tell (WithOtherNodes not given, or its answer failed). A node that joins
// later loads the trigger as it is stored.
func (r *Router) othersMayRun(ctx context.Context) bool {
	if r.b.o.otherNodes == nil {
		return true
	}
	others, err := r.b.o.otherNodes(ctx)
	return others || err != nil
}

// lowestToken is where every segment of the processor named name has got to, the
// lower of their positions, read when the reset is made (every node has
// stopped the processor then). A change of sequencing resets the segments
// there: which segment an event belongs to changes, so an event a slow
// segment had yet to deliver would otherwise be skipped by the segment
// that now owns it; from the lowest, some are delivered again instead.
func (r *Router) lowestToken(name string) processor.InitialToken {
	return func(ctx context.Context, _ processor.Source, _ time.Time) (processor.Token, error) {
		segs, err := processor.Inspect(ctx, r.b.store, name)
		if err != nil {
			return processor.Token{}, err
		}
		if len(segs) == 0 {
			return processor.Token{}, nil
		}
		low := segs[0].Position
		for _, s := range segs[1:] {
			low = low.Lower(s.Position)
		}
		return low, nil
	}
}

// reset moves the tokens of the trigger's processor to to(its name),
// pausing it on every node while it does; with to nil it only pauses it
// until no node runs it (a change of its spec). What is stored in its
// pause row (why) is for whoever reads it. The processor is the one
// running here when the reset starts, whichever creation of the trigger
// that is. Resets of one trigger through this node take turns.
func (r *Router) reset(ctx context.Context, namespace, name, why string, to func(processor string) processor.InitialToken) error {
	return r.resetThen(ctx, namespace, name, why, to, nil)
}

// resetThen is reset with a step, then, taken once the tokens are moved and
// before the trigger runs again; its failure fails the reset.
func (r *Router) resetThen(ctx context.Context, namespace, name, why string, to func(processor string) processor.InitialToken, then func(context.Context) error) error {
	key := namespace + "/" + name
	turn := r.resetTurn(key)
	turn.Lock()
	defer turn.Unlock()
	_, exists, err := r.storedTrigger(ctx, namespace, name)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: %s/%s", ErrTriggerNotFound, namespace, name)
	}
	rk := replayKey(namespace, name)
	row := r.newPauseRow(why)
	p, err := r.pauseForReset(ctx, key, rk, row)
	if err != nil {
		return err
	}
	// From here the row pauses the trigger on every node; whatever
	// happens, it goes, and the trigger runs again.
	defer r.resumeAfterReset(ctx, namespace, name, rk, row)
	start := time.Now()
	deadline := start.Add(r.replayWait())
	// A change must also reach a node that runs the trigger without a
	// segment at the moment, or that has just started it: only its reload,
	// which sees the row, stops it. So on a store nodes share, the row
	// stays for a reload at least.
	var least time.Duration
	if to == nil && r.b.store.Backend() != "pebble" && r.othersMayRun(ctx) {
		least = r.b.o.refresh + 2*r.b.o.claimInterval
	}
	for {
		var err error
		if to == nil {
			err = p.CheckStopped(ctx)
			if err == nil && time.Since(start) < least {
				err = fmt.Errorf("%w: waiting a reload of every node", processor.ErrRunning)
			}
		} else {
			err = p.ResetTokens(ctx, processor.ResetTo(to(p.Name())))
		}
		switch {
		case err == nil && then != nil:
			return then(ctx)
		case err == nil:
			return nil
		case !errors.Is(err, processor.ErrRunning) && !errors.Is(err, storage.ErrClaimed):
			return fmt.Errorf("%s trigger %s: %w", resetVerb(to), key, err)
		case time.Now().After(deadline):
			return fmt.Errorf("%s trigger %s: a node still runs it after %v: %w", resetVerb(to), key, r.replayWait(), err)
		}
		timer := time.NewTimer(100 * time.Millisecond)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		}
	}
}

// resetTurn is the lock the resets of trigger key through this node take
// turns on.
func (r *Router) resetTurn(key string) *sync.Mutex {
	r.resettingMu.Lock()
	defer r.resettingMu.Unlock()
	m := r.resetting[key]
	if m == nil {
		m = &sync.Mutex{}
		r.resetting[key] = m
	}
	return m
}

// pauseForReset stores the trigger's pause row and stops its processor
// here, which it returns; it refuses a trigger this node does not run.
func (r *Router) pauseForReset(ctx context.Context, key string, rk, row []byte) (*processor.Processor, error) {
	r.changing.Lock()
	defer r.changing.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.running[key]
	switch {
	case t == nil || r.ctx == nil:
		return nil, fmt.Errorf("replaying trigger %s: the broker does not run it here", key)
	case t.route != nil && t.route.Builtin:
		return nil, &TriggerError{Reason: fmt.Sprintf("trigger %s is served by the engine itself (its subscriber is the Zeebe CloudEvents router): it has no deliveries to replay", key)}
	case t.proc == nil:
		return nil, fmt.Errorf("replaying trigger %s: it does not run here: %v", key, t.err)
	}
	if err := r.b.state.put(ctx, rk, row); err != nil {
		return nil, fmt.Errorf("replaying trigger %s: %w", key, err)
	}
	r.pauseLocked(ctx, t)
	return t.proc, nil
}

// resumeAfterReset removes the pause row, if it is still this reset's, and
// runs the trigger again here, as it is stored now: it may have changed,
// or gone, meanwhile. While another reset's row is there (one through
// another node), the trigger stays paused: that reset's end resumes it.
func (r *Router) resumeAfterReset(ctx context.Context, namespace, name string, rk, row []byte) {
	ctx = context.WithoutCancel(ctx)
	key := namespace + "/" + name
	r.changing.Lock()
	defer r.changing.Unlock()
	other, err := r.deletePauseRow(ctx, rk, row)
	if err != nil {
		r.b.o.logger.Warn("broker: removing a pause row failed; the trigger stays paused until it is, or until it is taken for left behind", "trigger", key, "error", err)
		return
	}
	if other {
		return
	}
	doc, exists, err := r.storedTrigger(ctx, namespace, name)
	if err != nil || !exists {
		return // the next reload brings the trigger in line
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.running[key]; r.ctx != nil && (t == nil || t.paused) {
		r.runLocked(r.ctx, key, doc)
	}
}

// pauseLocked stops t's processor, keeping it known (paused) until a
// reload or the replay starts it again; r.mu is held.
func (r *Router) pauseLocked(ctx context.Context, t *activeTrigger) {
	if !t.paused {
		r.stopLocked(ctx, t)
		t.paused = true
	}
}

// resetVerb says what a reset to to does, for its errors.
func resetVerb(to func(string) processor.InitialToken) string {
	if to == nil {
		return "changing"
	}
	return "replaying"
}
