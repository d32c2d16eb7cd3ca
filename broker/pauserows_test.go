package broker

import (
	"context"
	"errors"
	"testing"
	"time"

	"eddy/storage"
)

// TestPauseRowLeftBehindGoes: a pause row whose node stopped before
// removing it (a crash during a replay or a change) pauses the trigger on
// every node only until it has been there, unchanged, for longer than any
// reset lasts; then a reload removes it and the trigger runs again.
func TestPauseRowLeftBehindGoes(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	r := env.b.Triggers
	r.changing.Lock()
	r.orphanedAfter = 500 * time.Millisecond
	r.changing.Unlock()
	sub := newSubscriber(t, nil)
	env.putTrigger("default", "x", triggerYAML("x", "t", sub.URL, ""))
	rk := replayKey("default", "x")
	if err := env.b.state.put(t.Context(), rk, []byte("change (node gone, 1)")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the row to pause the trigger", func() bool {
		st, err := r.Status(t.Context(), "default", "x")
		return err == nil && st.Paused
	})
	eventually(t, "the row left behind to go and the trigger to run again", func() bool {
		st, err := r.Status(t.Context(), "default", "x")
		_, gerr := env.b.state.get(context.Background(), rk)
		return err == nil && st.Running && !st.Paused && errors.Is(gerr, storage.ErrNotFound)
	})
	env.send(event("t", "after-1"))
	sub.wait(t, 1)
}

// TestDeleteTakesThePauseRow: a trigger deleted while a pause row names it
// (its reset's node died) and created again under the name is not born
// paused.
func TestDeleteTakesThePauseRow(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, nil)
	env.putTrigger("default", "x", triggerYAML("x", "t", sub.URL, ""))
	if err := env.b.state.put(t.Context(), replayKey("default", "x"), []byte("change (node gone, 1)")); err != nil {
		t.Fatal(err)
	}
	if code, body := env.do("DELETE", "/v1/triggers/default/x", "", nil); code >= 300 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	env.putTrigger("default", "x", triggerYAML("x", "t", sub.URL, ""))
	// A few reloads (every 100ms here), any of which a row would pause it at.
	time.Sleep(500 * time.Millisecond)
	if st, err := env.b.Triggers.Status(t.Context(), "default", "x"); err != nil || st.Paused {
		t.Fatalf("the trigger created again: %+v %v, want it running, not paused", st, err)
	}
	env.send(event("t", "again-1"))
	sub.wait(t, 1)
}
