package broker

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
)

// listLetters GETs the trigger's dead letters with query q; it fails the
// test unless the answer is a 200.
func listLetters(t *testing.T, env *testEnv, name, q string) DeadLetterList {
	t.Helper()
	code, body := env.do("GET", "/v1/triggers/default/"+name+"/deadletters"+q, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET …/%s/deadletters%s: %d %s", name, q, code, body)
	}
	var list DeadLetterList
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("GET …/deadletters: %v in %s", err, body)
	}
	return list
}

// letterEventID is the id of the CloudEvent a listed letter holds.
func letterEventID(t *testing.T, l DeadLetter) string {
	t.Helper()
	ev, err := cloudevents.DecodeJSON(l.Event)
	if err != nil {
		t.Fatalf("letter %s: its event %s: %v", l.ID, l.Event, err)
	}
	return ev.ID
}

// An ordered trigger's event that its subscriber will never take (a
// poison message) holds its sequence's later events parked: a retry only
// sends it again. The operator lists the letters, sees which one failed
// and why, evicts it, and a retry delivers the rest.
func TestPoisonEventListedAndEvicted(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub, _ := refusingSubscriber(t, func(e *cloudevents.Event) bool { return strings.HasPrefix(e.ID, "poison") })
	env.putTrigger("default", "orders", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: orders\n  namespace: default\n"+
		"  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\nspec:\n  broker: default\n  subscriber:\n    uri: "+sub.URL+"\n")
	for _, id := range []string{"a-1", "poison", "a-2", "a-3"} {
		env.send(event("order.step", id, "correlationkey", "order-7"))
	}
	eventually(t, "three parked events", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "orders")
		return st.DeadLetters == 3
	})

	list := listLetters(t, env, "orders", "")
	if len(list.Letters) != 3 || list.More {
		t.Fatalf("listed %d letters (more %v), want 3: %+v", len(list.Letters), list.More, list)
	}
	for i, want := range []string{"poison", "a-2", "a-3"} {
		l := list.Letters[i]
		if got := letterEventID(t, l); got != want {
			t.Errorf("letter %d holds event %s, want %s (the sequence's order)", i, got, want)
		}
		if l.Sequence != list.Letters[0].Sequence || l.State != "parked" || l.Position == 0 || l.EnqueuedAt.IsZero() {
			t.Errorf("letter %d: %+v, want parked in the first letter's sequence, with its log position and time", i, l)
		}
	}
	if c := list.Letters[0].Cause; !strings.Contains(c, "400") {
		t.Errorf("the poison letter's cause %q does not say the subscriber's 400", c)
	}
	if c := list.Letters[1].Cause; c != "" {
		t.Errorf("a letter parked behind, never tried, has cause %q", c)
	}
	page := listLetters(t, env, "orders", "?limit=2")
	if len(page.Letters) != 2 || !page.More {
		t.Fatalf("limit=2: %d letters, more %v; want 2 and more", len(page.Letters), page.More)
	}
	next := listLetters(t, env, "orders", "?limit=2&after="+page.Letters[1].ID)
	if len(next.Letters) != 1 || next.More || letterEventID(t, next.Letters[0]) != "a-3" {
		t.Errorf("the page after the first: %+v; want a-3 alone, and no more", next)
	}

	poison := list.Letters[0].ID
	if code, body := env.do("DELETE", "/v1/triggers/default/orders/deadletters/"+poison, "", nil); code != http.StatusNoContent {
		t.Fatalf("evicting the poison letter: %d %s, want 204", code, body)
	}
	if code, body := env.do("DELETE", "/v1/triggers/default/orders/deadletters/"+poison, "", nil); code != http.StatusNotFound || !strings.Contains(body, "no such dead letter") {
		t.Errorf("evicting it again: %d %s, want 404 saying there is no such letter", code, body)
	}
	if code, body := env.do("POST", "/v1/triggers/default/orders/retry", "", nil); code != http.StatusOK || !strings.Contains(body, `"events":2`) {
		t.Fatalf("a retry after the eviction: %d %s, want 200 delivering the 2 events left", code, body)
	}
	var ids []string
	for _, r := range sub.wait(t, 4) {
		ids = append(ids, r.event.ID)
	}
	if got := strings.Join(ids, " "); got != "a-1 poison a-2 a-3" {
		t.Errorf("the subscriber got %s, want a-1 poison a-2 a-3 (the poison event once, the rest in order)", got)
	}
	if list := listLetters(t, env, "orders", ""); len(list.Letters) != 0 {
		t.Errorf("letters left after the retry: %+v", list.Letters)
	}
}

