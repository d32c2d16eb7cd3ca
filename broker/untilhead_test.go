package broker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"eddy/cloudevents"
)

// readWholeStream GETs an SSE stream that is to end at the log's head and
// returns its events and the id of its closing eddy.end event.
func readWholeStream(t *testing.T, env *testEnv, query, lastEventID string) (got []pushedEvent, endID string) {
	t.Helper()
	got, endID, why := readEndingStream(t, env, query, lastEventID)
	if why != atHeadReason {
		t.Fatalf("the stream ends saying %q, want %q", why, atHeadReason)
	}
	return got, endID
}

// readEndingStream GETs an SSE stream that is to end by itself and
// returns its events, and the id and data of its closing eddy.end event.
func readEndingStream(t *testing.T, env *testEnv, query, lastEventID string) (got []pushedEvent, endID, why string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", env.srv.URL+"/v1/events/stream?"+query, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("the stream did not end by itself: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream %q: %s %s", query, resp.Status, body)
	}
	blocks := strings.Split(strings.TrimSuffix(string(body), "\n\n"), "\n\n")
	for i, block := range blocks {
		var id, kind, data string
		for _, line := range strings.Split(block, "\n") {
			switch k, v, _ := strings.Cut(line, ": "); k {
			case "id":
				id = v
			case "event":
				kind = v
			case "data":
				data += v
			}
		}
		switch {
		case i == len(blocks)-1:
			if kind != sseEndEvent || id == "" {
				t.Fatalf("the stream ends with %q, want an %s event with the id reached", block, sseEndEvent)
			}
			endID, why = id, data
		case kind != "":
			t.Fatalf("an %s event before the end: %q", kind, block)
		case data != "":
			e, err := cloudevents.DecodeJSON([]byte(data))
			if err != nil {
				t.Fatalf("SSE data %q: %v", data, err)
			}
			got = append(got, pushedEvent{id, e})
		}
	}
	return got, endID, why
}

// maxEvents reads the log's history in pages: each stream ends after the
// events asked for, its end's id the next page's start, and the pages hold
// every event once, in order within each partition.
func TestStreamInPages(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.b.hub.log.windowEvents = 2 // most events come from the store
	all := batch("step", "p", 9)
	env.send(all...)
	var read []pushedEvent
	from := startEventID
	for pages := 1; ; pages++ {
		got, end, why := readEndingStream(t, env, maxEventsParam+"=4&"+untilHeadParam+"=true&"+lastEventIDParam+"="+url.QueryEscape(from), "")
		read = append(read, got...)
		if len(got) == 4 {
			if why != maxEventsReason(4) || end != got[3].id {
				t.Fatalf("page %d ends with %q, id %q; want the count asked for, and its last event's id %q", pages, why, end, got[3].id)
			}
		} else if why != atHeadReason {
			t.Fatalf("page %d: %d events, ending with %q; want the head's end", pages, len(got), why)
		}
		if len(got) < 4 || pages == 5 {
			break
		}
		from = end
	}
	checkResumed(t, read, ids(all))

	// A page of one event says so in the singular (before: "the 1
	// events").
	if got, _, why := readEndingStream(t, env, maxEventsParam+"=1&"+lastEventIDParam+"="+startEventID, ""); len(got) != 1 || why != "the stream sent the 1 event asked for (maxEvents)" {
		t.Errorf("a page of maxEvents=1: %d event(s), ending with %q; want 1, said in the singular", len(got), why)
	}

	// Without untilHead, an EventSource that reconnects after the end
	// with its last id gets the next page, live: 204, which stops it, is
	// only for a read until the head with nothing new (as the README
	// says, which said it after maxEvents, as if for any end).
	_, end, _ := readEndingStream(t, env, maxEventsParam+"=9&"+lastEventIDParam+"="+startEventID, "")
	reqCtx, stop := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(reqCtx, "GET", env.srv.URL+"/v1/events/stream?"+maxEventsParam+"=9", nil)
	req.Header.Set("Last-Event-ID", end)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("an EventSource reconnecting after a page of maxEvents, nothing new: %s, want 200 and a live stream", resp.Status)
	}

	// Over a WebSocket: the events asked for, the positions, a close.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(env.srv.URL, "http")+"/v1/events/ws?"+maxEventsParam+"=2&"+lastEventIDParam+"="+startEventID, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var msgs []string
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure || !strings.Contains(err.Error(), maxEventsReason(2)) {
				t.Fatalf("the WebSocket ended with %v, want a normal close saying why", err)
			}
			break
		}
		msgs = append(msgs, string(msg))
	}
	if len(msgs) != 3 || !strings.HasPrefix(msgs[2], `{"`+EventIDExtension+`":`) {
		t.Fatalf("the WebSocket sent %q; want 2 events, then the positions", msgs)
	}
}

