package broker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"eddy/cloudevents"
)

// openSSEFrom opens a stream with a Last-Event-ID header (none when id is
// "") and returns its client once the subscription is live. The stream
// ends after 30 s, so that a test waiting for events that never come
// fails instead of hanging.
func openSSEFrom(t *testing.T, env *testEnv, query, id string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", env.srv.URL+"/v1/events/stream?"+query, nil)
	if id != "" {
		req.Header.Set("Last-Event-ID", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream from %q: %s", id, resp.Status)
	}
	c := &sseClient{resp: resp, r: bufio.NewReader(resp.Body)}
	if line, err := c.r.ReadString('\n'); err != nil || line != ":ok\n" {
		t.Fatalf("stream opened with %q %v", line, err)
	}
	return c
}

// pushedEvent is an event a client got, with its id.
type pushedEvent struct {
	id  string
	evt cloudevents.Event
}

// readSSE reads n events from the stream.
func readSSE(t *testing.T, c *sseClient, n int) []pushedEvent {
	t.Helper()
	var out []pushedEvent
	for range n {
		id, typ, data := c.next(t)
		if typ != "" {
			t.Fatalf("got an %q event: %s", typ, data)
		}
		e, err := cloudevents.DecodeJSON([]byte(data))
		if err != nil {
			t.Fatalf("SSE data %q: %v", data, err)
		}
		out = append(out, pushedEvent{id, e})
	}
	return out
}

// batch returns n events of type typ with ids prefix0..prefix(n-1), each
// with its own correlation key, so that they spread over the partitions.
func batch(typ, prefix string, n int) []cloudevents.Event {
	var evs []cloudevents.Event
	for i := range n {
		evs = append(evs, event(typ, prefix+strconv.Itoa(i), "correlationkey", prefix+strconv.Itoa(i)))
	}
	return evs
}

// checkResumed fails unless got holds each of want's ids exactly once, and
// the events of each partition in log order.
func checkResumed(t *testing.T, got []pushedEvent, want []string) {
	t.Helper()
	seen := map[string]int{}
	last := map[string]uint64{}
	for _, g := range got {
		seen[g.evt.ID]++
		p, rest, _ := strings.Cut(g.id, "-")
		posText, _, _ := strings.Cut(rest, ".")
		pos, err := strconv.ParseUint(posText, 10, 64)
		if err != nil {
			t.Fatalf("id %q does not start with the event's partition and position", g.id)
		}
		if pos <= last[p] {
			t.Errorf("event %s at %s-%d came after position %d of its partition", g.evt.ID, p, pos, last[p])
		}
		last[p] = pos
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("event %s received %d times, want once", id, seen[id])
		}
	}
	if len(got) != len(want) {
		t.Errorf("received %d events, want %d", len(got), len(want))
	}
}

func ids(evs []cloudevents.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

// A client that reconnects with the id of the last event it got receives
// what was published while it was away, in order per partition, nothing
// twice, then the live events; from the header or the query parameter,
// with the window holding those events or not (read from the store).
func TestServerSentEventsResumeFromLastEventID(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window int // events the node keeps in memory per partition
		query  bool
	}{
		{"header", defaultWindowEvents, false},
		{"query parameter", defaultWindowEvents, true},
		{"from the store", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, WithJobWorker(false, 1))
			env.b.hub.log.windowEvents = tc.window
			// Another subscriber keeps the node's log reader, and its
			// window, alive while the client is away (as triggers do).
			anchor, err := env.b.hub.subscribe(t.Context(), func(*cloudevents.Event) bool { return false }, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			defer env.b.hub.unsubscribe(anchor)
			filter := "type=order.placed"
			s := openSSEFrom(t, env, filter, "")
			first := batch("order.placed", "a", 6)
			env.send(first...)
			env.send(batch("order.paid", "skip", 4)...) // filtered out
			got := readSSE(t, s, len(first))
			checkResumed(t, got, ids(first))
			s.resp.Body.Close()

			// Published while the client is away.
			away := batch("order.placed", "b", 12)
			env.send(away[:5]...)
			env.send(batch("order.paid", "skip2-", 3)...)
			env.send(away[5:]...)

			last := got[len(got)-1].id
			var r *sseClient
			if tc.query {
				r = openSSEFrom(t, env, filter+"&"+lastEventIDParam+"="+url.QueryEscape(last), "")
			} else {
				r = openSSEFrom(t, env, filter, last)
			}
			live := batch("order.placed", "c", 3)
			env.send(live...)
			checkResumed(t, readSSE(t, r, len(away)+len(live)), append(ids(away), ids(live)...))
		})
	}
}