// A letter a retry holds (here a Process call of the test's, as another
// node's retry would) is not evicted under it: 409, and once the retry is
// done the eviction goes through.
func TestEvictionWaitsForARetryInHand(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub, _ := refusingSubscriber(t, func(*cloudevents.Event) bool { return true })
	env.putTrigger("default", "held", triggerYAML("held", "", sub.URL, ""))
	env.send(event("t", "h-1"))
	eventually(t, "the event to be parked", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "held")
		return st.DeadLetters == 1
	})
	id := listLetters(t, env, "held", "").Letters[0].ID

	release := holdParked(t, env, "default/held")
	if code, body := env.do("DELETE", "/v1/triggers/default/held/deadletters/"+id, "", nil); code != http.StatusConflict || !strings.Contains(body, "a retry is delivering") {
		t.Errorf("evicting a letter a retry holds: %d %s, want 409", code, body)
	}
	release()
	if code, body := env.do("DELETE", "/v1/triggers/default/held/deadletters/"+id, "", nil); code != http.StatusNoContent {
		t.Fatalf("evicting it once the retry let it go: %d %s", code, body)
	}
	if st, _ := env.b.Triggers.Status(t.Context(), "default", "held"); st.DeadLetters != 0 {
		t.Errorf("status counts %d dead letters after the eviction", st.DeadLetters)
	}
}

// An unordered trigger's delivery that waits out its back-off is listed as
// retrying, with when it is tried next; evicted, it is retried no more.
func TestRetryingLetterListedWithItsNextAttempt(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, func(_ int, _ *cloudevents.Event, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	env.putTrigger("default", "later", triggerYAML("later", "", sub.URL,
		"  delivery:\n    retry: 3\n    backoffPolicy: linear\n    backoffDelay: PT1H\n"))
	sent := time.Now()
	env.send(event("t", "l-1"))
	eventually(t, "the delivery to wait for its retry", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "later")
		return st.Retrying == 1
	})
	list := listLetters(t, env, "later", "")
	if len(list.Letters) != 1 {
		t.Fatalf("listed %+v, want the one letter", list.Letters)
	}
	l := list.Letters[0]
	if l.State != "retrying" || l.Attempts != 1 || l.NextAttemptAt == nil || l.NextAttemptAt.Before(sent.Add(59*time.Minute)) || !strings.Contains(l.Cause, "503") {
		t.Fatalf("letter %+v, want retrying after 1 attempt, next in an hour, cause the 503", l)
	}
	if code, body := env.do("DELETE", "/v1/triggers/default/later/deadletters/"+l.ID, "", nil); code != http.StatusNoContent {
		t.Fatalf("evicting a retrying letter: %d %s", code, body)
	}
	if st, _ := env.b.Triggers.Status(t.Context(), "default", "later"); st.Retrying != 0 || st.DeadLetters != 0 {
		t.Errorf("status after the eviction: retrying %d, dead letters %d; want none", st.Retrying, st.DeadLetters)
	}
}

