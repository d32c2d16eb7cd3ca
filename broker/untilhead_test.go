package broker

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"eddy/cloudevents"
)

// readWholeStream GETs an SSE stream that is to end by itself and returns
// its events and the id of its closing ":end" block.
func readWholeStream(t *testing.T, env *testEnv, query, lastEventID string) (got []pushedEvent, endID string) {
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
		var id, data string
		for _, line := range strings.Split(block, "\n") {
			switch k, v, _ := strings.Cut(line, ": "); k {
			case "id":
				id = v
			case "data":
				data += v
			}
		}
		switch {
		case i == len(blocks)-1:
			if !strings.HasPrefix(block, ":end\n") || id == "" {
				t.Fatalf("the stream ends with %q, want :end and the id reached", block)
			}
			endID = id
		case data != "":
			e, err := cloudevents.DecodeJSON([]byte(data))
			if err != nil {
				t.Fatalf("SSE data %q: %v", data, err)
			}
			got = append(got, pushedEvent{id, e})
		}
	}
	return got, endID
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

	// From the same start, through the query parameter, with no filter.
	all, _ := readWholeStream(t, env, lastEventIDParam+"="+startEventID+"&"+untilHeadParam+"=true", "")
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

// Over a WebSocket, a stream that ends at the head sends what it holds and
// closes normally, saying why.
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
		e, err := cloudevents.DecodeJSON(msg)
		if err != nil {
			t.Fatalf("message %s: %v", msg, err)
		}
		id, _ := e.Extension(EventIDExtension)
		got = append(got, pushedEvent{id.Text, e})
	}
	checkResumed(t, got, ids(placed))
}

func TestUntilHeadParameterIsChecked(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	for _, tc := range []struct{ query, says string }{
		{untilHeadParam + "=soon", `give true or false`},
		{untilHeadParam + "=true&" + untilHeadParam + "=false", "given 2 times"},
		{"untilhead=true", "the parameter that ends a stream at the log's head is untilHead"},
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
