package broker

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
)

func TestTriggerDeliversWhatItsFilterMatches(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, nil)
	env.putTrigger("default", "orders", triggerYAML("orders", "order.placed", sub.URL, ""))
	env.send(event("order.placed", "1"), event("order.paid", "2"), event("order.placed", "3"))
	got := sub.wait(t, 2)
	ids := map[string]bool{}
	for _, r := range got {
		if r.event.Type != "order.placed" {
			t.Errorf("delivered %s, which the filter excludes", r.event.Type)
		}
		ids[r.event.ID] = true
		if r.header.Get("Prefer") != "reply" {
			t.Errorf("delivery without Prefer: reply")
		}
	}
	if !ids["1"] || !ids["3"] {
		t.Fatalf("delivered %v, want events 1 and 3", ids)
	}
	// Event 2 was before event 3 on the log, or on the other partition:
	// a marker after everything shows nothing else is coming.
	env.send(event("order.placed", "marker"))
	if got := sub.wait(t, 3); len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
}

func TestTriggerRetriesWithBackoff(t *testing.T) {
	for _, policy := range []string{"linear", "exponential"} {
		t.Run(policy, func(t *testing.T) {
			env := newEnv(t, WithJobWorker(false, 1))
			sub := newSubscriber(t, func(n int, _ *cloudevents.Event, w http.ResponseWriter) {
				if n < 3 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.WriteHeader(http.StatusAccepted)
			})
			delay := 40 * time.Millisecond
			env.putTrigger("default", "flaky", triggerYAML("flaky", "", sub.URL,
				"  delivery:\n    retry: 5\n    backoffPolicy: "+policy+"\n    backoffDelay: PT0.04S\n"))
			env.send(event("t", "1"))
			got := sub.wait(t, 4)
			for n := 1; n < len(got); n++ {
				want := delay * time.Duration(n)
				if policy == "exponential" {
					want = delay << n
				}
				// A timer never fires early: the gap is at least the backoff.
				if gap := got[n].at.Sub(got[n-1].at); gap < want {
					t.Errorf("retry %d came %v after the previous attempt, before its backoff of %v", n, gap, want)
				}
			}
			eventually(t, "the delivery to be counted", func() bool {
				st, _ := env.b.Triggers.Status(t.Context(), "default", "flaky")
				return st.Deliveries.Delivered == 1 && st.Retrying == 0
			})
			st, err := env.b.Triggers.Status(t.Context(), "default", "flaky")
			if err != nil {
				t.Fatal(err)
			}
			if st.Deliveries.Retries != 3 || st.Deliveries.Failures != 0 || st.DeadLetters != 0 {
				t.Fatalf("status %+v: want 3 retries, no failure", st.Deliveries)
			}
			// The status says the deliveries recovered after the errors.
			if d := st.Deliveries; d.LastError == "" || !d.LastDeliveredAt.After(d.LastErrorAt) || d.LastDeliveredAt.Before(got[3].at.Add(-time.Second)) {
				t.Errorf("last error %q at %v, last delivered at %v (the subscriber took the event at %v): want the delivery after the error",
					d.LastError, d.LastErrorAt, d.LastDeliveredAt, got[3].at)
			}
		})
	}
}

