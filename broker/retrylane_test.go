package broker

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/broker/trigger"
	"eddy/cloudevents"
)

// attemptsBy is a subscriber that refuses (503) the events whose id starts
// with "bad" while bad says so, accepts the others, and counts the
// attempts per id.
type attemptsBy struct {
	mu       sync.Mutex
	attempts map[string]int
	bad      bool
}

func (a *attemptsBy) respond(_ int, e *cloudevents.Event, w http.ResponseWriter) {
	a.mu.Lock()
	a.attempts[e.ID]++
	refuse := a.bad && strings.HasPrefix(e.ID, "bad")
	a.mu.Unlock()
	if refuse {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (a *attemptsBy) of(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.attempts[id]
}

func (a *attemptsBy) heal() {
	a.mu.Lock()
	a.bad = false
	a.mu.Unlock()
}

// TestFailingEventHoldsUpNoOther: in an unordered trigger, an event whose
// delivery fails and waits out a long back-off does not hold up the events
// behind it, in its segment or any other: they are all delivered while it
// waits, counted as retrying. The old way, the events behind it in its
// segment waited for its whole retry schedule.
func TestFailingEventHoldsUpNoOther(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	a := &attemptsBy{attempts: map[string]int{}, bad: true}
	sub := newSubscriber(t, a.respond)
	env.putTrigger("default", "lane", triggerYAML("lane", "t", sub.URL,
		"  delivery:\n    retry: 3\n    backoffPolicy: exponential\n    backoffDelay: PT30S\n"))
	env.send(event("t", "bad-1"))
	var ok []cloudevents.Event
	for i := range 64 {
		ok = append(ok, event("t", "ok-"+strconv.Itoa(i)))
	}
	env.send(ok...)
	eventually(t, "every healthy event while the failing one waits", func() bool {
		for i := range 64 {
			if a.of("ok-"+strconv.Itoa(i)) == 0 {
				return false
			}
		}
		return true
	})
	st, err := env.b.Triggers.Status(t.Context(), "default", "lane")
	if err != nil {
		t.Fatal(err)
	}
	if a.of("bad-1") != 1 || st.Retrying != 1 || st.DeadLetters != 0 || st.Deliveries.Retries != 1 {
		t.Fatalf("the failing event: %d attempts, status retrying %d, parked %d, retries %d; want 1 attempt, waiting to be retried",
			a.of("bad-1"), st.Retrying, st.DeadLetters, st.Deliveries.Retries)
	}
	// An operator's retry does not wait for the back-off.
	a.heal()
	if code, body := env.do("POST", "/v1/triggers/default/lane/retry", "", nil); code != http.StatusOK {
		t.Fatalf("retry: %d %s", code, body)
	}
	if st, _ := env.b.Triggers.Status(t.Context(), "default", "lane"); a.of("bad-1") != 2 || st.Retrying != 0 || st.DeadLetters != 0 {
		t.Fatalf("after the retry: %d attempts, retrying %d, parked %d", a.of("bad-1"), st.Retrying, st.DeadLetters)
	}
}

// TestRetriesOutliveARestart: a delivery waiting to be retried is kept in
// the store: a node started again on it retries it when it is due, and the
// last failure goes to the dead-letter sink.
func TestRetriesOutliveARestart(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	a := &attemptsBy{attempts: map[string]int{}, bad: true}
	sub := newSubscriber(t, a.respond)
	sink := newSubscriber(t, nil)
	env.putTrigger("default", "lane", triggerYAML("lane", "t", sub.URL,
		"  delivery:\n    retry: 2\n    backoffPolicy: linear\n    backoffDelay: PT2S\n    deadLetterSink:\n      uri: "+sink.URL+"\n"))
	env.send(event("t", "bad-1"))
	eventually(t, "the first attempt to be kept for its retry", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "lane")
		return st.Retrying == 1
	})
	env.restart()
	got := sink.wait(t, 1)[0].event
	if got.ID != "bad-1" || a.of("bad-1") != 3 {
		t.Fatalf("the sink got %q after %d attempts; want bad-1 after 3 (the first and 2 retries)", got.ID, a.of("bad-1"))
	}
	eventually(t, "the queue to be empty", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "lane")
		return st.Retrying == 0 && st.DeadLetters == 0
	})
}

// TestCrowdedLaneRetriesInPlace: once laneLimit deliveries wait for a retry
// (a subscriber that fails everything), a new failure is retried in the
// handler, as an ordered trigger's is, so that the queue does not fill with
// every event the trigger is sent: the subscriber gets its retry without
// the event ever waiting in the queue.
func TestCrowdedLaneRetriesInPlace(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	a := &attemptsBy{attempts: map[string]int{}, bad: true}
	sub := newSubscriber(t, a.respond)
	env.putTrigger("default", "lane", triggerYAML("lane", "t", sub.URL,
		"  delivery:\n    retry: 1\n    backoffPolicy: linear\n    backoffDelay: PT0.05S\n"))
	env.b.Triggers.mu.Lock()
	lane := env.b.Triggers.running["default/lane"].lane
	env.b.Triggers.mu.Unlock()
	lane.mu.Lock()
	for i := range laneLimit {
		lane.due["crowd-"+strconv.Itoa(i)] = time.Now().Add(time.Hour)
	}
	lane.mu.Unlock()
	env.send(event("t", "bad-1"))
	eventually(t, "the event to be parked after its retry", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "lane")
		return st.DeadLetters == 1
	})
	st, _ := env.b.Triggers.Status(t.Context(), "default", "lane")
	if a.of("bad-1") != 2 || st.Retrying != 0 || st.Deliveries.Retries != 1 {
		t.Fatalf("%d attempts, retrying %d, retries %d; want the retry made in place and the event parked for good", a.of("bad-1"), st.Retrying, st.Deliveries.Retries)
	}
}

