package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"eddy/storage"
)

// Put creates or replaces the trigger namespace/name with doc, a Trigger
// in YAML or JSON (Knative's shape; metadata.name and namespace may be
// left out, or must match). A metadata.uid or resourceVersion in doc is a
// precondition, as in Kubernetes: the trigger is replaced only if it still
// has them (else a *ConflictError, or ErrTriggerNotFound when it is gone).
// It is durable and running when Put
// returns, and a change of how it delivers has reached every node
// (storeAndResequence); created says whether it is new, and stored is the
// trigger as stored, its identity filled in.
func (r *Router) Put(ctx context.Context, namespace, name string, doc []byte) (created bool, stored []byte, err error) {
	ts, err := parseTriggersIn(doc, namespace, name)
	if err != nil {
		return false, nil, &TriggerError{Reason: err.Error()}
	}
	if len(ts) != 1 {
		return false, nil, &TriggerError{Reason: fmt.Sprintf("the body holds %d triggers: PUT one", len(ts))}
	}
	t := ts[0]
	if (t.Name != "" && t.Name != name) || t.Namespace != namespace {
		return false, nil, &TriggerError{Reason: fmt.Sprintf("the body is trigger %s/%s but the path names %s/%s", t.Namespace, t.Name, namespace, name)}
	}
	return r.storeAndResequence(ctx, t, true)
}

// Apply creates or replaces every trigger of a YAML stream (such as a file
// of Knative Triggers separated by ---), whatever uid and resourceVersion
// they name. Nothing is stored if one of them is invalid.
func (r *Router) Apply(ctx context.Context, yamlOrJSON []byte) error {
	ts, err := parseTriggers(yamlOrJSON)
	if err != nil {
		return &TriggerError{Reason: err.Error()}
	}
	for _, t := range ts {
		t.Resource.Metadata.UID, t.Resource.Metadata.ResourceVersion = "", ""
		// Applied as a node starts (trigger files): the other nodes follow
		// at their next reload, rather than the start waiting for them.
		if _, _, err := r.storeAndResequence(ctx, t, false); err != nil {
			return err
		}
	}
	return nil
}

// storeAndResequence stores t. When that switched it between ordered and
// unordered delivery, its segments move to the lowest of their positions
// (lowestToken), so that the switch skips no event. When pause is set and
// the change of a trigger that runs here changed how it delivers, the
// change is applied on every node before it returns: the trigger pauses
// everywhere (as for a replay) and runs again once no node runs it, so that
// no event is delivered under the previous spec after the answer. A node
// still in a delivery after the pause's bound follows when it is done: the
// change stands, and only a warning says so.
func (r *Router) storeAndResequence(ctx context.Context, t parsedTrigger, pause bool) (created bool, doc []byte, err error) {
	old, doc, held, err := r.store(ctx, t, pause)
	if err != nil || old == nil {
		return old == nil && err == nil, doc, err
	}
	before, berr := compileTrigger(old, r.b.o.builtinHosts)
	after, aerr := compileTrigger(doc, r.b.o.builtinHosts)
	switched := berr == nil && aerr == nil && before.Ordered != after.Ordered && !before.Builtin && !after.Builtin
	r.mu.Lock()
	running := r.ctx != nil
	r.mu.Unlock()
	switch {
	case switched && !running:
		// Not started here: the nodes that run it keep their positions.
		r.b.o.logger.Warn("broker: a trigger's ordering changed while this node's router is stopped; its segments keep their positions", "trigger", t.Namespace+"/"+t.Name)
	case switched:
		if err := r.resetThen(ctx, t.Namespace, t.Name, "resequence", r.lowestToken, r.resequenced(t.Namespace, t.Name)); err != nil {
			return false, doc, fmt.Errorf("trigger %s/%s is stored, but moving its segments to the lowest of their positions for the new ordering failed (events between them may be skipped): %w", t.Namespace, t.Name, err)
		}
	case held:
		if err := r.reset(ctx, t.Namespace, t.Name, "change", nil); err != nil {
			r.b.o.logger.Warn("broker: a trigger's change is stored and runs here, but a node may deliver under its previous spec until it is done with what it has in hand", "trigger", t.Namespace+"/"+t.Name, "error", err)
		}
	}
	return false, doc, nil
}