// TestTriggerAnswersAsKnative checks each answer of Knative's data plane:
// which are retried, which are dead-lettered at once, which are accepted.
func TestTriggerAnswersAsKnative(t *testing.T) {
	cases := []struct {
		status   int
		attempts int // with retry: 2
		dead     bool
	}{
		{http.StatusOK, 1, false},
		{299, 1, false}, // a 200 whose body is not meant as an event ("OK"): discarded, as Knative does
		{298, 1, true},  // a 200 with an event that cannot be read: a failure, as Knative's 502
		{http.StatusAccepted, 1, false},
		{http.StatusNoContent, 1, false},
		{http.StatusBadRequest, 1, true},
		{http.StatusForbidden, 1, true},
		{http.StatusMovedPermanently, 1, true},
		{http.StatusNotFound, 3, true},
		{http.StatusConflict, 3, true},
		{http.StatusTooManyRequests, 3, true},
		{http.StatusInternalServerError, 3, true},
		{http.StatusBadGateway, 3, true},
	}
	env := newEnv(t, WithJobWorker(false, 1))
	for _, c := range cases {
		code := strconv.Itoa(c.status)
		t.Run(code, func(t *testing.T) {
			dls := newSubscriber(t, nil)
			sub := newSubscriber(t, func(_ int, _ *cloudevents.Event, w http.ResponseWriter) {
				w.Header().Set("Location", "http://elsewhere.invalid/")
				switch c.status {
				case 299:
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusOK)
					w.Write([]byte("OK"))
					return
				case 298:
					w.Header().Set("Ce-Specversion", "1.0") // and no id, source or type
					w.WriteHeader(http.StatusOK)
					w.Write([]byte("not an event"))
					return
				}
				w.WriteHeader(c.status)
				if c.status >= 300 {
					w.Write([]byte("answer " + code))
				}
			})
			env.putTrigger("default", "t"+code, triggerYAML("t"+code, "status."+code, sub.URL,
				"  delivery:\n    retry: 2\n    backoffDelay: PT0.001S\n    deadLetterSink:\n      uri: "+dls.URL+"\n"))
			env.send(event("status."+code, "e"+code))
			sub.wait(t, c.attempts)
			if c.dead {
				dl := dls.wait(t, 1)[0].event
				if dl.ID != "e"+code {
					t.Fatalf("dead letter %s, want e%s", dl.ID, code)
				}
				if v, _ := dl.Extension(ExtErrorDest); v.Text != sub.URL {
					t.Errorf("knativeerrordest %q, want %q", v.Text, sub.URL)
				}
				wantCode, wantData := code, "answer "+code
				if c.status == 298 {
					wantCode, wantData = "502", "the subscriber answered 200 with a CloudEvent that cannot be read"
				}
				// (Sent in binary mode: the header's text; the type is lost.)
				if v, _ := dl.Extension(ExtErrorCode); v.Text != wantCode {
					t.Errorf("knativeerrorcode %q, want %s", v.Text, wantCode)
				}
				v, _ := dl.Extension(ExtErrorData)
				if data, _ := base64.StdEncoding.DecodeString(v.Text); !strings.HasPrefix(string(data), wantData) {
					t.Errorf("knativeerrordata %q decodes to %q, want %q", v.Text, data, wantData)
				}
			} else {
				eventually(t, "the delivery to be counted", func() bool {
					st, _ := env.b.Triggers.Status(t.Context(), "default", "t"+code)
					return st.Deliveries.Delivered == 1
				})
			}
			// No more attempts come after the outcome.
			env.send(event("status."+code, "marker"+code))
			sub.wait(t, c.attempts+1)
			if n := sub.count(); n > c.attempts+c.attempts {
				t.Fatalf("%d attempts for two events, want %d for the first", n, c.attempts)
			}
			got := sub.wait(t, c.attempts+1)
			if got[c.attempts].event.ID != "marker"+code {
				t.Fatalf("attempt %d was for %s: the first event had more attempts than %d", c.attempts+1, got[c.attempts].event.ID, c.attempts)
			}
		})
	}
}

func TestTriggerPublishesReplies(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	replier := newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		r := event("order.confirmed", "reply-to-"+e.ID)
		if e.ID == "accepted" {
			// 202 carries no reply, even if it looks like one.
			cloudevents.WriteResponse(w, http.StatusAccepted, &r, cloudevents.Binary)
			return
		}
		cloudevents.WriteResponse(w, http.StatusOK, &r, cloudevents.Structured)
	})
	confirmations := newSubscriber(t, nil)
	env.putTrigger("default", "replier", triggerYAML("replier", "order.placed", replier.URL, ""))
	env.putTrigger("default", "confirmations", triggerYAML("confirmations", "order.confirmed", confirmations.URL, ""))
	env.send(event("order.placed", "accepted"))
	env.send(event("order.placed", "o-1"))
	got := confirmations.wait(t, 1)
	if got[0].event.ID != "reply-to-o-1" {
		t.Fatalf("confirmation %s, want the reply to o-1", got[0].event.ID)
	}
	env.send(event("order.confirmed", "marker"))
	got = confirmations.wait(t, 2)
	for _, r := range got {
		if r.event.ID == "reply-to-accepted" {
			t.Fatal("the body of a 202 was published as a reply")
		}
	}
	st, _ := env.b.Triggers.Status(t.Context(), "default", "replier")
	if st.Deliveries.Replies != 1 {
		t.Fatalf("replies counted %d, want 1", st.Deliveries.Replies)
	}
}

// TestReplyLoopIsCut: a subscriber whose replies match its own trigger
// loops only as far as the hop count (knativebrokerttl) goes: each reply
// carries one less than its event, and the one that would carry none is
// dropped, counted and said in the trigger's status. Subscribers are sent
// events without it, as Knative's filter sends them.
func TestReplyLoopIsCut(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	looper := newSubscriber(t, func(n int, e *cloudevents.Event, w http.ResponseWriter) {
		r := event("loop.again", "loop-"+strconv.Itoa(n))
		cloudevents.WriteResponse(w, http.StatusOK, &r, cloudevents.Binary)
	})
	env.putTrigger("default", "looper", triggerYAML("looper", "loop.again", looper.URL, ""))
	env.send(event("loop.again", "start", ExtBrokerTTL, "4"))
	eventually(t, "the loop's last reply to be dropped", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "looper")
		return st.Deliveries.RepliesDropped == 1
	})
	got := looper.wait(t, 4)
	st, _ := env.b.Triggers.Status(t.Context(), "default", "looper")
	if len(got) != 4 || st.Deliveries.Replies != 3 || !strings.Contains(st.Deliveries.LastError, ExtBrokerTTL) {
		t.Fatalf("%d deliveries, %d replies published, last error %q; want the event and 3 replies, the 4th dropped",
			len(got), st.Deliveries.Replies, st.Deliveries.LastError)
	}
	// The subscriber never sees the hop count, the broker's own (Knative's
	// filter takes it off); the replies on the log carry it.
	for _, r := range got {
		if v, ok := r.event.Extension(ExtBrokerTTL); ok {
			t.Errorf("the subscriber got %s with %s %q", r.event.ID, ExtBrokerTTL, v.Text)
		}
	}
	logged := map[string]string{}
	for _, e := range env.loggedEvents() {
		v, _ := e.Extension(ExtBrokerTTL)
		logged[e.ID] = v.Text
	}
	for i, r := range got[1:] {
		if ttl := logged[r.event.ID]; ttl != strconv.Itoa(3-i) {
			t.Errorf("reply %d carries %s %q on the log, want %d", i+1, ExtBrokerTTL, ttl, 3-i)
		}
	}
}

