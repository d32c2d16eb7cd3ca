package broker

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"eddy/cloudevents"
)

// sseClient reads a Server-Sent Events stream.
type sseClient struct {
	resp *http.Response
	r    *bufio.Reader
	// lastID is the last id the stream set, as a browser keeps it: with
	// an event or in a block of its own.
	lastID string
}

func openSSE(t *testing.T, env *testEnv, query string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", env.srv.URL+"/v1/events/stream?"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{resp: resp, r: bufio.NewReader(resp.Body)}
	// The stream opens with a comment once the subscription is live.
	if line, err := c.r.ReadString('\n'); err != nil || line != ":ok\n" {
		t.Fatalf("stream opened with %q %v", line, err)
	}
	return c
}

// next returns the next message's fields (comments skipped, and blocks
// that only set the id, which it keeps in lastID).
func (c *sseClient) next(t *testing.T) (id, event, data string) {
	t.Helper()
	for {
		id, event, datas, ok := c.block(t)
		if ok && id != "" {
			c.lastID = id
		}
		if ok && (event != "" || datas != nil) {
			return id, event, strings.Join(datas, "\n")
		}
	}
}

// block reads the stream up to the next blank line: ok is false when it
// held nothing but comments.
func (c *sseClient) block(t *testing.T) (id, event string, datas []string, ok bool) {
	t.Helper()
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return id, event, datas, ok
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		ok = true
		k, v, _ := strings.Cut(line, ": ")
		switch k {
		case "id":
			id = v
		case "event":
			event = v
		case "data":
			datas = append(datas, v)
		}
	}
}

func TestServerSentEventsPushFilteredEvents(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	s := openSSE(t, env, "type=order.placed&cesql="+url.QueryEscape("region = 'eu'"))
	env.send(event("order.placed", "us", "region", "us"), event("order.paid", "paid", "region", "eu"))
	multiline := event("order.placed", "eu-1", "region", "eu")
	multiline.Data = []byte("{\n  \"n\": 1\r\n}")
	env.send(multiline)
	id, _, data := s.next(t)
	e, err := cloudevents.DecodeJSON([]byte(data))
	if err != nil {
		t.Fatalf("SSE data %q: %v", data, err)
	}
	if e.ID != "eu-1" || string(e.Data) != "{\n  \"n\": 1\n}" {
		t.Fatalf("pushed %s with data %q, want eu-1 (the others do not match)", e.ID, e.Data)
	}
	if p, pos, ok := strings.Cut(id, "-"); !ok || p == "" || pos == "" {
		t.Fatalf("SSE id %q is not partition-position", id)
	}
}

func TestSlowStreamIsToldWhyItEnds(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithPushBuffer(2, time.Minute))
	sub, err := env.b.hub.subscribe(t.Context(), func(*cloudevents.Event) bool { return true }, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	env.send(event("a", "1"), event("a", "2"), event("a", "3"), event("a", "4"))
	select {
	case <-sub.gone:
	case <-time.After(20 * time.Second):
		t.Fatal("a subscriber that reads nothing was not dropped")
	}
	if sub.reason == nil || !strings.Contains(sub.reason.Error(), "took none") {
		t.Fatalf("reason %v", sub.reason)
	}
}