// Every id a client may resume from (each event's) gives exactly the
// events after that one, across partitions.
func TestEveryEventIDResumesAfterItsEvent(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	s := openSSEFrom(t, env, "", "")
	all := batch("t", "e", 10)
	env.send(all...)
	got := readSSE(t, s, len(all))
	for i, g := range got {
		r := openSSEFrom(t, env, "", g.id)
		marker := event("t", "marker-"+strconv.Itoa(i))
		env.send(marker)
		var want []string
		for _, rest := range got[i+1:] {
			want = append(want, rest.evt.ID)
		}
		resumed := readSSE(t, r, len(want)+1)
		checkResumed(t, resumed, append(want, marker.ID))
		r.resp.Body.Close()
		// The markers of earlier rounds are on the log too: take them into
		// what later resumes must see.
		got = append(got, resumed[len(resumed)-1])
	}
}

func TestMalformedLastEventIDIs400(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1)) // two partitions
	for _, tc := range []struct {
		id, says string
	}{
		{"abc", "not <partition>-<position>"},
		{"0-5", "does not name partition 1"},
		{"0-5.1-x", "not <partition>-<position>"},
		{"0-5.0-6", "partition 0 is named twice"},
		{"0-5.2-1", "partition 2"},
		{"0--5.1-1", "not <partition>-<position>"},
		{"0-5.1-99999999", "not from this log"},
		{strings.Repeat("0-1.", 10000), "longer"},
	} {
		for _, path := range []string{"/v1/events/stream", "/v1/events/ws"} {
			var handshake []string
			if path == "/v1/events/ws" {
				handshake = wsHandshake
			}
			code, body := env.do("GET", path+"?"+lastEventIDParam+"="+url.QueryEscape(tc.id), "", nil, handshake...)
			if code != http.StatusBadRequest || !strings.Contains(body, "query parameter "+lastEventIDParam) || !strings.Contains(body, tc.says) ||
				!strings.Contains(body, tc.id[:min(len(tc.id), 20)]) {
				t.Errorf("%s with id %.20q: %d %q, want 400 naming the query parameter and the id, and saying %q", path, tc.id, code, body, tc.says)
			}
		}
		code, body := env.do("GET", "/v1/events/stream", "", nil, "Last-Event-ID", tc.id)
		if code != http.StatusBadRequest || !strings.Contains(body, "header Last-Event-ID") || !strings.Contains(body, tc.says) {
			t.Errorf("header %.20q: %d %q, want 400 naming the header and saying %q", tc.id, code, body, tc.says)
		}
	}
	code, body := env.do("GET", "/v1/events/stream?lastEventId=0-1.1-0&lastEventId=0-1.1-0", "", nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "2 times") {
		t.Errorf("lastEventId twice: %d %q", code, body)
	}
}

// A WebSocket client resumes with the lastEventId query parameter, from
// the eddyeventid of the last message it got.
func TestWebSocketResumesFromLastEventID(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := "ws" + strings.TrimPrefix(env.srv.URL, "http") + "/v1/events/ws?type=step"
	dial := func(query string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, base+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the subscription", func() bool {
			env.b.hub.mu.Lock()
			defer env.b.hub.mu.Unlock()
			return len(env.b.hub.subs) == 1
		})
		return c
	}
	read := func(c *websocket.Conn, n int) []pushedEvent {
		var out []pushedEvent
		for range n {
			_, msg, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			e, err := cloudevents.DecodeJSON(msg)
			if err != nil {
				t.Fatalf("message %s: %v", msg, err)
			}
			id, ok := e.Extension(EventIDExtension)
			if !ok {
				t.Fatalf("message %s has no %s", msg, EventIDExtension)
			}
			out = append(out, pushedEvent{id.Text, e})
		}
		return out
	}
	c := dial("")
	first := batch("step", "a", 5)
	env.send(first...)
	got := read(c, len(first))
	checkResumed(t, got, ids(first))
	c.Close(websocket.StatusNormalClosure, "")
	eventually(t, "the subscription to end", func() bool {
		env.b.hub.mu.Lock()
		defer env.b.hub.mu.Unlock()
		return len(env.b.hub.subs) == 0
	})

	away := batch("step", "b", 8)
	env.send(away...)
	c = dial("&" + lastEventIDParam + "=" + url.QueryEscape(got[len(got)-1].id))
	defer c.CloseNow()
	live := batch("step", "c", 2)
	env.send(live...)
	checkResumed(t, read(c, len(away)+len(live)), append(ids(away), ids(live)...))
}