// TestReplyKeepingTheEventsIdentityIsToldDropped: a transformer that
// answers with its event's source and id, changing only the type, has its
// reply taken for that event again within the duplicate window; the drop is
// counted and said, with what to do about it, rather than silent.
func TestReplyKeepingTheEventsIdentityIsToldDropped(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	transformer := newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		r := e.Clone()
		r.Type = "order.enriched"
		cloudevents.WriteResponse(w, http.StatusOK, &r, cloudevents.Binary)
	})
	env.putTrigger("default", "enrich", triggerYAML("enrich", "order.placed", transformer.URL, ""))
	env.send(event("order.placed", "o-1"))
	eventually(t, "the reply's drop to be counted", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "enrich")
		return st.Deliveries.RepliesDropped == 1
	})
	st, _ := env.b.Triggers.Status(t.Context(), "default", "enrich")
	if st.Deliveries.Replies != 0 || !strings.Contains(st.Deliveries.LastError, "give a reply an id of its own") {
		t.Fatalf("replies %d, last error %q; want the drop said", st.Deliveries.Replies, st.Deliveries.LastError)
	}
}

func TestFailedDeliveryWithoutSinkIsParked(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub, heal := refusingSubscriber(t, func(*cloudevents.Event) bool { return true })
	env.putTrigger("default", "parks", triggerYAML("parks", "", sub.URL, ""))
	env.send(event("t", "p-1"))
	sub.wait(t, 1)
	eventually(t, "the event to be parked", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "parks")
		return st.DeadLetters == 1
	})
	st, _ := env.b.Triggers.Status(t.Context(), "default", "parks")
	if st.Deliveries.Failures != 1 || st.Deliveries.LastError == "" {
		t.Fatalf("status does not show the failure: %+v", st.Deliveries)
	}
	// A retry while the subscriber still refuses: the event stays parked,
	// and the answer says so.
	if code, body := env.do("POST", "/v1/triggers/default/parks/retry", "", nil); code != http.StatusBadGateway || !strings.Contains(body, "parked events left: 1") {
		t.Fatalf("a retry that failed again: %d %s, want 502 saying the event is still parked", code, body)
	}
	sub.wait(t, 2)
	// A retry while another handling holds the event (here a Process call
	// of the test's, as another node's retry would): nothing failed, and
	// the answer says it is held, not that the subscriber failed (before,
	// it blamed the subscriber with its last, stale error).
	release := holdParked(t, env, "default/parks")
	if code, body := env.do("POST", "/v1/triggers/default/parks/retry", "", nil); code != http.StatusConflict || !strings.Contains(body, "being handled meanwhile") {
		t.Errorf("a retry of an event another handling holds: %d %s, want 409 saying it is held", code, body)
	}
	release()
	heal()
	resp, err := http.Post(env.srv.URL+"/v1/triggers/default/parks/retry", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var retried struct{ Retried int }
	err = json.NewDecoder(resp.Body).Decode(&retried)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || retried.Retried != 1 {
		t.Fatalf("POST …/retry: %s, %+v, %v", resp.Status, retried, err)
	}
	if got := sub.wait(t, 3); got[2].event.ID != "p-1" {
		t.Fatalf("retried %s, want p-1", got[2].event.ID)
	}
	st, _ = env.b.Triggers.Status(t.Context(), "default", "parks")
	if st.DeadLetters != 0 {
		t.Fatalf("%d dead letters left", st.DeadLetters)
	}
}

func TestOrderedTriggerKeepsOrder(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, func(n int, _ *cloudevents.Event, w http.ResponseWriter) {
		// Uneven answers: a concurrent delivery would overtake.
		time.Sleep(time.Duration(n%3) * time.Millisecond)
		w.WriteHeader(http.StatusAccepted)
	})
	env.putTrigger("default", "ordered", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: ordered\n  namespace: default\n"+
		"  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\nspec:\n  broker: default\n  subscriber:\n    uri: "+sub.URL+"\n")
	const n = 40
	for i := range n {
		// One customer's events share a correlation key, hence a
		// partition and a sequence.
		env.send(event("step", strconv.Itoa(i), "correlationkey", "customer-1"))
	}
	got := sub.wait(t, n)
	for i, r := range got {
		if r.event.ID != strconv.Itoa(i) {
			t.Fatalf("delivery %d was event %s: out of order", i, r.event.ID)
		}
	}
	st, _ := env.b.Triggers.Status(t.Context(), "default", "ordered")
	if !st.Ordered {
		t.Fatal("status does not say ordered")
	}
}

