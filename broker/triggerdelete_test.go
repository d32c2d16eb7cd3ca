package broker

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/processor"
	"eddy/processor/deadletter"
	"eddy/storage"
)

// TestRecreatedTriggerStartsAfresh: a trigger deleted and created again
// under its name starts from the log's head, whatever the old one left in
// the token store (segments a node that had not yet seen the delete wrote
// back, or a cleanup that failed), and what was left is cleared once every
// node has surely let go of the old trigger.
func TestRecreatedTriggerStartsAfresh(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, nil)
	env.putTrigger("default", "orders", triggerYAML("orders", "order.placed", sub.URL, ""))
	env.send(event("order.placed", "before-delete"))
	sub.wait(t, 1)
	old := env.uid("default", "orders")
	if code, body := env.do("DELETE", "/v1/triggers/default/orders", "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	env.send(event("order.placed", "between-1"), event("order.placed", "between-2"))

	// What a node that had not reloaded yet would write back: the old
	// trigger's segments, here at the log's start, under its processor's
	// name and under the name it had before triggers had a uid.
	leftovers := []string{processorName("default", "orders", old), processorName("default", "orders", "")}
	for _, name := range leftovers {
		if err := env.store.Tokens().InitializeSegments(t.Context(), name, 1, nil); err != nil && !errors.Is(err, storage.ErrExists) {
			t.Fatal(err)
		}
	}
	env.putTrigger("default", "orders", triggerYAML("orders", "order.placed", sub.URL, ""))
	if now := env.uid("default", "orders"); now == old || now == "" {
		t.Fatalf("the trigger created again has uid %q, the deleted one had %q", now, old)
	}
	env.send(event("order.placed", "after-create"))
	got := sub.wait(t, 2)
	eventually(t, "the new trigger to catch up", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "orders")
		return st.Lag == 0
	})
	if n := sub.count(); n != 2 || got[1].event.ID != "after-create" {
		t.Fatalf("%d deliveries, the second %s: the trigger created again delivered what came before it", n, got[1].event.ID)
	}

	// The sweep leaves the old processor alone while a node may still run
	// it, and clears it after.
	if err := env.b.Triggers.sweepDeleted(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if segs, _ := processor.Inspect(t.Context(), env.store, leftovers[0]); len(segs) != 1 || env.deletedRows() != 1 {
		t.Fatalf("swept at once: %d segments, %d deleted rows", len(segs), env.deletedRows())
	}
	if err := env.b.Triggers.sweepDeleted(t.Context(), time.Now().Add(env.b.Triggers.replayWait())); err != nil {
		t.Fatal(err)
	}
	if segs, _ := processor.Inspect(t.Context(), env.store, leftovers[0]); len(segs) != 0 || env.deletedRows() != 0 {
		t.Fatalf("after the wait: %d segments left, %d deleted rows", len(segs), env.deletedRows())
	}
}