func TestDeadLetterRequestsRefused(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, nil)
	env.putTrigger("default", "quiet", triggerYAML("quiet", "", sub.URL, ""))
	env.putTrigger("default", "router", triggerYAML("router", "order.placed", "http://zeebe-cloud-events-router:8080/", ""))
	for _, c := range []struct {
		method, path string
		code         int
		says         string
	}{
		{"GET", "/v1/triggers/default/nope/deadletters", http.StatusNotFound, "nope"},
		{"DELETE", "/v1/triggers/default/nope/deadletters/X", http.StatusNotFound, "nope"},
		{"DELETE", "/v1/triggers/default/quiet/deadletters/NOSUCHLETTER", http.StatusNotFound, "no such dead letter"},
		{"GET", "/v1/triggers/default/quiet/deadletters?limit=0", http.StatusBadRequest, "from 1 to 10000"},
		{"GET", "/v1/triggers/default/quiet/deadletters?limit=ten", http.StatusBadRequest, `ten`},
		{"GET", "/v1/triggers/default/quiet/deadletters?limit=1&limit=2", http.StatusBadRequest, "one count"},
		{"GET", "/v1/triggers/default/router/deadletters", http.StatusBadRequest, "parks no events"},
		{"GET", "/v1/triggers/default/quiet/deadletters?after=GONE", http.StatusNotFound, "list from the start"},
		{"GET", "/v1/triggers/default/quiet/deadletters?after=", http.StatusBadRequest, "the id of one letter"},
		{"POST", "/v1/triggers/default/quiet/deadletters", http.StatusMethodNotAllowed, "GET"},
	} {
		if code, body := env.do(c.method, c.path, "", nil); code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s %s: %d %s, want %d saying %q", c.method, c.path, code, body, c.code, c.says)
		}
	}
	if list := listLetters(t, env, "quiet", ""); len(list.Letters) != 0 || list.More || list.Letters == nil {
		t.Errorf("a trigger with no dead letters lists %+v, want an empty list", list)
	}
}

// A letter counts every request sent for its event, whichever the trigger's
// ordering (an ordered trigger retries in place, an unordered one through
// its retrier), and an operator's retry adds its own: an ordered trigger's
// letter said no attempts, and an unordered one's began again at 1. A
// letter parked for a reply the broker refused counts the request that
// brought it: it was listed with no attempts.
func TestLetterCountsEveryRequest(t *testing.T) {
	unavailable := func(_ int, _ *cloudevents.Event, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }
	for _, c := range []struct {
		name     string
		ordered  bool
		answer   func(int, *cloudevents.Event, http.ResponseWriter)
		requests int // sent before the event is parked: the retries' too
	}{
		{"retries spent, unordered", false, unavailable, 3},
		{"retries spent, ordered", true, unavailable, 3},
		{"reply refused, unordered", false, answerBrokenReply, 1},
		{"reply refused, ordered", true, answerBrokenReply, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, WithJobWorker(false, 1))
			sub := newSubscriber(t, c.answer)
			y := triggerYAML("spent", "", sub.URL, "  delivery:\n    retry: 2\n    backoffPolicy: linear\n    backoffDelay: PT0.05S\n")
			if c.ordered {
				y = orderedTrigger(y)
			}
			env.putTrigger("default", "spent", y)
			env.send(event("t", "s-1"))
			parkedAfter := func(requests int) {
				t.Helper()
				eventually(t, fmt.Sprintf("the letter parked after %d requests, counting them", requests), func() bool {
					list := listLetters(t, env, "spent", "")
					return sub.count() == requests && len(list.Letters) == 1 && list.Letters[0].State == "parked" && list.Letters[0].Attempts == requests
				})
			}
			parkedAfter(c.requests)
			env.do("POST", "/v1/triggers/default/spent/retry", "", nil) // fails again: its answer is another test's
			parkedAfter(2 * c.requests)
		})
	}
}

// A page of large events stops at maxLetterBytes (at least one letter),
// not at limit alone: a listing builds no answer of gigabytes; the next
// page goes on after its last letter.
func TestDeadLetterPageBoundedInBytes(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithMaxBodyBytes(2<<20))
	const n, size = 5, maxLetterBytes/3 + 2
	parkLarge(t, env, "big", n, size)
	var seen []string
	q := "?limit=100"
	for pages := 0; ; pages++ {
		list := listLetters(t, env, "big", q)
		if len(list.Letters) == 0 || len(list.Letters) > 3 {
			t.Fatalf("a page of %d letters of %d bytes each; want 1 to 3 within %d bytes", len(list.Letters), size, maxLetterBytes)
		}
		for _, l := range list.Letters {
			seen = append(seen, letterEventID(t, l))
		}
		if !list.More {
			break
		}
		q = "?limit=100&after=" + list.Letters[len(list.Letters)-1].ID
	}
	if got := strings.Join(seen, " "); got != "big-00 big-01 big-02 big-03 big-04" {
		t.Errorf("the pages listed %s; want every letter once, in order", got)
	}
}