func TestUnorderedTriggerDoesNotWaitForASlowDelivery(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	release := make(chan struct{})
	var once sync.Once
	defer once.Do(func() { close(release) })
	sub := newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		if e.ID == "slow" {
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	})
	env.putTrigger("default", "unordered", triggerYAML("unordered", "", sub.URL, ""))
	env.send(event("t", "slow"))
	sub.wait(t, 1)
	var batch []cloudevents.Event
	for i := range 30 {
		batch = append(batch, event("t", "fast-"+strconv.Itoa(i)))
	}
	env.send(batch...)
	// Events on other segments are delivered while "slow" is held.
	sub.wait(t, 10)
	once.Do(func() { close(release) })
	sub.wait(t, 31)
}

func TestRetryOfAnUnknownTriggerIs404(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	resp, err := http.Post(env.srv.URL+"/v1/triggers/default/nope/retry", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("retry of a trigger that does not exist: %s, want 404", resp.Status)
	}
}

// TestDeadLetterSinkAnswerCountsByItsStatus: a dead-letter sink is not
// offered a reply (no Prefer: reply), and a 200 whose body is plain text
// takes the event, as Knative counts a sink's answer by its status alone.
func TestDeadLetterSinkAnswerCountsByItsStatus(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	dls := newSubscriber(t, func(_ int, _ *cloudevents.Event, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("OK"))
	})
	sub := newSubscriber(t, func(_ int, _ *cloudevents.Event, w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
	})
	env.putTrigger("default", "to-dls", triggerYAML("to-dls", "dls.text", sub.URL,
		"  delivery:\n    deadLetterSink:\n      uri: "+dls.URL+"\n"))
	env.send(event("dls.text", "d1"))
	got := dls.wait(t, 1)
	if p := got[0].header.Get("Prefer"); p != "" {
		t.Errorf("the dead-letter sink was sent Prefer: %q; it gives no reply", p)
	}
	if p := sub.wait(t, 1)[0].header.Get("Prefer"); p != "reply" {
		t.Errorf("the subscriber was sent Prefer: %q, want reply", p)
	}
	st := deadLettered(t, env, "to-dls")
	if st.DeadLetters != 0 || dls.count() != 1 {
		t.Fatalf("status %+v, %d deliveries to the sink: want the sink's 200 to take the event once, nothing parked", st, dls.count())
	}
}

// TestDeadLetterErrorDataIsCappedEncoded: knativeerrordata holds at most
// 1,024 characters of base64, as Knative caps it, the start of the body.
func TestDeadLetterErrorDataIsCappedEncoded(t *testing.T) {
	body := []byte(strings.Repeat("0123456789", 200))
	e := event("t", "cap-1")
	dl := deadLetter(&e, "default/t", "http://sub.invalid/", attempt{Status: http.StatusInternalServerError, Body: body})
	v, _ := dl.Extension(ExtErrorData)
	data, err := base64.StdEncoding.DecodeString(v.Text)
	if len(v.Text) > maxErrorData || err != nil || !bytes.HasPrefix(body, data) || len(data) < maxErrorData*3/4 {
		t.Fatalf("knativeerrordata of %d characters decodes to %d bytes (%v); want at most %d characters, the body's start", len(v.Text), len(data), err, maxErrorData)
	}
}

// TestTriggerReplays: a replay from the log's tail delivers the trigger's
// events again (marked replaying in its status while it does), one from the
// head skips what is there, and bad requests are refused with the reason.
func TestTriggerReplays(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, nil)
	env.putTrigger("default", "again", triggerYAML("again", "order.placed", sub.URL, ""))
	env.send(event("order.placed", "r1"), event("order.placed", "r2"), event("order.other", "x1"), event("order.placed", "r3"))
	sub.wait(t, 3)

	replay := func(body string) (int, string) {
		return env.do("POST", "/v1/triggers/default/again/replay", "application/json", []byte(body))
	}
	code, body := replay(`{"from":"tail"}`)
	if code != http.StatusOK || !strings.Contains(body, `"running":true`) {
		t.Fatalf("replay from the tail: %d %s", code, body)
	}
	got := sub.wait(t, 6)
	ids := map[string]int{}
	for _, r := range got {
		ids[r.event.ID]++
	}
	if len(got) != 6 || ids["r1"] != 2 || ids["r2"] != 2 || ids["r3"] != 2 || ids["x1"] != 0 {
		t.Fatalf("deliveries after the replay: %v, want r1..r3 twice each and nothing else", ids)
	}
	// Once caught up, no segment shows replaying, though none has had a
	// new event to commit since; the counts go on across the replay.
	eventually(t, "the status to show the replay over", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "again")
		for _, s := range st.Segments {
			if s.Replaying {
				return false
			}
		}
		return st.Lag == 0 && len(st.Segments) > 0 && st.Deliveries.Delivered == 6
	})

	if code, body := replay(`{"from":"head"}`); code != http.StatusOK {
		t.Fatalf("replay from the head: %d %s", code, body)
	}
	env.send(event("order.placed", "r4"))
	got = sub.wait(t, 7)
	if got[6].event.ID != "r4" {
		t.Fatalf("after a replay from the head the next delivery is %s, want r4", got[6].event.ID)
	}

	for _, c := range []struct {
		path, body string
		status     int
		says       string
	}{
		{"/v1/triggers/default/again/replay", `{"from":"yesterday"}`, http.StatusBadRequest, "RFC 3339"},
		{"/v1/triggers/default/again/replay", `{"form":"tail"}`, http.StatusBadRequest, "form"},
		{"/v1/triggers/default/nobody/replay", `{"from":"tail"}`, http.StatusNotFound, "nobody"},
		// No default: a forgotten "from" does not deliver the whole log again.
		{"/v1/triggers/default/again/replay", `{}`, http.StatusBadRequest, "a replay needs"},
		{"/v1/triggers/default/again/replay", `{"from":""}`, http.StatusBadRequest, "a replay needs"},
		{"/v1/triggers/default/again/replay", ``, http.StatusBadRequest, "a replay needs"},
	} {
		if code, body := env.do("POST", c.path, "application/json", []byte(c.body)); code != c.status || !strings.Contains(body, c.says) {
			t.Errorf("POST %s %s: %d %s, want %d saying %q", c.path, c.body, code, body, c.status, c.says)
		}
	}
	if n := sub.count(); n != 7 {
		t.Fatalf("%d deliveries in all, want 7", n)
	}
}

