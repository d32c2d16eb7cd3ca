package broker

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"eddy/internal/claimlock"
	"eddy/processor"
)

// TestLapsedLockWritesNothing: on a shared store, a node whose hold on
// the trigger writes lock lapsed between its read and its commit (another
// node took the lock) writes nothing, and its client is told to try again
// (409), for a PUT and a DELETE alike; once the lock is its own again, the
// write goes through.
func TestLapsedLockWritesNothing(t *testing.T) {
	env := newEnvOnPostgres(t, WithJobWorker(false, 1))
	env.putTrigger("default", "x", triggerYAML("x", "", "http://before.example/", ""))
	r := env.b.Triggers
	// The hook is read under r.changing.
	setHook := func(h func()) {
		r.changing.Lock()
		r.beforeWriteCommit = h
		r.changing.Unlock()
	}
	// Another node takes the lock as a stalled holder's claim lapses, and
	// lets it go at once, so that only the stalled write is affected.
	setHook(func() {
		tokens := env.store.Tokens()
		c, err := claimlock.Take(context.Background(), tokens, triggerWritesLock, 0, 1, "other-node", 1)
		if err != nil {
			t.Error(err)
			return
		}
		if err := claimlock.Release(tokens, c, processor.DefaultClaimTimeout); err != nil {
			t.Error(err)
		}
	})
	code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(triggerYAML("x", "", "http://after.example/", "")))
	if code != http.StatusConflict || !strings.Contains(body, "lapsed") {
		t.Fatalf("a PUT whose lock lapsed: %d %s, want 409 saying the lock lapsed", code, body)
	}
	if code, body := env.do("DELETE", "/v1/triggers/default/x", "", nil); code != http.StatusConflict || !strings.Contains(body, "lapsed") {
		t.Fatalf("a DELETE whose lock lapsed: %d %s, want 409 saying the lock lapsed", code, body)
	}
	if code, body := env.do("GET", "/v1/triggers/default/x", "", nil); code != http.StatusOK || !strings.Contains(body, "before.example") {
		t.Fatalf("after the lapsed writes: %d %s, want the trigger as it was", code, body)
	}
	setHook(nil)
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(triggerYAML("x", "", "http://after.example/", ""))); code != http.StatusOK {
		t.Fatalf("a PUT holding the lock: %d %s", code, body)
	}
	if code, body := env.do("GET", "/v1/triggers/default/x", "", nil); code != http.StatusOK || !strings.Contains(body, "after.example") {
		t.Fatalf("after the PUT: %d %s, want the new subscriber", code, body)
	}
}
