package events

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"eddy/cloudevents"
)

// Replay reads the events Eddy's log holds, from its start to its head as
// the read begins, through Eddy's event stream (GET
// /v1/events/stream?lastEventId=start&untilHead=true), and hands each to
// apply: in log order within a partition, not across partitions. It returns
// the id the stream ended at, from which a live stream would go on. This
// is how a service that keeps its state in memory rebuilds it at start:
// the events it emitted and took are its state's history.
//
// streamURL is the stream's address (Eddy's /v1/events/stream); query,
// when not empty, filters the events (the stream's own parameters).
func Replay(ctx context.Context, client *http.Client, streamURL, query string, apply func(*cloudevents.Event) error) (endID string, err error) {
	if client == nil {
		client = http.DefaultClient
	}
	u := streamURL + "?lastEventId=start&untilHead=true"
	if query != "" {
		u += "&" + query
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("replaying the log: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return "", fmt.Errorf("replaying the log: the stream answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return readReplay(bufio.NewReader(resp.Body), apply)
}

// readReplay reads SSE messages until the stream's closing eddy.end event.
func readReplay(r *bufio.Reader, apply func(*cloudevents.Event) error) (string, error) {
	var (
		id, kind string
		data     []string
		events   int
	)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("the stream ended after %s, before the log's head", counted(events, "event"))
			}
			return "", fmt.Errorf("replaying the log: %w", err)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line != "" {
			switch k, v, _ := strings.Cut(line, ":"); k {
			case "id":
				id = strings.TrimPrefix(v, " ")
			case "event":
				kind = strings.TrimPrefix(v, " ")
			case "data":
				data = append(data, strings.TrimPrefix(v, " "))
			}
			continue
		}
		switch {
		case kind == "eddy.end":
			return id, nil
		case kind != "":
			return "", fmt.Errorf("replaying the log: the stream ended with %s: %s", kind, strings.Join(data, "\n"))
		case len(data) > 0:
			e, err := cloudevents.DecodeJSON([]byte(strings.Join(data, "\n")))
			if err != nil {
				return "", fmt.Errorf("replaying the log: event %d (id %s): %w", events+1, id, err)
			}
			events++
			if err := apply(&e); err != nil {
				return "", err
			}
		}
		kind, data = "", data[:0]
	}
}

// counted says n nouns, in the singular for one ("1 event", "2 events"), as
// the broker's messages do; the example is written against Eddy's API and
// has none of the broker's helpers.
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
