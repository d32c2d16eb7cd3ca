package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDescribeLocationHidesPasswords(t *testing.T) {
	for _, dsn := range []string{
		"postgres://eddy:s3cret@db.example:5433/prod",
		"postgres://eddy@db.example:5433/prod?password=s3cret&sslmode=disable",
		"host=db.example port=5433 user=eddy password=s3cret dbname=prod",
	} {
		got := describeLocation("postgres", dsn)
		if strings.Contains(got, "s3cret") {
			t.Errorf("%q is described as %q, password included", dsn, got)
		}
		if got != "postgres://eddy@db.example:5433/prod" {
			t.Errorf("%q is described as %q", dsn, got)
		}
	}
	if got := describeLocation("pebble", "eddy-data"); got != "eddy-data" {
		t.Errorf("a data directory is described as %q", got)
	}
}

// TestDevFlagsReachTheBroker: the broker's flags of eddy dev take effect.
// With --dedup-window 1s, an event sent again after the window is taken
// again (within the default minute it would be a duplicate), and with
// --allow-origin a page of that origin gets the event stream with CORS and
// may send events, while a page of another origin may not.
func TestDevFlagsReachTheBroker(t *testing.T) {
	n := startEddy(t, "dev", "--data", filepath.Join(t.TempDir(), "data"), "--http", "127.0.0.1:0", "--grpc", "",
		"--dedup-window", "1s", "--allow-origin", "localhost:5173", "--trigger-segments", "4")
	addr := httpAddress(t, n.waitFor(t, "eddy is ready"))
	// A new trigger's processor has the segments asked for.
	trigger := "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: x\nspec:\n  broker: default\n  subscriber:\n    uri: http://127.0.0.1:1/\n"
	if code, body := call(t, "PUT", addr, "/v1/triggers/default/x", "application/yaml", trigger); code != http.StatusCreated {
		t.Fatalf("PUT trigger: %d %s", code, body)
	}
	deadline := time.Now().Add(30 * time.Second) // a guard, not a measurement
	for {
		_, body := call(t, "GET", addr, "/v1/triggers/default/x", "", "")
		var st struct {
			Status struct {
				Segments []json.RawMessage `json:"segments"`
			} `json:"status"`
		}
		if json.Unmarshal([]byte(body), &st) == nil && len(st.Status.Segments) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the trigger's status never showed 4 segments: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr+"/v1/events/stream?type=again", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://localhost:5173")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "http://localhost:5173" {
		t.Errorf("the stream for an allowed origin: Access-Control-Allow-Origin %q", got)
	}
	send := func(origin string) (int, string) {
		return call(t, "POST", addr, "/v1/events", "application/json", `{"n":1}`,
			"Ce-Specversion", "1.0", "Ce-Id", "twice", "Ce-Source", "/t", "Ce-Type", "again", "Origin", origin)
	}
	if code, body := send(""); code != http.StatusAccepted {
		t.Fatalf("sending: %d %s", code, body)
	}
	time.Sleep(1500 * time.Millisecond) // past the window
	// A page of another origin may send only if allowed.
	if code, body := send("http://evil.example"); code != http.StatusForbidden {
		t.Fatalf("sending from an origin not allowed: %d %s", code, body)
	}
	if code, body := send("http://localhost:5173"); code != http.StatusAccepted {
		t.Fatalf("sending from the allowed origin: %d %s", code, body)
	}
	// A guard, not a measurement: a second event that never comes ends
	// the read instead of the test's run.
	guard := time.AfterFunc(30*time.Second, func() { resp.Body.Close() })
	defer guard.Stop()
	sc := bufio.NewScanner(resp.Body)
	events := 0
	for events < 2 && sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			events++
		}
	}
	if events != 2 {
		t.Fatalf("%d events pushed, want the event sent again after the window taken again: %v", events, sc.Err())
	}
}

// TestGRPCTokenWarnsOfTheOpenHTTPAPI: a node whose gRPC gateway takes
// tokens says at start that its HTTP API, on an address others reach,
// takes none; on a loopback address it says nothing of it.
func TestGRPCTokenWarnsOfTheOpenHTTPAPI(t *testing.T) {
	for _, c := range []struct {
		http string
		warn bool
	}{{"0.0.0.0:0", true}, {"127.0.0.1:0", false}} {
		n := startEddy(t, "dev", "--data", filepath.Join(t.TempDir(), "data"), "--http", c.http, "--grpc", "127.0.0.1:0", "--grpc-token", "s3cret")
		var warned bool
		for line := range n.lines {
			warned = warned || strings.Contains(line, "--grpc-token guards the gRPC gateway only")
			if strings.Contains(line, "eddy is ready") {
				break
			}
		}
		if warned != c.warn {
			t.Errorf("--http %s with --grpc-token: warned %v, want %v", c.http, warned, c.warn)
		}
		n.stop(t)
	}
}
