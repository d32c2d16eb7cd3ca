package broker

import (
	"net/http"
	"strconv"
	"testing"

	"eddy/cloudevents"
)

// Triggers and live subscribers read one log reader and share its
// events: each still gets every event it wants once, in order where it is
// ordered, among engine records, and their lag comes back to 0; the
// reader stops when the last of them leaves.
func TestTriggersAndSubscribersShareTheLogReader(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	all := newSubscriber(t, nil)
	evens := newSubscriber(t, nil)
	ordered := newSubscriber(t, nil)
	env.putTrigger("default", "all", triggerYAML("all", "", all.URL, ""))
	env.putTrigger("default", "evens", triggerYAML("evens", "even", evens.URL, ""))
	env.putTrigger("default", "ordered", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: ordered\n  namespace: default\n"+
		"  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\nspec:\n  broker: default\n  filter:\n    attributes:\n      type: even\n  subscriber:\n    uri: "+ordered.URL+"\n")
	s := openSSEFrom(t, env, "type=odd", "")
	users := func() int {
		l := env.b.hub.log
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.users
	}
	// The triggers' streams open as their processors claim segments.
	eventually(t, "3 triggers and 1 subscriber to read the log", func() bool { return users() == 4 })
	const n = 60
	var sent []cloudevents.Event
	for i := range n {
		typ := "odd"
		if i%2 == 0 {
			typ = "even"
		}
		// One correlation key: one partition and one sequence for the
		// ordered trigger.
		sent = append(sent, event(typ, strconv.Itoa(i), "correlationkey", "c"))
	}
	env.send(sent[:n/2]...)
	env.deploy("tickets-catch-event.bpmn") // engine records in between
	env.send(sent[n/2:]...)

	wantOnce := func(name string, got []received, want func(i int) bool) {
		t.Helper()
		seen := map[string]int{}
		for _, r := range got {
			seen[r.event.ID]++
		}
		for i := range n {
			if want(i) && seen[strconv.Itoa(i)] != 1 {
				t.Errorf("%s got event %d %d times, want once", name, i, seen[strconv.Itoa(i)])
			}
			if !want(i) && seen[strconv.Itoa(i)] != 0 {
				t.Errorf("%s got event %d, which its filter excludes", name, i)
			}
		}
	}
	wantOnce("all", all.wait(t, n), func(int) bool { return true })
	wantOnce("evens", evens.wait(t, n/2), func(i int) bool { return i%2 == 0 })
	got := ordered.wait(t, n/2)
	wantOnce("ordered", got, func(i int) bool { return i%2 == 0 })
	// A batch's events are published concurrently: the log's order, not
	// the batch's, is the one to keep.
	var logOrder []string
	for _, e := range env.loggedEvents() {
		if e.Type == "even" {
			logOrder = append(logOrder, e.ID)
		}
	}
	for k, r := range got {
		if r.event.ID != logOrder[k] {
			t.Fatalf("the ordered trigger's delivery %d was event %s; the log has %v", k, r.event.ID, logOrder)
		}
	}
	var odds []received
	for _, p := range readSSE(t, s, n/2) {
		odds = append(odds, received{event: p.evt})
	}
	wantOnce("the live subscriber", odds, func(i int) bool { return i%2 == 1 })
	for _, name := range []string{"all", "evens", "ordered"} {
		eventually(t, name+"'s lag to come back to 0", func() bool {
			st, err := env.b.Triggers.Status(t.Context(), "default", name)
			return err == nil && st.Lag == 0 && st.Running
		})
	}

	// Everyone leaves: the reader stops.
	s.resp.Body.Close()
	for _, name := range []string{"all", "evens", "ordered"} {
		if code, body := env.do("DELETE", "/v1/triggers/default/"+name, "", nil); code != http.StatusNoContent && code != http.StatusOK {
			t.Fatalf("DELETE %s: %d %s", name, code, body)
		}
	}
	eventually(t, "the log reader to stop", func() bool {
		l := env.b.hub.log
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.users == 0 && l.parts == nil
	})
}