// store stores t and runs it; it returns the document t replaced (nil
// when t is new) and the one stored. With hold, a change of how a
// trigger that runs here delivers is not run at once but held: loaded
// paused, for the caller to apply on every node (held).
func (r *Router) store(ctx context.Context, t parsedTrigger, hold bool) (old, doc []byte, held bool, err error) {
	r.changing.Lock()
	defer r.changing.Unlock()
	old, doc, err = r.putRow(ctx, t)
	if err != nil || bytes.Equal(old, doc) {
		return old, doc, false, err
	}
	key := t.Namespace + "/" + t.Name
	r.mu.Lock()
	if r.ctx != nil {
		held = hold && r.specChangedLocked(key, doc)
		r.loadLocked(r.ctx, key, doc, !held)
		held = held && r.running[key].proc != nil
	}
	r.mu.Unlock()
	r.markRetired(ctx)
	return old, doc, held, nil
}

// specChangedLocked reports whether doc changes how the trigger key that
// runs here delivers: its spec (the generation) or its ordering (an
// annotation); r.mu is held.
func (r *Router) specChangedLocked(key string, doc []byte) bool {
	t := r.running[key]
	if t == nil || t.proc == nil || t.route == nil || t.route.Builtin {
		return false
	}
	after, err := compileTrigger(doc, r.b.o.builtinHosts)
	return err == nil && !after.Builtin && after.UID == t.route.UID &&
		(after.Generation != t.route.Generation || after.Ordered != t.route.Ordered)
}

// putRow writes t's row, holding the trigger writes lock from the read to
// the commit; it returns the row before and after (the same when t
// changes nothing).
func (r *Router) putRow(ctx context.Context, t parsedTrigger) (old, doc []byte, err error) {
	key := t.Namespace + "/" + t.Name
	l, err := r.lockWrites(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer l.unlock()
	old, _, err = r.storedTrigger(ctx, t.Namespace, t.Name)
	if err != nil {
		return nil, nil, err
	}
	// A changed trigger keeps its identity; a new one gets one, and so does
	// a row that cannot be read (its processor, whatever its name, is
	// left behind).
	var id triggerIdentity
	known := false
	if old != nil {
		var err error
		if id, err = identityOf(old); err != nil {
			r.b.o.logger.Warn("broker: a stored trigger cannot be read; the PUT replaces it as a new trigger", "trigger", key, "error", err)
		} else {
			known = true
		}
	}
	md := t.Resource.Metadata
	if err := (Preconditions{UID: md.UID, ResourceVersion: md.ResourceVersion}).check(key, known, id); err != nil {
		return nil, nil, err
	}
	now := time.Now()
	if !known {
		id = newIdentity(now)
	}
	if doc, err = t.stamped(id); err != nil || bytes.Equal(old, doc) {
		return old, doc, err
	}
	// As for a Kubernetes resource with a status, the generation counts
	// changes of the spec, not of labels or annotations.
	if known && specChanged(old, t) {
		id.Generation++
	}
	id.ResourceVersion = newResourceVersion(now)
	if doc, err = t.stamped(id); err != nil {
		return nil, nil, err
	}
	err = l.commit(ctx, func(b *storage.Batch) { b.Put(triggerKey(t.Namespace, t.Name), doc) })
	if errors.Is(err, storage.ErrFenced) {
		return nil, nil, lapsed(key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("storing trigger %s: %w", key, err)
	}
	return old, doc, nil
}

// specChanged says whether t's spec differs from the stored doc's. Both
// are encodings of trigger.Spec, so equal specs are equal bytes.
func specChanged(doc []byte, t parsedTrigger) bool {
	var stored struct{ Spec json.RawMessage }
	spec, err := json.Marshal(&t.Resource.Spec)
	if err != nil || json.Unmarshal(doc, &stored) != nil {
		return true
	}
	return !bytes.Equal(stored.Spec, spec)
}
