package broker

import (
	"bytes"
	"context"
	"errors"
	"time"

	"eddy/storage"
)

// A trigger's segments hold positions that mean something only under the
// sequencing they were made under: an ordered trigger's segment is a set
// of sequence keys, an unordered one's a set of events. A switch of
// ordering stores the new one, then moves every segment back to the lowest
// of their positions (storeAndResequence). A node that stopped between the
// two (killed during the PUT) left the new ordering stored over positions
// made under the old one, and the trigger would have skipped the events
// between them. So the sequencing row records, per processor, which
// sequencing its positions were last made for: a trigger loaded with
// another ordering does not run until its positions are moved
// (repairSequencing).

// sequencingPrefix keys the sequencing rows, by processor name.
var sequencingPrefix = []byte("broker/trigger-sequencing/")

func sequencingKey(processor string) []byte {
	return append(append([]byte(nil), sequencingPrefix...), processor...)
}

// sequencingOf is what the sequencing row says for rt's ordering.
func sequencingOf(rt *route) []byte {
	if rt.Ordered {
		return []byte("ordered")
	}
	return []byte("unordered")
}

// sequencedFor reports whether the positions of processor name were made
// under rt's ordering. A processor with no row yet (a new trigger, or one
// from before the rows) is taken to be, and the row is written.
func (r *Router) sequencedFor(ctx context.Context, name string, rt *route) (bool, error) {
	have, err := r.b.state.get(ctx, sequencingKey(name))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return true, r.markSequenced(ctx, name, rt)
	case err != nil:
		return false, err
	}
	return bytes.Equal(have, sequencingOf(rt)), nil
}

// markSequenced records that processor name's positions are made for rt's
// ordering.
func (r *Router) markSequenced(ctx context.Context, name string, rt *route) error {
	return r.b.state.put(ctx, sequencingKey(name), sequencingOf(rt))
}

// resequenced is the step a reset takes once the trigger's segments are
// at the lowest of their positions: its stored ordering is the one they
// are made for from then on.
func (r *Router) resequenced(namespace, name string) func(context.Context) error {
	return func(ctx context.Context) error {
		doc, exists, err := r.storedTrigger(ctx, namespace, name)
		if err != nil || !exists {
			return err
		}
		rt, err := compileTrigger(doc, r.b.o.builtinHosts)
		if err != nil {
			return err
		}
		return r.markSequenced(ctx, processorName(namespace, name, rt.UID), rt)
	}
}

// repairSequencing moves the segments of trigger namespace/name, loaded
// paused because its ordering is not the one its positions were made for,
// to the lowest of their positions, as the switch would have, and runs it
// again. While another node's reset of the trigger is under way (its pause
// row is there: the switch itself, most often) it waits for that instead;
// a reset whose node died is taken up once its row is taken for left
// behind. It tries until it is done or the router stops.
func (r *Router) repairSequencing(ctx context.Context, namespace, name string) {
	key := namespace + "/" + name
	defer r.repairs.Done()
	defer func() {
		r.mu.Lock()
		delete(r.repairing, key)
		r.mu.Unlock()
	}()
	warned := false
	for ctx.Err() == nil {
		settled, err := r.sequencingSettled(ctx, namespace, name)
		switch {
		case err == nil && settled:
			// Moved by the reset that waited us out: run it here.
			r.mu.Lock()
			delete(r.repairing, key)
			r.mu.Unlock()
			if err := r.reload(ctx); err != nil && ctx.Err() == nil {
				r.b.o.logger.Warn("broker: reloading the triggers failed", "error", err)
			}
			return
		case err == nil:
			if !warned {
				r.b.o.logger.Warn("broker: a trigger's ordering changed but its segments were not moved for it (a node stopped during the change): moving them to the lowest of their positions before it runs; some events are delivered again", "trigger", key)
				warned = true
			}
			err = r.resetThen(ctx, namespace, name, "resequence", r.lowestToken, r.resequenced(namespace, name))
			if err == nil || errors.Is(err, ErrTriggerNotFound) {
				return
			}
		}
		if err != nil && !errors.Is(err, errResetUnderWay) {
			r.b.o.logger.Warn("broker: moving a trigger's segments for its ordering failed; trying again", "trigger", key, "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.b.o.refresh):
		}
	}
}

// errResetUnderWay: another reset of the trigger holds it paused.
var errResetUnderWay = errors.New("a reset of the trigger is under way")

// sequencingSettled reports whether the stored trigger's positions are made
// for its ordering (true also when it is gone or built in); errResetUnderWay
// while a reset's pause row is there.
func (r *Router) sequencingSettled(ctx context.Context, namespace, name string) (bool, error) {
	doc, exists, err := r.storedTrigger(ctx, namespace, name)
	if err != nil || !exists {
		return !exists, err
	}
	rt, err := compileTrigger(doc, r.b.o.builtinHosts)
	if err != nil || rt.Builtin {
		return true, nil
	}
	have, err := r.b.state.get(ctx, sequencingKey(processorName(namespace, name, rt.UID)))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if bytes.Equal(have, sequencingOf(rt)) {
		return true, nil
	}
	switch _, err := r.b.state.get(ctx, replayKey(namespace, name)); {
	case err == nil:
		return false, errResetUnderWay
	case !errors.Is(err, storage.ErrNotFound):
		return false, err
	}
	return false, nil
}