// A stream from the log's start that ends at its head gives every matching
// event the log held as it opened, each once, and ends with an id from
// which a live stream goes on with nothing missed and nothing twice: what
// a service rebuilding its state from the log reads. The window of two
// events per partition makes the older events come from the store.
func TestStreamFromTheStartToTheHead(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.b.hub.log.windowEvents = 2
	placed := batch("order.placed", "a", 9)
	env.send(placed[:4]...)
	env.send(batch("order.paid", "skip", 5)...)
	env.send(placed[4:]...)

	got, end := readWholeStream(t, env, "type=order.placed&"+untilHeadParam+"=true", startEventID)
	checkResumed(t, got, ids(placed))

	// From the same start, through the query parameter in any case, with
	// no filter.
	all, _ := readWholeStream(t, env, lastEventIDParam+"=START&"+untilHeadParam+"=true", "")
	if len(all) != 14 {
		t.Errorf("every event to the head: got %d, want 14", len(all))
	}

	live := openSSEFrom(t, env, "type=order.placed", end)
	later := batch("order.placed", "b", 3)
	env.send(later...)
	checkResumed(t, readSSE(t, live, len(later)), ids(later))

	// A log with nothing matching: the stream ends at once, with an id.
	if got, end := readWholeStream(t, env, "type=nothing.here&"+untilHeadParam+"=true", startEventID); len(got) != 0 || end == "" {
		t.Errorf("nothing matching: %d events, end id %q; want none and an id", len(got), end)
	}
}

// sinceTime starts a stream at the events logged at or after a time, on
// every partition; with untilHead it reads what the log took since then.
func TestStreamSinceTime(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.b.hub.log.windowEvents = 2 // most events come from the store
	before := batch("step", "before", 6)
	env.send(before...)
	time.Sleep(5 * time.Millisecond) // the log's times are milliseconds
	since := time.Now()
	time.Sleep(5 * time.Millisecond)
	after := batch("step", "after", 7)
	env.send(after...)

	query := func(t time.Time) string {
		return sinceTimeParam + "=" + url.QueryEscape(t.Format(time.RFC3339Nano)) + "&" + untilHeadParam + "=true"
	}
	got, end := readWholeStream(t, env, query(since), "")
	checkResumed(t, got, ids(after))
	if all, _ := readWholeStream(t, env, query(since.Add(-time.Hour)), ""); len(all) != len(before)+len(after) {
		t.Errorf("since an hour before: %d events, want all %d", len(all), len(before)+len(after))
	}
	if none, _ := readWholeStream(t, env, query(time.Now().Add(time.Hour)), ""); len(none) != 0 {
		t.Errorf("since an hour from now: %d events, want none", len(none))
	}
	// An offset of another zone is the same instant.
	inZone, _ := readWholeStream(t, env, query(since.In(time.FixedZone("", -5*3600))), "")
	checkResumed(t, inZone, ids(after))

	// A reconnecting EventSource sends its last id and keeps its URL's
	// sinceTime: the id wins, so nothing comes twice; with nothing new,
	// the answer is 204, which stops it for good.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", env.srv.URL+"/v1/events/stream?"+query(since.Add(-time.Hour)), nil)
	req.Header.Set("Last-Event-ID", end)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("an EventSource reconnecting after the end, nothing new: %s, want 204", resp.Status)
	}
	// Something new since: it is read, then the stream ends again.
	later := batch("step", "later", 2)
	env.send(later...)
	got, _ = readWholeStream(t, env, query(since.Add(-time.Hour)), end)
	checkResumed(t, got, ids(later))
}