// TestReplayKeepsAParkedEventOnce: a replay delivers the trigger's events
// again but leaves a parked event where it is, once: a retry then delivers
// it once, not once per replay.
func TestReplayKeepsAParkedEventOnce(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub, heal := refusingSubscriber(t, func(e *cloudevents.Event) bool { return e.ID == "p-1" })
	env.putTrigger("default", "parks", triggerYAML("parks", "", sub.URL, ""))
	env.send(event("t", "ok-1"), event("t", "p-1"))
	sub.wait(t, 2)
	parked := func() int {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "parks")
		return st.DeadLetters
	}
	eventually(t, "p-1 to be parked", func() bool { return parked() == 1 })
	if code, body := env.do("POST", "/v1/triggers/default/parks/replay", "application/json", []byte(`{"from":"tail"}`)); code != http.StatusOK {
		t.Fatalf("replay: %d %s", code, body)
	}
	if got := sub.wait(t, 3); got[2].event.ID != "ok-1" {
		t.Fatalf("the replay delivered %s, want ok-1 again", got[2].event.ID)
	}
	eventually(t, "the replay to pass p-1", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "parks")
		return st.Lag == 0
	})
	if n := parked(); n != 1 {
		t.Fatalf("%d parked events after the replay, want p-1 once", n)
	}
	heal()
	code, body := env.do("POST", "/v1/triggers/default/parks/retry", "", nil)
	if code != http.StatusOK || !strings.Contains(body, `"retried":1,"events":1`) {
		t.Fatalf("retry: %d %s, want p-1 retried once", code, body)
	}
	got := sub.wait(t, 4)
	if n := sub.count(); n != 4 || got[3].event.ID != "p-1" || parked() != 0 {
		t.Fatalf("%d deliveries (the last %s), %d parked: want p-1 delivered once more and nothing parked", n, got[3].event.ID, parked())
	}
}

// TestBuiltinTriggerIsNotReplayed: a trigger the engine serves itself has
// no deliveries to replay; the refusal says so, and the router still
// answers afterwards (the replay let go of what it held).
func TestBuiltinTriggerIsNotReplayed(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.putTrigger("default", "router", triggerYAML("router", "order.placed", "http://zeebe-cloud-events-router:8080/", ""))
	code, body := env.do("POST", "/v1/triggers/default/router/replay", "application/json", []byte(`{"from":"tail"}`))
	if code != http.StatusBadRequest || !strings.Contains(body, "engine itself") {
		t.Fatalf("replaying a built-in trigger: %d %s, want 400 saying why", code, body)
	}
	if code, body := env.do("POST", "/v1/triggers/default/router/retry", "", nil); code != http.StatusBadRequest || !strings.Contains(body, "engine itself") {
		t.Fatalf("retrying a built-in trigger's parked events: %d %s, want 400 saying why", code, body)
	}
	env.putTrigger("default", "after", triggerYAML("after", "order.placed", "http://sub.invalid/", ""))
	if code, body := env.do("GET", "/v1/triggers/default/after", "", nil); code != http.StatusOK {
		t.Fatalf("the router after a refused replay: %d %s", code, body)
	}
}