// TestStopDoesNotWaitOutABackoff: an ordered trigger's handler waiting out
// a long back-off gives its event up when the broker stops, instead of
// holding the stop for the rest of its wait; the event is neither parked
// nor lost, and is delivered when the broker runs again.
func TestStopDoesNotWaitOutABackoff(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	a := &attemptsBy{attempts: map[string]int{}, bad: true}
	sub := newSubscriber(t, a.respond)
	env.putTrigger("default", "waits", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: waits\n  namespace: default\n"+
		"  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\nspec:\n  broker: default\n  filter:\n    attributes:\n      type: t\n"+
		"  subscriber:\n    uri: "+sub.URL+"\n  delivery:\n    retry: 3\n    backoffPolicy: linear\n    backoffDelay: PT60S\n")
	env.send(event("t", "bad-1"))
	eventually(t, "the first attempt", func() bool { return a.of("bad-1") == 1 })
	st, err := env.b.Triggers.Status(t.Context(), "default", "waits")
	if err != nil {
		t.Fatal(err)
	}
	// A guard well inside the back-off.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env.srv.Close()
	if err := env.b.Close(ctx); err != nil {
		t.Fatalf("closing the broker while a delivery waits out its back-off: %v", err)
	}
	// A clean stop releases every segment's claim. The old way the stop
	// outlasted its bound, and the work package in its back-off was
	// abandoned with its claim held, for another node to wait out.
	segs, err := env.store.Tokens().Segments(t.Context(), st.Processor)
	if err != nil {
		t.Fatal(err)
	}
	for _, seg := range segs {
		if seg.Owner != "" {
			t.Fatalf("segment %d of %s is still claimed by %q after the stop", seg.ID, st.Processor, seg.Owner)
		}
	}
	env.eng.Close()
	env.store.Close()
	env.b = nil
	a.heal()
	env.start()
	eventually(t, "the event delivered after the restart", func() bool { return a.of("bad-1") == 2 })
	if st, _ := env.b.Triggers.Status(t.Context(), "default", "waits"); st.DeadLetters != 0 || st.Retrying != 0 {
		t.Fatalf("the event given up at the stop was parked: %+v", st)
	}
}

// TestRetryScheduleBound: a retry may take the delivery's whole schedule
// (attempts and back-offs), and the dead-letter sink's after it when there
// is one, within a bound a long schedule cannot overflow.
func TestRetryScheduleBound(t *testing.T) {
	d := trigger.Delivery{Retry: 2, BackoffPolicy: trigger.Linear, BackoffDelay: time.Second}
	attempt := time.Second + aliveSlack
	schedule := 3*attempt + time.Second + 2*time.Second
	if got := retrySchedule(&d, time.Second); got != schedule+attempt {
		t.Errorf("without a sink: %v, want %v", got, schedule+attempt)
	}
	d.DeadLetterSink = "http://sink.example/"
	if got := retrySchedule(&d, time.Second); got != 2*schedule+attempt {
		t.Errorf("with a sink: %v, want %v", got, 2*schedule+attempt)
	}
	huge := trigger.Delivery{Retry: 1 << 20, BackoffPolicy: trigger.Exponential, BackoffDelay: time.Hour}
	if got := retrySchedule(&huge, time.Hour); got != 24*time.Hour {
		t.Errorf("a schedule beyond the bound: %v, want 24h", got)
	}
}

// TestRetriesTakenLongestDueFirst: the retries due are handed to the
// workers in the order they fell due (before, in map order: one due early
// could wait behind later ones while slow attempts held the workers).
func TestRetriesTakenLongestDueFirst(t *testing.T) {
	now := time.Now()
	r := &retrier{due: map[string]time.Time{}, busy: map[string]bool{"held": true}}
	for i, seq := range []string{"c", "a", "later", "b", "held"} {
		r.due[seq] = now.Add(time.Duration(i-4) * time.Second) // c first, held last
	}
	r.due["later"] = now.Add(time.Minute)
	r.due["a"], r.due["b"] = now.Add(-2*time.Second), now.Add(-2*time.Second)
	if got, want := r.takeDue(now), []string{"c", "a", "b"}; !slices.Equal(got, want) {
		t.Errorf("taken %v, want %v (longest due first, ties by name; not the busy nor the later one)", got, want)
	}
	if _, kept := r.due["later"]; !kept || !r.busy["c"] {
		t.Errorf("after taking: due %v, busy %v", r.due, r.busy)
	}
}