func TestWebSocketPushesFilteredEvents(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(env.srv.URL, "http") + "/v1/events/ws?type=payment.reminder&processinstancekey=42"
	c, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// The subscription is live once the handshake is done; publish after.
	eventually(t, "the subscription", func() bool {
		env.b.hub.mu.Lock()
		defer env.b.hub.mu.Unlock()
		return len(env.b.hub.subs) == 1
	})
	env.send(event("payment.reminder", "other", "processinstancekey", "7"), event("order.placed", "o"))
	env.send(event("payment.reminder", "mine", "processinstancekey", "42"))
	typ, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, err := cloudevents.DecodeJSON(msg)
	if typ != websocket.MessageText || err != nil || e.ID != "mine" {
		t.Fatalf("message %v %s %v, want event mine", typ, msg, err)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestPushFilterRefusesBadQueries(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	for q, says := range map[string]string{
		"Type=x":            "not a CloudEvents attribute name",
		"type=a&type=b":     "2 times",
		"cesql=type%20%3D":  "cesql",
		"sub_ject=x":        "sub_ject",
		"type=a;b":          "semicolon",
		"type=order%ZZpaid": "escape",
		"lasteventid=0-1":   "the parameter that resumes a stream is lastEventId",
		"data=x":            "no attribute to filter on",
		"cesql=a&cesql=b":   "give it one value",
	} {
		for _, path := range []string{"/v1/events/stream?", "/v1/events/ws?"} {
			code, body := env.do("GET", path+q, "", nil)
			if code != http.StatusBadRequest || !strings.Contains(body, says) {
				t.Errorf("%s%s: %d %q, want 400 saying %q", path, q, code, body, says)
			}
		}
	}
}

func TestAppendSSEDataSplitsLines(t *testing.T) {
	cases := map[string]string{
		"":            "data: \n\n",
		"a":           "data: a\n\n",
		"a\nb":        "data: a\ndata: b\n\n",
		"a\r\nb\rc\n": "data: a\ndata: b\ndata: c\ndata: \n\n",
	}
	for in, want := range cases {
		if got := string(appendSSEData(nil, []byte(in))); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestWebSocketCloseSaysWhy: a closing subscription's frame says why within
// the 123 bytes a close reason may hold, in whole characters.
func TestWebSocketCloseSaysWhy(t *testing.T) {
	long := errors.New(strings.Repeat("é", 100)) // 200 bytes
	for _, c := range []struct {
		reason error
		status websocket.StatusCode
		says   string
	}{
		{errShuttingDown, websocket.StatusGoingAway, "shutting down"},
		{&stallError{behind: 64}, websocket.StatusTryAgainLater, "lastEventId"},
		{long, websocket.StatusTryAgainLater, "éé"},
	} {
		status, text := closeStatus(c.reason)
		if status != c.status || len(text) > 123 || !utf8.ValidString(text) || !strings.Contains(text, c.says) {
			t.Errorf("%v: %v %q (%d bytes), want %v saying %q in at most 123 bytes of UTF-8", c.reason, status, text, len(text), c.status, c.says)
		}
	}
}

// TestSubscribersAreBounded: a node takes as many live subscribers as it
// is set to; one more is told to come back later (over WebSocket a 503
// with Retry-After), and a place that frees up is taken again.
func TestSubscribersAreBounded(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1), WithMaxSubscribers(1))
	first := openSSEFrom(t, env, "type=a", "")
	// Over SSE the answer is one a browser's EventSource acts on: a 200
	// stream that sets when to reconnect, says why and ends (on any other
	// status EventSource gives up for good).
	code, body := env.do("GET", "/v1/events/stream?type=b", "", nil)
	if code != http.StatusOK || !strings.HasPrefix(body, "retry: 5000\nevent: eddy.error\ndata: ") || !strings.Contains(body, "try again later") {
		t.Fatalf("a second SSE subscriber: %d %q, want a stream that tells it to come back in 5 s", code, body)
	}
	req, _ := http.NewRequest("GET", env.srv.URL+"/v1/events/ws?type=b", nil)
	for i := 0; i+1 < len(wsHandshake); i += 2 {
		req.Header.Set(wsHandshake[i], wsHandshake[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a second subscriber over WebSocket: %s, Retry-After %q: want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	first.resp.Body.Close()
	eventually(t, "the first subscriber to go", func() bool {
		env.b.hub.mu.Lock()
		defer env.b.hub.mu.Unlock()
		return len(env.b.hub.subs) == 0
	})
	again := openSSEFrom(t, env, "type=b", "")
	env.send(event("b", "b1"))
	if got := readSSE(t, again, 1); got[0].evt.ID != "b1" {
		t.Fatalf("the subscriber in the freed place got %s", got[0].evt.ID)
	}
}

// wsHandshake are the headers of a WebSocket opening handshake, for a
// request that is to be answered before the upgrade (a refusal).
var wsHandshake = []string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}
