package events

import (
	"bufio"
	"strings"
	"testing"

	"eddy/cloudevents"
)

func TestReadReplay(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		types        []string
		end, fails   string
	}{
		{
			name: "events then the end",
			stream: ":ok\nid: L@0-0.1-0\n\n" +
				"id: L@0-1.1-0\ndata: {\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t.one\"}\n\n" +
				":keep-alive\n\n" +
				"id: L@1-4.0-1\ndata: {\"specversion\":\"1.0\",\"id\":\"b\",\"source\":\"/s\",\ndata: \"type\":\"t.two\"}\n\n" +
				"event: eddy.end\nid: L@0-3.1-4\ndata: the stream reached the log's head\n\n",
			types: []string{"t.one", "t.two"},
			end:   "L@0-3.1-4",
		},
		{name: "crlf line ends", stream: ":ok\r\n\r\nevent: eddy.end\r\nid: L@0-0\r\ndata: at the head\r\n\r\n", end: "L@0-0"},
		{name: "cut short before any event", stream: ":ok\n\n", fails: "ended after 0 events, before the log's head"},
		{name: "cut short", stream: ":ok\n\nid: x\ndata: {\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"}\n\n", fails: "ended after 1 event, before the log's head"},
		{name: "cut short after two", stream: ":ok\n\nid: x\ndata: {\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"}\n\n" +
			"id: y\ndata: {\"specversion\":\"1.0\",\"id\":\"b\",\"source\":\"/s\",\"type\":\"t\"}\n\n", fails: "ended after 2 events, before the log's head"},
		{name: "an error event", stream: ":ok\n\nevent: eddy.error\ndata: the broker is shutting down\n\n", fails: "eddy.error: the broker is shutting down"},
		{name: "not an event", stream: "id: 7\ndata: {\"id\":\n\n", fails: "event 1 (id 7)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var types []string
			end, err := readReplay(bufio.NewReader(strings.NewReader(tc.stream)), func(e *cloudevents.Event) error {
				types = append(types, e.Type)
				return nil
			})
			if tc.fails != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fails) {
					t.Fatalf("error %v, want one saying %q", err, tc.fails)
				}
				return
			}
			if err != nil || end != tc.end || strings.Join(types, ",") != strings.Join(tc.types, ",") {
				t.Errorf("got %v, end %q, %v; want %v, end %q", types, end, err, tc.types, tc.end)
			}
		})
	}
}

// FuzzReadReplay: any stream is read to an end or an error, never a panic,
// and every event handed on is a valid CloudEvent.
func FuzzReadReplay(f *testing.F) {
	f.Add(":ok\n\nid: 1\ndata: {\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"}\n\nevent: eddy.end\nid: 2\ndata: x\n\n")
	f.Add("event: eddy.error\ndata: x\n\n")
	f.Add("event: eddy.end\n\n")
	f.Fuzz(func(t *testing.T, stream string) {
		_, _ = readReplay(bufio.NewReader(strings.NewReader(stream)), func(e *cloudevents.Event) error {
			if err := e.Validate(); err != nil {
				t.Fatalf("handed on an invalid event: %v", err)
			}
			return nil
		})
	})
}