func TestEventIDRoundTrip(t *testing.T) {
	for _, after := range [][]uint64{{0}, {7}, {3, 0}, {0, 9, 1 << 40}, {5, 5, 5, 5}} {
		for p := range after {
			id := string(appendEventID(nil, p, after))
			if !strings.HasPrefix(id, strconv.Itoa(p)+"-"+strconv.FormatUint(after[p], 10)) {
				t.Errorf("id %q does not start with the event's partition %d and position %d", id, p, after[p])
			}
			back, err := parseEventID(id, len(after))
			if err != nil || !slices.Equal(back, after) {
				t.Errorf("id %q reads back as %v, %v; want %v", id, back, err, after)
			}
		}
	}
}

// FuzzParseEventID: any text is read or refused without a panic, and what
// is read is a position for every partition that prints back to an id
// that reads the same.
func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"0-1.1-2", "1-57.0-100", "", "0-", "-1", "0-1.0-1", "2-3.1-0.0-9"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, id string, partitions int) {
		if partitions < 1 || partitions > 64 {
			return
		}
		pos, err := parseEventID(id, partitions)
		if err != nil {
			return
		}
		if len(pos) != partitions {
			t.Fatalf("%q read as %d positions for %d partitions", id, len(pos), partitions)
		}
		again, err := parseEventID(string(appendEventID(nil, 0, pos)), partitions)
		if err != nil || !slices.Equal(again, pos) {
			t.Fatalf("%q: %v prints back to an id that reads %v, %v", id, pos, again, err)
		}
	})
}

// A WebSocket message is the event with its eddyeventid, which replaces
// one the event may carry itself.
func TestWebSocketMessageCarriesTheEventID(t *testing.T) {
	plain := event("t", "1")
	own := event("t", "2", EventIDExtension, "forged")
	for _, e := range []cloudevents.Event{plain, own} {
		msg := appendWebSocketMessage(nil, pushed{event: &e, json: cloudevents.AppendJSON(nil, &e), id: "1-57.0-100"})
		got, err := cloudevents.DecodeJSON(msg)
		if err != nil {
			t.Fatalf("event %s: message %s: %v", e.ID, msg, err)
		}
		if v, _ := got.Extension(EventIDExtension); v.Text != "1-57.0-100" || got.ID != e.ID || string(got.Data) != string(e.Data) {
			t.Errorf("event %s: message %s", e.ID, msg)
		}
	}
}

// TestServerSentEventsTellPositionsWithoutAMatch: a stream whose filter has
// matched nothing yet still tells its client where it stands (an id with no
// data, at the start and with keep-alives), so that a client that
// reconnects resumes from there and misses no matching event published in
// between.
func TestServerSentEventsTellPositionsWithoutAMatch(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithPushBuffer(16, 20*time.Millisecond))
	c := openSSEFrom(t, env, "type=wanted", "")
	first, _, datas, ok := c.block(t)
	if !ok || first == "" || datas != nil {
		t.Fatalf("the stream opened without an id of its own (id %q, data %q)", first, datas)
	}
	env.send(event("other", "o1"), event("other", "o2"), event("other", "o3"))
	// The events may be written in more than one commit, and the stream
	// may tell positions between them: read on until they cover all 3.
	reached := first
	for covered(t, env, reached) < 3 {
		id, _, datas, _ := c.block(t)
		if datas != nil {
			t.Fatalf("an event the filter refuses was pushed: %q", datas)
		}
		if id != "" {
			reached = id
		}
	}
	c.resp.Body.Close()
	env.send(event("wanted", "w1"))
	got := readSSE(t, openSSEFrom(t, env, "type=wanted", reached), 1)
	if got[0].evt.ID != "w1" {
		t.Fatalf("resumed from %q and got %s, want w1", reached, got[0].evt.ID)
	}
}