// A retry's answer counts the events its subscriber took, not what left
// the queue meanwhile: letters of another sequence evicted during the
// retry were counted as retried.
func TestRetryCountsOnlyWhatItDelivered(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	var healed atomic.Bool
	hold, held := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sub := newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		switch {
		case !healed.Load() && (e.ID == "g-1" || e.ID == "h-1"):
			w.WriteHeader(http.StatusBadRequest)
			return
		case e.ID == "g-1":
			once.Do(func() { close(held) })
			<-hold
		}
		w.WriteHeader(http.StatusAccepted)
	})
	env.putTrigger("default", "orders", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: orders\n  namespace: default\n"+
		"  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\nspec:\n  broker: default\n  subscriber:\n    uri: "+sub.URL+"\n")
	env.send(event("step", "g-1", "partitionkey", "g"))
	eventually(t, "g-1 parked", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "orders")
		return st.DeadLetters == 1
	})
	env.send(event("step", "h-1", "partitionkey", "h"), event("step", "h-2", "partitionkey", "h"))
	eventually(t, "h-1 and h-2 parked", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "orders")
		return st.DeadLetters == 3
	})
	healed.Store(true)
	type answer struct {
		code int
		body string
	}
	retried := make(chan answer, 1)
	go func() {
		code, body := env.do("POST", "/v1/triggers/default/orders/retry", "", nil)
		retried <- answer{code, body}
	}()
	<-held
	for _, l := range listLetters(t, env, "orders", "").Letters {
		if id := letterEventID(t, l); id == "h-1" || id == "h-2" {
			if code, body := env.do("DELETE", "/v1/triggers/default/orders/deadletters/"+l.ID, "", nil); code != http.StatusNoContent {
				t.Fatalf("evicting %s during the retry: %d %s", id, code, body)
			}
		}
	}
	close(hold)
	if a := <-retried; a.code != http.StatusOK || !strings.Contains(a.body, `"events":1`) {
		t.Errorf("the retry answered %d %s; want 200 with the 1 event it delivered", a.code, a.body)
	}
}

// The pages of a listing hold every letter once, though a retry between
// two pages fails again and touches its sequence, which moves it behind
// the others in the order a retry takes them: the page after its letter
// skipped the sequences that moved ahead of it, and said there were no
// more.
func TestDeadLetterPagesSurviveARetryBetweenThem(t *testing.T) {
	for _, backend := range []struct {
		name   string
		newEnv func(testing.TB, ...Opt) *testEnv
	}{{"pebble", newEnv}, {"postgres", newEnvOnPostgres}} {
		t.Run(backend.name, func(t *testing.T) { testDeadLetterPagesSurviveARetry(t, backend.newEnv(t, WithJobWorker(false, 1))) })
	}
}

func testDeadLetterPagesSurviveARetry(t *testing.T, env *testEnv) {
	sub, _ := refusingSubscriber(t, func(*cloudevents.Event) bool { return true })
	env.putTrigger("default", "orders", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: orders\n  namespace: default\n"+
		"  annotations:\n    kafka.eventing.knative.dev/delivery.order: ordered\nspec:\n  broker: default\n  subscriber:\n    uri: "+sub.URL+"\n")
	for i, key := range []string{"g", "h", "k"} {
		env.send(event("step", key+"-1", "partitionkey", key))
		eventually(t, key+"-1 parked", func() bool {
			st, _ := env.b.Triggers.Status(t.Context(), "default", "orders")
			return st.DeadLetters == i+1
		})
	}
	first := listLetters(t, env, "orders", "?limit=1")
	if len(first.Letters) != 1 || !first.More {
		t.Fatalf("the first page: %+v, want one letter and more", first)
	}
	seen := []string{letterEventID(t, first.Letters[0])}
	// A retry takes the sequence touched longest ago, the first page's,
	// and fails again.
	if code, body := env.do("POST", "/v1/triggers/default/orders/retry", "", nil); code == http.StatusOK {
		t.Fatalf("a retry to a subscriber that refuses everything: %d %s", code, body)
	}
	q := "?limit=1&after=" + first.Letters[0].ID
	for pages := 0; pages < 10; pages++ {
		list := listLetters(t, env, "orders", q)
		for _, l := range list.Letters {
			seen = append(seen, letterEventID(t, l))
		}
		if !list.More {
			break
		}
		q = "?limit=1&after=" + list.Letters[len(list.Letters)-1].ID
	}
	slices.Sort(seen)
	if got := strings.Join(seen, " "); got != "g-1 h-1 k-1" {
		t.Errorf("the pages listed %s; want every letter once (g-1 h-1 k-1)", got)
	}
}