// Over a WebSocket, a stream that ends at the head sends what it holds,
// then the positions reached (also to a client that did not offer
// eddy.positions: it has no other point to resume from), and closes
// normally, saying why.
func TestWebSocketUntilHead(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	placed := batch("step", "a", 4)
	env.send(placed...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(env.srv.URL, "http") + "/v1/events/ws?type=step&" + untilHeadParam + "=true&" + lastEventIDParam + "=" + startEventID
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	var got []pushedEvent
	var end string
	for {
		_, msg, err := c.Read(ctx)
		var closed websocket.CloseError
		if errors.As(err, &closed) {
			if closed.Code != websocket.StatusNormalClosure || closed.Reason != atHeadReason {
				t.Fatalf("closed with %v %q, want a normal closure at the head", closed.Code, closed.Reason)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if end != "" {
			t.Fatalf("a message after the positions reached: %s", msg)
		}
		var positions map[string]string
		if json.Unmarshal(msg, &positions) == nil && len(positions) == 1 && positions[EventIDExtension] != "" {
			end = positions[EventIDExtension]
			continue
		}
		e, err := cloudevents.DecodeJSON(msg)
		if err != nil {
			t.Fatalf("message %s: %v", msg, err)
		}
		id, _ := e.Extension(EventIDExtension)
		got = append(got, pushedEvent{id.Text, e})
	}
	checkResumed(t, got, ids(placed))
	if end == "" {
		t.Fatal("the stream closed at the head without the positions reached")
	}
	live := openSSEFrom(t, env, "type=step", end)
	later := batch("step", "b", 2)
	env.send(later...)
	checkResumed(t, readSSE(t, live, len(later)), ids(later))
}

func TestUntilHeadParameterIsChecked(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	for _, tc := range []struct{ query, says string }{
		{untilHeadParam + "=soon", `give true or false`},
		{untilHeadParam + "=true&" + untilHeadParam + "=false", "given 2 times"},
		{"untilhead=true", "the parameter that ends a stream at the log's head is untilHead"},
		{lastEventIDParam + "=&" + untilHeadParam + "=true", "is empty: give an id to resume after, or start"},
		{sinceTimeParam + "=yesterday", "give an RFC 3339 time"},
		{sinceTimeParam + "=2026-11-24T10:00:00Z&" + sinceTimeParam + "=2026-11-24T11:00:00Z", "given 2 times"},
		{sinceTimeParam + "=2026-11-24T10:00:00Z&" + lastEventIDParam + "=start", "both say where the stream starts"},
		{"sincetime=2026-11-24T10:00:00Z", "the parameter that starts a stream at a time is sinceTime"},
		{maxEventsParam + "=0", "give a whole number of events from 1"},
		{maxEventsParam + "=many", "give a whole number of events from 1"},
		{"maxevents=3", "the parameter that ends a stream after a number of events is maxEvents"},
	} {
		resp, err := http.Get(env.srv.URL + "/v1/events/stream?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tc.says) {
			t.Errorf("%s: %s %q, want 400 saying %q", tc.query, resp.Status, body, tc.says)
		}
	}
}

// A subscriber whose stream is writing to a slow client is waited for, as
// long as the writes go on (backpressure: a slow reader holds back no other
// subscriber); one whose stream neither takes events nor writes is
// dropped, told why. Before, a client that read steadily but more slowly
// than its stream sent was dropped as if it had stopped.
func TestSlowClientIsWaitedFor(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithPushBuffer(2, time.Minute))
	sub, err := env.b.hub.subscribe(t.Context(), func(*cloudevents.Event) bool { return true }, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	sub.writing.Store(true) // its stream is in a write the client takes slowly
	env.send(event("a", "1"), event("a", "2"), event("a", "3"), event("a", "4"))
	select {
	case <-sub.gone:
		t.Fatalf("a subscriber whose stream is writing was dropped: %v", sub.reason)
	case <-time.After(3 * pushStall):
	}
	<-sub.ch // the write went through: the stream takes the next event
	sub.wrote.Store(time.Now().UnixNano())
	sub.writing.Store(false) // and now takes nothing more
	select {
	case <-sub.gone:
	case <-time.After(20 * time.Second):
		t.Fatal("a subscriber that neither takes events nor writes was not dropped")
	}
	if sub.reason == nil || !strings.Contains(sub.reason.Error(), "took none of the 2 events waiting for it") {
		t.Fatalf("reason %v", sub.reason)
	}
}

// A read until the head holds every event answered 202 before it opened,
// also while the node's log reader, kept busy by another subscriber (as
// triggers keep it), has not reached them yet: the head is the store's
// end. Before, it was how far the reader had got, and a read opened right
// after a 202 could end before that event.
func TestUntilHeadHoldsWhatWasAcknowledged(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	reader, err := env.b.hub.subscribe(t.Context(), func(*cloudevents.Event) bool { return false }, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer env.b.hub.unsubscribe(reader)
	for i := range 50 {
		env.send(event("x", strconv.Itoa(i)))
		if got, _ := readWholeStream(t, env, "type=x&"+untilHeadParam+"=true", startEventID); len(got) != i+1 {
			t.Fatalf("read %d, opened after event %d was answered 202, holds %d events", i+1, i, len(got))
		}
	}
}

// TestCounted: a count of one reads in the singular in messages.
func TestCounted(t *testing.T) {
	for n, want := range map[int]string{0: "0 events", 1: "1 event", 2: "2 events"} {
		if got := counted(n, "event"); got != want {
			t.Errorf("counted(%d): %q, want %q", n, got, want)
		}
	}
}
