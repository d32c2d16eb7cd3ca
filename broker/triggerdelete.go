package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"eddy/processor"
	"eddy/processor/deadletter"
	"eddy/storage"
)

// Deleting a trigger removes its row and, in the same commit, writes a
// deleted row naming its processor, so that what the processor leaves (its
// tokens, node slots and dead letters) is known until it is cleared. The
// deleting node clears it at once; every node's router clears it again once
// the other nodes have surely let go of the trigger (replayWait after the
// delete: a node that has not reloaded yet goes on writing tokens) and
// then removes the row. A failure on the way leaves the row, and the next
// sweep tries again.
//
// The wait is timed on the sweeping node's own clock, from when it first
// saw the row, which is after the delete: the row's deletedAt is the
// deleting node's clock, and a skew between the two larger than the wait
// would otherwise sweep a processor another node still runs. A node that
// restarts times the wait afresh, which only sweeps later.

var deletedPrefix = []byte("broker/trigger-deleted/")

// deletedKey is the deleted row of one creation of a trigger.
func deletedKey(namespace, name, uid string) []byte {
	return fmt.Appendf(append([]byte(nil), deletedPrefix...), "%s/%s/%s", namespace, name, uid)
}

// deletedTrigger is what a deleted row holds.
type deletedTrigger struct {
	Processor string    `json:"processor"`
	DeletedAt time.Time `json:"deletedAt"`
}

// Delete removes a trigger: its row, its processor's tokens and its dead
// letters, if it meets pre (else a *ConflictError). ErrTriggerNotFound if
// there is none.
func (r *Router) Delete(ctx context.Context, namespace, name string, pre Preconditions) error {
	r.changing.Lock()
	defer r.changing.Unlock()
	id, err := r.deleteRow(ctx, namespace, name, pre)
	if err != nil {
		return err
	}
	key := namespace + "/" + name
	// The trigger is gone once its row is: what follows must not stop
	// halfway because the client hung up.
	ctx = context.WithoutCancel(ctx)
	// A pause row would pause a trigger created again under the name.
	if err := r.b.state.delete(ctx, replayKey(namespace, name)); err != nil {
		r.b.o.logger.Warn("broker: removing a deleted trigger's pause row failed; it goes once taken for left behind", "trigger", key, "error", err)
	}
	r.mu.Lock()
	t := r.running[key]
	delete(r.running, key)
	var q *deadletter.Queue
	if t != nil {
		r.stopLocked(ctx, t)
		// This node may run another creation of the trigger than the one
		// deleted (it has yet to reload a change): that one is retired.
		if t.route != nil && t.route.UID == id.UID {
			q = t.dlq
		} else {
			r.retireLocked(t, id.UID)
		}
	}
	r.mu.Unlock()
	r.markRetired(ctx)
	if err := r.clearDeleted(ctx, processorName(namespace, name, id.UID), q, false); err != nil {
		r.b.o.logger.Warn("broker: a deleted trigger's tokens or dead letters are left for now; the router clears them later", "trigger", key, "error", err)
	}
	return nil
}

// deleteRow removes the trigger's row if it meets pre and, in the same
// commit, writes its deleted row; it returns the identity the trigger had.
func (r *Router) deleteRow(ctx context.Context, namespace, name string, pre Preconditions) (triggerIdentity, error) {
	l, err := r.lockWrites(ctx)
	if err != nil {
		return triggerIdentity{}, err
	}
	defer l.unlock()
	doc, exists, err := r.storedTrigger(ctx, namespace, name)
	if err != nil {
		return triggerIdentity{}, err
	}
	if !exists {
		return triggerIdentity{}, fmt.Errorf("%w: %s/%s", ErrTriggerNotFound, namespace, name)
	}
	// An unreadable row still goes; its processor is taken to have the
	// name of a trigger stored without an identity.
	id, _ := identityOf(doc)
	if err := pre.check(namespace+"/"+name, true, id); err != nil {
		return triggerIdentity{}, err
	}
	key, row, err := deletedRow(namespace, name, id.UID)
	if err == nil {
		err = l.commit(ctx, func(b *storage.Batch) {
			b.Delete(triggerKey(namespace, name))
			b.Put(key, row)
		})
	}
	if errors.Is(err, storage.ErrFenced) {
		return triggerIdentity{}, lapsed(namespace + "/" + name)
	}
	if err != nil {
		return triggerIdentity{}, fmt.Errorf("deleting trigger %s/%s: %w", namespace, name, err)
	}
	return id, nil
}

// retireLocked sets aside, for markRetired to mark for the sweep, the
// processor of t, which a trigger of the same name but another creation
// (uid) replaces here: this node ran the trigger as it was before a delete
// it had yet to see, or two nodes created it at once and the other's row
// won. r.mu is held.
func (r *Router) retireLocked(t *activeTrigger, uid string) {
	if t.route != nil && !t.route.Builtin && t.route.UID != uid {
		r.retired = append(r.retired, t.route)
	}
}