// The page after a letter reads the letters that follow it, not those of
// its sequence before it: paging through a long sequence of large events
// decoded every earlier letter again for each page.
func TestDeadLetterPageAfterReadsOnlyWhatFollows(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithMaxBodyBytes(2<<20))
	const n, size = 16, 1<<20 + 2
	parkLarge(t, env, "long", n, size)
	all := listLetters(t, env, "long", "?limit=100")
	for len(all.Letters) < n {
		page := listLetters(t, env, "long", "?limit=100&after="+all.Letters[len(all.Letters)-1].ID)
		all.Letters = append(all.Letters, page.Letters...)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	last, err := env.b.Triggers.DeadLetters(t.Context(), "default", "long", all.Letters[n-2].ID, 100)
	runtime.ReadMemStats(&after)
	if err != nil || len(last.Letters) != 1 || last.More || letterEventID(t, last.Letters[0]) != fmt.Sprintf("long-%02d", n-1) {
		t.Fatalf("the page after the letter before the last: %d letters, more %v, %v; want the last alone", len(last.Letters), last.More, err)
	}
	if read := after.TotalAlloc - before.TotalAlloc; read > 8*size {
		t.Errorf("the page of the last letter allocated %d MiB, want at most %d MiB (it reads one event of 1 MiB)", read>>20, 8*size>>20)
	}
}

// A retry answers apart the events it let go without the subscriber
// taking them: refused again and sent to the trigger's dead-letter sink
// (which had failed when the event was parked), or no longer taken by the
// trigger's filter, changed since. They were counted among the events
// delivered, as if the subscriber had taken them.
func TestRetryCountsWhatItLetGoApart(t *testing.T) {
	for _, c := range []struct {
		name string
		// change makes the parked event leave the queue on a retry
		// without reaching the subscriber.
		change func(env *testEnv, sinkUp *atomic.Bool, yaml func(filter string) string)
		says   string
	}{
		{"to the dead-letter sink", func(_ *testEnv, sinkUp *atomic.Bool, _ func(string) string) { sinkUp.Store(true) }, `"deadLettered":1`},
		{"out of the filter", func(env *testEnv, _ *atomic.Bool, yaml func(string) string) {
			env.putTrigger("default", "sunk", yaml("other"))
		}, `"skipped":1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t, WithJobWorker(false, 1))
			var sinkUp atomic.Bool
			sink := newSubscriber(t, func(_ int, _ *cloudevents.Event, w http.ResponseWriter) {
				if !sinkUp.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.WriteHeader(http.StatusAccepted)
			})
			sub := newSubscriber(t, func(_ int, _ *cloudevents.Event, w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) })
			yaml := func(filter string) string {
				return triggerYAML("sunk", filter, sub.URL, "  delivery:\n    deadLetterSink:\n      uri: "+sink.URL+"\n")
			}
			env.putTrigger("default", "sunk", yaml("t"))
			env.send(event("t", "s-1"))
			eventually(t, "the event parked, its sink down", func() bool {
				st, _ := env.b.Triggers.Status(t.Context(), "default", "sunk")
				return st.DeadLetters == 1
			})
			refused := sub.count()
			c.change(env, &sinkUp, yaml)
			code, body := env.do("POST", "/v1/triggers/default/sunk/retry", "", nil)
			if code != http.StatusOK || !strings.Contains(body, `"events":0`) || !strings.Contains(body, c.says) {
				t.Errorf("the retry answered %d %s; want 200 with no event delivered, and %s", code, body, c.says)
			}
			if st, _ := env.b.Triggers.Status(t.Context(), "default", "sunk"); st.DeadLetters != 0 {
				t.Errorf("%d dead letters left", st.DeadLetters)
			}
			if sub.count() > refused+1 {
				t.Errorf("the subscriber was sent %d requests, want at most one more than %d", sub.count(), refused)
			}
		})
	}
}