// uid is the uid stamped in a stored trigger.
func (e *testEnv) uid(namespace, name string) string {
	e.t.Helper()
	doc, ok, err := e.b.Triggers.storedTrigger(e.t.Context(), namespace, name)
	if err != nil || !ok {
		e.t.Fatalf("trigger %s/%s: %v (stored: %v)", namespace, name, err, ok)
	}
	id, err := identityOf(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	return id.UID
}

// deletedRows counts the deleted rows of triggers.
func (e *testEnv) deletedRows() int {
	n := 0
	if err := e.b.state.scan(e.t.Context(), deletedPrefix, func(_, _ []byte) error { n++; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestReplacedCreationIsSwept: when the row of a trigger is replaced by
// another creation of it (two nodes created it at once and the other's
// row won), the node that ran the first gives it up, and the sweep clears
// its processor and the events it parked, with no queue of its own open.
func TestReplacedCreationIsSwept(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		if e.ID == "parked" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	yaml := triggerYAML("orders", "order.placed", sub.URL, "")
	env.putTrigger("default", "orders", yaml)
	first := env.uid("default", "orders")
	env.send(event("order.placed", "parked"))
	eventually(t, "the event to be parked", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "orders")
		return st.DeadLetters == 1
	})
	env.storeAnotherCreation("default", "orders", yaml)
	if err := env.b.Triggers.reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	second := env.uid("default", "orders")
	st, err := env.b.Triggers.Status(t.Context(), "default", "orders")
	if err != nil || st.Processor != processorName("default", "orders", second) || !st.Running {
		t.Fatalf("after the reload: %+v %v, want the processor of uid %s running", st, err, second)
	}
	if env.deletedRows() != 1 {
		t.Fatalf("%d deleted rows, want the first creation's", env.deletedRows())
	}
	// The sweep times its wait from when it first sees the row.
	if err := env.b.Triggers.sweepDeleted(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := env.b.Triggers.sweepDeleted(t.Context(), time.Now().Add(env.b.Triggers.replayWait())); err != nil {
		t.Fatal(err)
	}
	if segs, _ := processor.Inspect(t.Context(), env.store, processorName("default", "orders", first)); len(segs) != 0 || env.deletedRows() != 0 {
		t.Fatalf("the first creation keeps %d segments, %d deleted rows", len(segs), env.deletedRows())
	}
	q, err := deadletter.Open(t.Context(), env.store, processorName("default", "orders", first), deadletter.WithPartition(env.b.o.statePartition))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := q.Size(t.Context()); n != 0 || err != nil {
		t.Fatalf("the first creation keeps %d parked events (%v)", n, err)
	}
	if segs, _ := processor.Inspect(t.Context(), env.store, st.Processor); len(segs) == 0 {
		t.Fatal("the sweep cleared the running trigger's segments")
	}
	env.send(event("order.placed", "after"))
	if got := sub.wait(t, 2); got[1].event.ID != "after" {
		t.Fatalf("delivered %s", got[1].event.ID)
	}
}

// TestTriggerStoredWithoutIdentity: a trigger stored before triggers had
// a uid keeps its processor, and so its position, through a change, and
// its delete clears that processor.
func TestTriggerStoredWithoutIdentity(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, nil)
	yaml := triggerYAML("old", "order.placed", sub.URL, "")
	ts, err := parseTriggersIn([]byte(yaml), "default", "")
	if err != nil {
		t.Fatal(err)
	}
	row, err := json.Marshal(&ts[0].Resource)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.b.state.put(t.Context(), triggerKey("default", "old"), row); err != nil {
		t.Fatal(err)
	}
	if err := env.b.Triggers.reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	legacy := processorName("default", "old", "")
	if st, err := env.b.Triggers.Status(t.Context(), "default", "old"); err != nil || st.Processor != legacy || !st.Running {
		t.Fatalf("status %+v %v, want processor %s running", st, err, legacy)
	}
	env.send(event("order.placed", "before"))
	sub.wait(t, 1)
	eventually(t, "the position to be committed", func() bool {
		segs, _ := processor.Inspect(t.Context(), env.store, legacy)
		for _, s := range segs {
			if s.Position.String() != "tail" {
				return true
			}
		}
		return false
	})
	env.putTrigger("default", "old", triggerYAML("old", "order.placed", sub.URL, "  delivery:\n    retry: 1\n"))
	if uid := env.uid("default", "old"); uid != "" {
		t.Fatalf("a change gave the trigger uid %q: its processor would start afresh", uid)
	}
	env.send(event("order.placed", "after"))
	if got := sub.wait(t, 2); got[1].event.ID != "after" || sub.count() != 2 {
		t.Fatalf("after the change: %d deliveries, the second %s", sub.count(), got[1].event.ID)
	}
	if code, body := env.do("DELETE", "/v1/triggers/default/old", "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if segs, _ := processor.Inspect(t.Context(), env.store, legacy); len(segs) != 0 {
		t.Fatalf("the deleted trigger's processor keeps %d segments", len(segs))
	}
}

// TestDeleteOfAnotherCreation: a node that still runs an earlier creation
// of a trigger than the one it deletes (it has yet to reload the change)
// clears the deleted one's dead letters, not its own, and retires its
// own for the sweep.
func TestDeleteOfAnotherCreation(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	yaml := triggerYAML("orders", "order.placed", "http://127.0.0.1:9/", "")
	env.putTrigger("default", "orders", yaml)
	first := env.uid("default", "orders")
	env.storeAnotherCreation("default", "orders", yaml)
	second := env.uid("default", "orders")
	if code, body := env.do("DELETE", "/v1/triggers/default/orders", "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	want := map[string]bool{processorName("default", "orders", first): true, processorName("default", "orders", second): true}
	err := env.b.state.scan(t.Context(), deletedPrefix, func(_, value []byte) error {
		var d deletedTrigger
		if err := json.Unmarshal(value, &d); err != nil {
			return err
		}
		delete(want, d.Processor)
		return nil
	})
	if err != nil || len(want) != 0 {
		t.Fatalf("no deleted row for %v (%v): both creations' processors must be swept", want, err)
	}
}

// storeAnotherCreation stores yaml as another creation of the trigger
// namespace/name (a new uid), as another node would, without this node's
// router knowing.
func (e *testEnv) storeAnotherCreation(namespace, name, yaml string) {
	e.t.Helper()
	ts, err := parseTriggersIn([]byte(yaml), namespace, "")
	if err != nil {
		e.t.Fatal(err)
	}
	doc, err := ts[0].stamped(newIdentity(time.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.b.state.put(e.t.Context(), triggerKey(namespace, name), doc); err != nil {
		e.t.Fatal(err)
	}
}

// TestSweepWaitsOnItsOwnClock: a deleted row whose deletedAt is long past
// (the deleting node's clock behind this one's) is not swept before this
// node has seen it for replayWait: another node may still run its
// processor.
func TestSweepWaitsOnItsOwnClock(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	row, err := json.Marshal(deletedTrigger{Processor: processorName("default", "skewed", "u1"), DeletedAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.b.state.put(t.Context(), deletedKey("default", "skewed", "u1"), row); err != nil {
		t.Fatal(err)
	}
	r := env.b.Triggers
	if err := r.sweepDeleted(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := env.deletedRows(); n != 1 {
		t.Fatalf("%d deleted rows after the first sweep that saw it, want it kept", n)
	}
	if err := r.sweepDeleted(t.Context(), time.Now().Add(r.replayWait())); err != nil {
		t.Fatal(err)
	}
	if n := env.deletedRows(); n != 0 {
		t.Fatalf("%d deleted rows once this node saw it for the wait, want it swept", n)
	}
	r.deletedSeenMu.Lock()
	defer r.deletedSeenMu.Unlock()
	if len(r.deletedSeen) != 0 {
		t.Fatalf("the sweep still remembers %d rows that are gone", len(r.deletedSeen))
	}
}