// markRetired writes the deleted rows of the processors retireLocked set
// aside; r.changing is held, r.mu is not (the write takes the trigger
// writes lock, which comes after changing and before mu).
func (r *Router) markRetired(ctx context.Context) {
	r.mu.Lock()
	routes := r.retired
	r.retired = nil
	r.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	for _, rt := range routes {
		if err := r.markDeleted(ctx, rt.Namespace, rt.Name, rt.UID); err != nil {
			r.b.o.logger.Warn("broker: a replaced trigger's processor could not be marked for clearing; its tokens stay", "processor", processorName(rt.Namespace, rt.Name, rt.UID), "error", err)
		}
	}
}

// markDeleted writes the deleted row of the trigger namespace/name created
// as uid.
func (r *Router) markDeleted(ctx context.Context, namespace, name, uid string) error {
	key, row, err := deletedRow(namespace, name, uid)
	if err != nil {
		return err
	}
	l, err := r.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer l.unlock()
	return l.commit(ctx, func(b *storage.Batch) { b.Put(key, row) })
}

// deletedRow is the deleted row of the trigger namespace/name created as
// uid, deleted now.
func deletedRow(namespace, name, uid string) (key, row []byte, err error) {
	row, err = json.Marshal(deletedTrigger{Processor: processorName(namespace, name, uid), DeletedAt: time.Now().UTC()})
	return deletedKey(namespace, name, uid), row, err
}

// clearDeleted removes what the processor of a deleted trigger keeps: its
// dead letters and its segments, and with final (no node runs it any
// more) the dead-letter queue's locks too. q is the processor's queue if
// this node has it open.
func (r *Router) clearDeleted(ctx context.Context, pname string, q *deadletter.Queue, final bool) error {
	if q == nil {
		var err error
		if q, err = deadletter.Open(ctx, r.b.store, pname, deadletter.WithPartition(r.b.o.statePartition), deadletter.WithLogger(r.b.o.logger), deadletter.WithNode(r.b.o.nodeID)); err != nil {
			return err
		}
	}
	empty := q.Clear
	if final {
		empty = q.Drop
	}
	return errors.Join(empty(ctx), processor.Delete(ctx, r.b.store, pname), r.b.state.delete(ctx, sequencingKey(pname)))
}

// sweepDeleted clears, for good, what the triggers this node saw deleted
// replayWait before now left, and removes their deleted rows. It holds the
// trigger writes lock, so that one node sweeps at a time and a row marked
// again meanwhile is not removed unswept; a refresh that finds nothing due,
// as most do, takes no lock.
func (r *Router) sweepDeleted(ctx context.Context, now time.Time) error {
	if due, errs, err := r.dueDeleted(ctx, now); err != nil || len(due) == 0 {
		return errors.Join(append(errs, err)...)
	}
	r.changing.Lock()
	defer r.changing.Unlock()
	l, err := r.lockWrites(ctx)
	if err != nil {
		return err
	}
	defer l.unlock()
	// Read again under the lock: another node may have swept them.
	due, errs, err := r.dueDeleted(ctx, now)
	if err != nil {
		return err
	}
	for _, d := range due {
		if err := r.clearDeleted(ctx, d.Processor, nil, true); err != nil {
			errs = append(errs, fmt.Errorf("clearing processor %s: %w", d.Processor, err))
			continue
		}
		if err := l.commit(ctx, func(b *storage.Batch) { b.Delete(d.key) }); err != nil {
			errs = append(errs, err)
			continue
		}
		r.deletedSeenMu.Lock()
		delete(r.deletedSeen, string(d.key))
		r.deletedSeenMu.Unlock()
	}
	return errors.Join(errs...)
}

// dueRow is a deleted row due to be swept.
type dueRow struct {
	key []byte
	deletedTrigger
}

// dueDeleted reads the deleted rows due to be swept at now (this node saw
// them replayWait before), and says which rows cannot be read.
func (r *Router) dueDeleted(ctx context.Context, now time.Time) (due []dueRow, errs []error, err error) {
	r.deletedSeenMu.Lock()
	defer r.deletedSeenMu.Unlock()
	present := map[string]bool{}
	err = r.b.state.scan(ctx, deletedPrefix, func(key, value []byte) error {
		var d deletedTrigger
		if err := json.Unmarshal(value, &d); err != nil || d.Processor == "" {
			errs = append(errs, fmt.Errorf("the deleted row %s cannot be read (%v); it stays", key, err))
			return nil
		}
		k := string(key)
		present[k] = true
		seen, ok := r.deletedSeen[k]
		if !ok {
			seen = now
			r.deletedSeen[k] = now
		}
		if now.Sub(seen) >= r.replayWait() {
			due = append(due, dueRow{[]byte(k), d})
		}
		return nil
	})
	if err == nil {
		for k := range r.deletedSeen {
			if !present[k] {
				delete(r.deletedSeen, k)
			}
		}
	}
	return due, errs, err
}