// TestWebSocketTellsPositionsWithoutAMatch: a client that offers the
// positions subprotocol is told the positions its stream reached while
// its filter matched nothing, and resumes from them; one that does not
// offer it gets events only.
func TestWebSocketTellsPositionsWithoutAMatch(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithPushBuffer(16, 20*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := "ws" + strings.TrimPrefix(env.srv.URL, "http") + "/v1/events/ws?type=wanted"
	dial := func(query string, protocols ...string) *websocket.Conn {
		t.Helper()
		c, _, err := websocket.Dial(ctx, base+query, &websocket.DialOptions{Subprotocols: protocols})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Each connection is read all along, as a browser does: the server's
	// pings, every 20 ms here, go unanswered by a connection nobody reads,
	// and the server closes it.
	type message struct {
		id, typ string // typ is empty for a message that is no event
		err     error
	}
	reader := func(c *websocket.Conn) <-chan message {
		ch := make(chan message, 64)
		go func() {
			defer close(ch)
			for {
				_, msg, err := c.Read(ctx)
				if err != nil {
					return
				}
				var m map[string]any
				if err := json.Unmarshal(msg, &m); err != nil {
					select {
					case ch <- message{err: fmt.Errorf("message %s: %v", msg, err)}:
					case <-ctx.Done():
					}
					return
				}
				var got message
				got.id, _ = m[EventIDExtension].(string)
				if got.id == "" {
					got.err = fmt.Errorf("message %s carries no %s", msg, EventIDExtension)
				}
				if _, isEvent := m["specversion"]; isEvent {
					got.typ, _ = m["type"].(string)
				}
				select {
				case ch <- got:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	}
	read := func(ch <-chan message) (id, typ string) {
		t.Helper()
		m, ok := <-ch
		if !ok {
			t.Fatal("the connection ended")
		}
		if m.err != nil {
			t.Fatal(m.err)
		}
		return m.id, m.typ
	}
	c := dial("", PositionsSubprotocol)
	if c.Subprotocol() != PositionsSubprotocol {
		t.Fatalf("the server chose subprotocol %q", c.Subprotocol())
	}
	cm := reader(c)
	first, typ := read(cm)
	if typ != "" {
		t.Fatalf("the stream opened with an event of type %s, want its positions", typ)
	}
	plain := dial("")
	defer plain.CloseNow()
	pm := reader(plain)
	env.send(event("other", "o1"), event("other", "o2"), event("other", "o3"))
	// The events may be written in more than one commit, and the stream
	// may tell positions between them: read on until they cover all 3.
	reached := first
	for covered(t, env, reached) < 3 {
		id, typ := read(cm)
		if typ != "" {
			t.Fatalf("an event the filter refuses was pushed: %s", typ)
		}
		reached = id
	}
	c.Close(websocket.StatusNormalClosure, "")
	env.send(event("wanted", "w1"))
	if _, typ := read(pm); typ != "wanted" {
		t.Fatalf("a client without the subprotocol got %q first, want the event", typ)
	}
	again := dial("&"+lastEventIDParam+"="+url.QueryEscape(reached), PositionsSubprotocol)
	defer again.CloseNow()
	am := reader(again)
	for {
		if _, typ := read(am); typ != "" {
			if typ != "wanted" {
				t.Fatalf("resumed and got %s", typ)
			}
			break
		}
	}
}

// TestReachedPositionsNeverGoBehindAnEventSent: the positions a stream
// tells between events are not those of a round older than the last event
// it sent, which would move the client's id back behind that event, so
// that a resume sent it again.
func TestReachedPositionsNeverGoBehindAnEventSent(t *testing.T) {
	s := &subscription{ch: make(chan pushed, 4), after: []uint64{3, 5}}
	s.publishReached()
	before := s.reachedID(0)
	if before == "" {
		t.Fatal("a subscription with nothing pending tells no positions")
	}
	// Round 1 puts an event on the channel, before it publishes.
	s.after[0] = 4
	s.ch <- pushed{id: string(appendEventID(nil, 0, s.after)), round: 1}
	if id := s.reachedID(0); id != "" {
		t.Fatalf("positions %q told with an event pending", id)
	}
	ev := <-s.ch
	if id := s.reachedID(ev.round); id != "" {
		t.Fatalf("positions %q of round 0 told after an event of round 1 was sent (its id %q)", id, ev.id)
	}
	s.published = 1
	s.publishReached()
	if id := s.reachedID(ev.round); id == "" || id == before {
		t.Fatalf("after round 1 is published: %q, want the positions that cover the event", id)
	}
}

// covered is how many events of the log the positions of id cover.
func covered(t *testing.T, env *testEnv, id string) uint64 {
	t.Helper()
	if !strings.HasPrefix(id, env.b.hub.idPrefix) {
		t.Fatalf("the positions told, %q, do not begin with the log's identity %q", id, env.b.hub.idPrefix)
	}
	from, err := parseEventID(strings.TrimPrefix(id, env.b.hub.idPrefix), env.store.Partitions())
	if err != nil {
		t.Fatalf("the positions told, %q: %v", id, err)
	}
	var sum uint64
	for _, pos := range from {
		sum += pos
	}
	return sum
}

// TestIDOfALogStartedAfreshIsRefused: a client that resumes with an id of
// a log since started afresh (a new data directory), whose positions the
// new log has reached too, is refused with 400 saying why, rather than
// resumed from those positions, which name other events. An id of this
// log, with or without the identity (as ids were before it), resumes.
func TestIDOfALogStartedAfreshIsRefused(t *testing.T) {
	old := newEnv(t, WithJobWorker(false, 1))
	old.send(event("t", "o1"), event("t", "o2"))
	c := openSSEFrom(t, old, "", "")
	oldID, _, _, _ := c.block(t)
	fresh := newEnv(t, WithJobWorker(false, 1))
	fresh.send(event("t", "f1"), event("t", "f2"), event("t", "f3"), event("t", "f4"))
	if fresh.b.hub.idPrefix == old.b.hub.idPrefix || !strings.HasPrefix(oldID, old.b.hub.idPrefix) {
		t.Fatalf("identities %q and %q, the old id %q: want two identities, the id beginning with its log's", old.b.hub.idPrefix, fresh.b.hub.idPrefix, oldID)
	}
	code, body := fresh.do("GET", "/v1/events/stream?"+lastEventIDParam+"="+url.QueryEscape(oldID), "", nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "from another log") {
		t.Fatalf("resuming the fresh log with the old log's id %q: %d %q, want 400 saying it is from another log", oldID, code, body)
	}
	positions := strings.TrimPrefix(oldID, old.b.hub.idPrefix)
	for _, id := range []string{fresh.b.hub.idPrefix + positions, positions} {
		resp := fresh.request("GET", "/v1/events/stream", "", nil, "Last-Event-ID", id)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("resuming with %q: %d, want the stream", id, resp.StatusCode)
		}
	}
}

// TestStreamOpensWithWhereItStarts: a stream resumed from an id with
// events queued for it already tells, as it opens and before any event,
// the positions it starts from, so that a client that keeps the first id
// it sees (to replay its stream after a reload) misses nothing of them.
func TestStreamOpensWithWhereItStarts(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1)) // two partitions
	env.send(event("t", "q1"), event("t", "q2"), event("t", "q3"))
	from := env.b.hub.idPrefix + "0-0.1-0"
	c := openSSEFrom(t, env, "", from)
	id, _, datas, _ := c.block(t)
	if id != from || datas != nil {
		t.Fatalf("the stream opened with id %q and data %q, want id %q and no event", id, datas, from)
	}
	for n := 0; n < 3; n++ {
		if _, _, datas, _ := c.block(t); datas == nil {
			n-- // a keep-alive
		}
	}
}