// TestOrderingSwitchSkipsNoEvent: a trigger switched from unordered to
// ordered delivery while one of its segments is stuck behind the others
// (its subscriber refuses one event for a while) still delivers that event
// afterwards: the switch moves every segment to the lowest of their
// positions, as the segment that now owns the event may be past it.
func TestOrderingSwitchSkipsNoEvent(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSlowAndFast(t)
	spec := "spec:\n  broker: default\n  subscriber:\n    uri: " + sub.URL + "\n  delivery:\n    retry: 1000\n    backoffPolicy: linear\n    backoffDelay: PT0.01S\n"
	env.putTrigger("default", "switch", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: switch\n  namespace: default\n"+spec)
	env.send(event("t", "slow"))
	env.send(fastEvents(40)...)
	// The stuck segment holds back the fast events behind "slow" in it;
	// the other segments deliver theirs.
	eventually(t, "the other segments to deliver their fast events", func() bool { return sub.fastSeen() >= 20 })
	env.putTrigger("default", "switch", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: switch\n  namespace: default\n"+
		"  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\n"+spec)
	sub.slowOK.Store(true)
	eventually(t, "the event the stuck segment held to be delivered after the switch", sub.slowDelivered.Load)
	eventually(t, "every fast event to be delivered", func() bool { return sub.fastSeen() == 40 })
}

// TestRefusedReplyGoesToTheDeadLetterSink: a reply the broker refuses (its
// data declared JSON but not) fails the delivery at once, not after
// retries, and the event goes to the dead-letter sink with the reason, as
// in Knative, rather than into the dead-letter queue.
func TestRefusedReplyGoesToTheDeadLetterSink(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	dls := newSubscriber(t, nil)
	sub := newSubscriber(t, answerBrokenReply)
	env.putTrigger("default", "replies", triggerYAML("replies", "asks", sub.URL,
		"  delivery:\n    retry: 3\n    deadLetterSink:\n      uri: "+dls.URL+"\n"))
	env.send(event("asks", "q1"))
	got := dls.wait(t, 1)[0]
	code, _ := got.event.Extension(ExtErrorCode)
	data, _ := got.event.Extension(ExtErrorData)
	reason, _ := base64.StdEncoding.DecodeString(data.Text)
	if got.event.ID != "q1" || code.Text != "400" || !strings.Contains(string(reason), "publishing the reply") {
		t.Fatalf("the sink got %s with %s %q and reason %q: want q1, 400 and why the reply was refused", got.event.ID, ExtErrorCode, code.Text, reason)
	}
	st := deadLettered(t, env, "replies")
	if st.DeadLetters != 0 || sub.count() != 1 {
		t.Fatalf("status %+v, %d deliveries: want one, dead-lettered to the sink, nothing parked", st, sub.count())
	}
}

// deadLettered waits for the trigger default/name to count one event taken
// by its dead-letter sink (the sink has the event before the trigger
// counts it) and returns the trigger's status.
func deadLettered(t *testing.T, env *testEnv, name string) TriggerStatus {
	t.Helper()
	eventually(t, "the dead letter to be counted as taken", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", name)
		return st.Deliveries.DeadLettered == 1
	})
	st, err := env.b.Triggers.Status(t.Context(), "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// refusingSubscriber answers 400 (not retried) to the events refuses picks
// until heal is called, and 202 to the rest.
func refusingSubscriber(t *testing.T, refuses func(*cloudevents.Event) bool) (sub *subscriber, heal func()) {
	var healed atomic.Bool
	sub = newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		if !healed.Load() && refuses(e) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return sub, func() { healed.Store(true) }
}

// TestSubscriberThatNeverAnswersTimesOut: a trigger that sets no
// delivery.timeout still bounds each attempt (the broker's default): a
// subscriber that never answers fails the attempt, which is retried and
// then dead-lettered by the trigger's policy, instead of holding the event
// for ever.
func TestSubscriberThatNeverAnswersTimesOut(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithDeliveryTimeout(300*time.Millisecond))
	hang := make(chan struct{})
	sub := newSubscriber(t, func(int, *cloudevents.Event, http.ResponseWriter) { <-hang })
	t.Cleanup(func() { close(hang) })
	sink := newSubscriber(t, nil)
	env.putTrigger("default", "hung", triggerYAML("hung", "t", sub.URL,
		"  delivery:\n    retry: 1\n    backoffPolicy: linear\n    backoffDelay: PT0.05S\n    deadLetterSink:\n      uri: "+sink.URL+"\n"))
	env.send(event("t", "h-1"))
	got := sink.wait(t, 1)[0].event
	if got.ID != "h-1" {
		t.Fatalf("the dead-letter sink got %s, want h-1", got.ID)
	}
	// No answer came: the code is 500, as Knative's dispatcher says.
	if code, _ := got.Extension(ExtErrorCode); code.Text != "500" {
		t.Errorf("knativeerrorcode %q, want 500", code.Text)
	}
	if n := sub.count(); n != 2 {
		t.Errorf("the subscriber got %d attempts, want 2 (the first and one retry)", n)
	}
	eventually(t, "the dead-lettering to be counted", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "hung")
		return st.Deliveries.DeadLettered == 1
	})
	st, err := env.b.Triggers.Status(t.Context(), "default", "hung")
	if err != nil {
		t.Fatal(err)
	}
	if st.Deliveries.Retries != 1 || st.Deliveries.Failures != 1 || st.Deliveries.DeadLettered != 1 || !strings.Contains(st.Deliveries.LastError, "deadline") {
		t.Errorf("deliveries %+v, want 1 retry, 1 failure, 1 dead-lettered and the timeout as the last error", st.Deliveries)
	}
}

