package killtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAcknowledgedEventsSurviveKill: every CloudEvent the ingress answered
// 202 for is on the log after `eddy dev` is killed with SIGKILL under a load
// of events and started again on its data, and none is there twice.
func TestAcknowledgedEventsSurviveKill(t *testing.T) {
	args := []string{"--data", filepath.Join(t.TempDir(), "data"), "--grpc", "", "--cloudevents-jobs=false"}
	n := startNode(t, partitions, args...)

	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("k-%d-%d", g, i)
				req, _ := http.NewRequestWithContext(ctx, "POST", n.url+"/v1/events", strings.NewReader(`{"n":1}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Ce-Specversion", "1.0")
				req.Header.Set("Ce-Id", id)
				req.Header.Set("Ce-Source", "/killtest")
				req.Header.Set("Ce-Type", "killtest.event")
				resp, err := client.Do(req)
				if err != nil {
					return // the kill
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) { // a guard
		mu.Lock()
		got := len(acked)
		mu.Unlock()
		if got >= 2000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d events acknowledged in a minute", got)
		}
	}
	n.kill()
	stop()
	wg.Wait()

	n = startNode(t, partitions, args...)
	resp, err := http.Get(n.url + "/v1/events/stream?source=/killtest&untilHead=true&lastEventId=start")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %s", resp.Status)
	}
	logged := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	ended := false
	for event := ""; sc.Scan(); {
		line := sc.Bytes()
		if name, ok := bytes.CutPrefix(line, []byte("event: ")); ok {
			event = string(name)
		}
		if len(line) == 0 {
			event = ""
		}
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		if event != "" { // the stream's own messages, such as its end
			ended = ended || event == "eddy.end"
			continue
		}
		var e struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("stream data %q: %v", data, err)
		}
		logged[e.ID]++
	}
	if err := sc.Err(); err != nil || !ended {
		t.Fatalf("the stream ended before the log's head (%v)", err)
	}
	lost := 0
	for id := range acked {
		if logged[id] == 0 {
			if lost++; lost <= 5 {
				t.Errorf("event %s was acknowledged before the kill and is not on the log after it", id)
			}
		}
	}
	for id, c := range logged {
		if c > 1 {
			t.Errorf("event %s is %d times on the log", id, c)
		}
	}
	t.Logf("%d events acknowledged before the kill, %d on the log after it, %d lost", len(acked), len(logged), lost)
}