// TestDeadLetterSentBackIntoTheBroker: a trigger whose dead-letter sink is
// the broker itself (Knative's "dead letters to a DLQ broker") puts the
// dead letter on the log as an event of its own, which a trigger on the
// knativeerror* extensions delivers; two triggers that fail the same event
// at the same subscriber put one each, naming their trigger. Before, a
// dead letter kept the failed event's source and id and was dropped as a
// redelivery of it, silently. A trigger whose filter matches its own dead
// letter does not take it back (it would fail it again, in a loop).
func TestDeadLetterSentBackIntoTheBroker(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	refuses := newSubscriber(t, func(_ int, _ *cloudevents.Event, w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) })
	parked := newSubscriber(t, nil)
	for _, name := range []string{"fails", "fails-too"} {
		env.putTrigger("default", name, triggerYAML(name, "order.placed", refuses.URL,
			"  delivery:\n    deadLetterSink:\n      uri: "+env.srv.URL+"/default/dlq\n"))
	}
	env.putTrigger("default", "dlq", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: dlq\nspec:\n  broker: dlq\n"+
		"  filters:\n  - exact:\n      knativeerrorcode: \"400\"\n  subscriber:\n    uri: "+parked.URL+"\n")
	env.send(event("order.placed", "o-1"))
	got := parked.wait(t, 2)
	triggers := map[string]bool{}
	for _, g := range got {
		dest, _ := g.event.Extension(ExtErrorDest)
		trig, _ := g.event.Extension(ExtErrorTrigger)
		if g.event.ID != "o-1" || dest.Text != refuses.URL {
			t.Fatalf("the dead-letter trigger got %s with %s %q; want o-1, and the subscriber that refused it", g.event.ID, ExtErrorDest, dest.Text)
		}
		triggers[trig.Text] = true
	}
	if !triggers["default/fails"] || !triggers["default/fails-too"] {
		t.Errorf("the dead letters name triggers %v, want both failing triggers", triggers)
	}
	// A redelivery of the original within the window is still one: the
	// log holds the original and its two dead letters, once each, and
	// neither failing trigger took a dead letter back.
	env.send(event("order.placed", "o-1"))
	if n := env.loggedWithID("o-1"); n != 3 {
		t.Errorf("the log holds %d events of id o-1, want 3: the original and its two dead letters", n)
	}
	// Each failing trigger took the original and the other's dead letter
	// (an event like any other, of the type it filters on), once each; a
	// second dead letter of either is the first again. Neither took its
	// own back, which would make 3 each.
	eventually(t, "the failing triggers to have read the whole log", func() bool {
		for _, name := range []string{"fails", "fails-too"} {
			st, err := env.b.Triggers.Status(t.Context(), "default", name)
			if err != nil || st.Lag != 0 || st.Deliveries.DeadLettered < 2 {
				return false
			}
		}
		return true
	})
	for _, name := range []string{"fails", "fails-too"} {
		if st, _ := env.b.Triggers.Status(t.Context(), "default", name); st.Deliveries.DeadLettered != 2 {
			t.Errorf("trigger %s dead-lettered %d events, want 2: o-1 and the other's dead letter (3: it took its own back)", name, st.Deliveries.DeadLettered)
		}
	}
	if c := refuses.count(); c != 4 {
		t.Errorf("the refusing subscriber got %d deliveries, want 4", c)
	}
}

// TestOrderingSwitchCutShortSkipsNoEvent: a node that stopped between
// storing a trigger's new ordering and moving its segments for it (killed
// during the PUT) left positions made for the old ordering under the new
// one, and the reset's pause row. Started again, it moves them to the
// lowest before the trigger runs, and no event is skipped. Before, the events a segment had yet to
// deliver under the old ordering were skipped by the segments that own
// them under the new one.
func TestOrderingSwitchCutShortSkipsNoEvent(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSlowAndFast(t)
	doc := func(ordering string) string {
		return "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: switch\n  namespace: default\n" +
			"  annotations:\n    kafka.eventing.knative.dev/delivery.order: " + ordering + "\n" +
			"spec:\n  broker: default\n  subscriber:\n    uri: " + sub.URL + "\n  delivery:\n    retry: 1000\n    backoffPolicy: linear\n    backoffDelay: PT0.01S\n"
	}
	env.putTrigger("default", "switch", doc("ordered"))
	env.send(event("t", "slow", "correlationkey", "slow"))
	env.send(fastEvents(40)...)
	// The segment of "slow" retries it in place; the others go on.
	eventually(t, "the other segments to deliver their fast events", func() bool { return sub.fastSeen() >= 30 })

	// The switch, cut short: the new ordering stored, the segments not
	// moved, the node stopped.
	ts, err := parseTriggersIn([]byte(doc("unordered")), "default", "switch")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.b.Triggers.putRow(t.Context(), ts[0]); err != nil {
		t.Fatal(err)
	}
	// Its reset had begun: its pause row is left too, which a store one
	// process opens takes for an earlier run's at start.
	if err := env.b.state.put(t.Context(), replayKey("default", "switch"), env.b.Triggers.newPauseRow("resequence")); err != nil {
		t.Fatal(err)
	}
	env.restart()
	sub.slowOK.Store(true)
	eventually(t, "the event the stuck segment held to be delivered after the restart", sub.slowDelivered.Load)
	eventually(t, "every fast event to be delivered", func() bool { return sub.fastSeen() == 40 })
}

// slowAndFast is a subscriber that refuses the event "slow" (503) until
// slowOK is set, and takes every other, noting it.
type slowAndFast struct {
	*subscriber
	slowOK, slowDelivered atomic.Bool
	mu                    sync.Mutex
	fast                  map[string]bool
}

func newSlowAndFast(t *testing.T) *slowAndFast {
	s := &slowAndFast{fast: map[string]bool{}}
	s.subscriber = newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		if e.ID == "slow" {
			if !s.slowOK.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			s.slowDelivered.Store(true)
		} else {
			s.mu.Lock()
			s.fast[e.ID] = true
			s.mu.Unlock()
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return s
}

// fastSeen counts the other events taken.
func (s *slowAndFast) fastSeen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.fast)
}

// fastEvents are n events "fast-<i>", each of a correlation key of its
// own, so that they spread over a trigger's segments.
func fastEvents(n int) []cloudevents.Event {
	out := make([]cloudevents.Event, n)
	for i := range out {
		id := "fast-" + strconv.Itoa(i)
		out[i] = event("t", id, "correlationkey", id)
	}
	return out
}

// TestTriggerStatusShowsItsLag: a trigger held up by a subscriber that does
// not answer shows how far behind the log's head it is, in its status and
// through the REST API, and no lag once it has caught up.
func TestTriggerStatusShowsItsLag(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	release := make(chan struct{})
	sub := newSubscriber(t, func(n int, _ *cloudevents.Event, w http.ResponseWriter) {
		if n == 0 {
			<-release
		}
		w.WriteHeader(http.StatusAccepted)
	})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	env.putTrigger("default", "slow", orderedTrigger(triggerYAML("slow", "order.placed", sub.URL, "")))
	env.send(event("order.placed", "l1"))
	sub.wait(t, 1)
	env.send(event("order.placed", "l2"), event("order.placed", "l3"), event("order.placed", "l4"))
	eventually(t, "the status to show the trigger behind the head", func() bool {
		st, err := env.b.Triggers.Status(t.Context(), "default", "slow")
		return err == nil && st.Lag >= 3
	})
	code, body := env.do("GET", "/v1/triggers/default/slow", "", nil)
	var doc struct {
		Status TriggerStatus `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &doc); code != http.StatusOK || err != nil || doc.Status.Lag < 3 {
		t.Fatalf("GET of the trigger: %d %s (%v), want a lag of at least 3", code, body, err)
	}
	close(release)
	sub.wait(t, 4)
	eventually(t, "the lag to be gone", func() bool {
		st, err := env.b.Triggers.Status(t.Context(), "default", "slow")
		return err == nil && st.Lag == 0 && st.Deliveries.Delivered == 4
	})
}

// TestTriggersTimeoutBoundsEachAttempt: a trigger's delivery.timeout bounds
// each attempt, however long the broker's default (5 minutes here), of an
// unordered trigger (retried from its lane) and of an ordered one
// (retried in place) alike.
func TestTriggersTimeoutBoundsEachAttempt(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(map[bool]string{false: "unordered", true: "ordered"}[ordered], func(t *testing.T) {
			env := newEnv(t, WithJobWorker(false, 1), WithDeliveryTimeout(5*time.Minute))
			hang := make(chan struct{})
			sub := newSubscriber(t, func(int, *cloudevents.Event, http.ResponseWriter) { <-hang })
			t.Cleanup(func() { close(hang) })
			sink := newSubscriber(t, nil)
			y := triggerYAML("bounded", "t", sub.URL,
				"  delivery:\n    retry: 1\n    backoffDelay: PT0.05S\n    timeout: PT0.3S\n    deadLetterSink:\n      uri: "+sink.URL+"\n")
			if ordered {
				y = orderedTrigger(y)
			}
			env.putTrigger("default", "bounded", y)
			env.send(event("t", "b-1"))
			got := sink.wait(t, 1)
			if got[0].event.ID != "b-1" {
				t.Fatalf("the dead-letter sink got %s, want b-1", got[0].event.ID)
			}
			attempts := sub.wait(t, 2)
			if n := len(attempts); n != 2 {
				t.Fatalf("%d attempts, want 2 (the first and one retry)", n)
			}
			// Each attempt ended at its timeout: the retry came 0.3 s and
			// its backoff after the first, not the broker's 5 minutes.
			if gap := attempts[1].at.Sub(attempts[0].at); gap < 300*time.Millisecond || gap > 10*time.Second {
				t.Errorf("the retry came %v after the first attempt, want about 0.35 s", gap)
			}
			if code, _ := got[0].event.Extension(ExtErrorCode); code.Text != "500" {
				t.Errorf("knativeerrorcode %q, want 500 (no answer came)", code.Text)
			}
		})
	}
}
