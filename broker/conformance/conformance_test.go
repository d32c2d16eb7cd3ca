package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"eddy/internal/proctest"
)

// delivered is how many events each trigger must deliver: the tool's six
// yaml/v1.0 events, one of yaml/v1.yaml's two (the other is a duplicate),
// the five of testdata/events.yaml, two from `cloudevents send` and the
// 64 KiB one.
const delivered = 6 + 1 + 5 + 2 + 1

// TestConformanceTool: what the conformance tool sends is accepted, stored
// and delivered unchanged in both content modes; what the specification
// forbids is refused with 400 and never delivered.
func TestConformanceTool(t *testing.T) {
	dir := t.TempDir()
	binaryListener, jsonListener := listen(t), listen(t)
	triggers, err := os.ReadFile(filepath.Join("testdata", "triggers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	triggers = []byte(strings.NewReplacer(
		"BINARY_LISTENER", binaryListener,
		"JSON_LISTENER", jsonListener,
	).Replace(string(triggers)))
	triggerFile := filepath.Join(dir, "triggers.yaml")
	if err := os.WriteFile(triggerFile, triggers, 0o644); err != nil {
		t.Fatal(err)
	}
	base := startEddy(t, "--triggers", triggerFile)
	ingress, knative := base+"/v1/events", base+"/default/default"

	// Accepted: the tool's own examples, this package's, and events built
	// by `cloudevents send` in both modes, one with 64 KiB of data.
	large := strings.Repeat("0123456789abcdef", 4<<10)
	for _, args := range [][]string{
		{"invoke", ingress, "-f", filepath.Join(toolModule, "yaml", "v1.0")},
		{"invoke", knative, "-f", filepath.Join(toolModule, "yaml", "v1.yaml")},
		{"invoke", ingress, "-f", filepath.Join("testdata", "events.yaml")},
		{"send", ingress, "--id", "eddy-conf-send-binary", "--source", "/send", "--type", "com.example.send.binary",
			"--time", "2026-11-22T10:00:00Z", "--subject", "two words", "--extension", "correlationkey=k-1",
			"--extension", "count=7", "--datacontenttype", "application/json", "--data", `{"sent": "binary"}`},
		{"send", knative, "--mode", "structured", "--id", "eddy-conf-send-structured", "--source", "/send",
			"--type", "com.example.send.structured", "--time", "2026-11-22T10:00:00.5-05:00", "--subject", "two words",
			"--extension", "correlationkey=k-2", "--datacontenttype", "application/json", "--data", `{"sent": "structured"}`},
		{"send", ingress, "--id", "eddy-conf-64k", "--source", "/send", "--type", "com.example.large",
			"--datacontenttype", "text/plain", "--data", large},
	} {
		if out, code := tool(t, args...); code != 0 {
			t.Errorf("cloudevents %s %s: exit %d\n%s", args[0], strings.Join(args[2:min(len(args), 4)], " "), code, out)
		}
	}

	// Refused: one invoke per event of testdata/invalid.yaml.
	invalid, err := os.ReadFile(filepath.Join("testdata", "invalid.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, doc := range strings.Split(string(invalid), "\n---\n") {
		file := filepath.Join(dir, fmt.Sprintf("invalid-%d.yaml", i+1))
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := tool(t, "invoke", ingress, "-f", file)
		if code == 0 || !strings.Contains(out, "got 400 Bad Request") {
			t.Errorf("invalid event %d was not refused with 400 (exit %d, %s):\n%s", i+1, code, strings.TrimSpace(out), doc)
		}
	}

	// Each trigger delivers every accepted event once; then the listeners
	// must hold exactly those events, as the want files say.
	for _, name := range []string{"conformance-binary", "conformance-json"} {
		waitForDeliveries(t, base, name, delivered)
	}
	gotBinary := received(t, binaryListener, filepath.Join(dir, "got-binary.yaml"))
	gotJSON := received(t, jsonListener, filepath.Join(dir, "got-json.yaml"))
	for _, file := range []string{gotBinary, gotJSON} {
		if n := countEvents(t, file); n != delivered {
			t.Errorf("%s holds %d events, want %d", filepath.Base(file), n, delivered)
		}
	}
	largeWant := filepath.Join(dir, "want-large")
	for _, c := range []struct{ want, got string }{
		// Binary in, binary out: the tool's examples come back as sent.
		{filepath.Join(toolModule, "yaml", "v1.0", "v1_minimum.yaml"), gotBinary},
		{filepath.Join("testdata", "want-binary.yaml"), gotBinary},
		{filepath.Join("testdata", "want-json.yaml"), gotJSON},
		{writeFile(t, largeWant+"-binary.yaml", largeEvent(large)), gotBinary},
		{writeFile(t, largeWant+"-json.yaml", largeEvent(strconv.Quote(large)+"\n")), gotJSON},
	} {
		if out, code := tool(t, "diff", c.want, c.got); code != 0 {
			t.Errorf("cloudevents diff %s %s: exit %d\n%s", c.want, filepath.Base(c.got), code, out)
		}
	}
}

// largeEvent is the 64 KiB event in the tool's YAML, as a listener records
// it with data.
func largeEvent(data string) string {
	return "ContextAttributes:\n  specversion: \"1.0\"\n  type: com.example.large\n  id: eddy-conf-64k\n" +
		"  source: /send\n  datacontenttype: text/plain\nData: " + strconv.Quote(data) + "\n"
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// tool runs the conformance tool and returns what it printed and its exit
// code.
func tool(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard
	defer cancel()
	out, err := exec.CommandContext(ctx, toolBinary, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running cloudevents %s: %v", args[0], err)
	}
	return string(out), 0
}

var listening = regexp.MustCompile(`listening on :(\d+)`)

// listenHistory is how many events a listener keeps for received: more
// than delivered, so that an event delivered twice shows in the count.
const listenHistory = 2 * delivered

// listen runs `cloudevents listen` on a free port and returns its URL. The
// port is free when chosen; another process may take it before the tool
// binds it, so a tool that exits is started again on another port.
func listen(t *testing.T) string {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		// What the tool prints is not read: it writes each event to stdout
		// in two writes, which interleave when deliveries are concurrent
		// (Knative's unordered delivery). Its history is kept under a lock.
		cmd := exec.Command(toolBinary, "listen", "--port", strconv.Itoa(port),
			"--history", strconv.Itoa(listenHistory), "--retain")
		p := proctest.Start(t, cmd)
		p.WaitFor(t, listening)
		// The tool says "listening" before it binds: wait for the port.
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		for deadline := time.Now().Add(time.Minute); !p.Exited(); time.Sleep(10 * time.Millisecond) { // a guard
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				return "http://" + addr + "/"
			}
			if time.Now().After(deadline) {
				t.Fatalf("cloudevents listen does not answer on %s: %v", addr, err)
			}
		}
		if attempt == 3 {
			t.Fatalf("cloudevents listen exited three times:\n%s", p.Log())
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var readyLine = regexp.MustCompile(`msg="eddy is ready".* http=(\S+)`)

// startEddy runs `eddy dev` on a fresh data directory with free ports,
// plus extra flags, and returns the base URL of its HTTP port.
func startEddy(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"dev", "--data", filepath.Join(t.TempDir(), "data"), "--partitions", "3",
		"--http", "127.0.0.1:0", "--grpc", ""}, extra...)
	p := proctest.Start(t, exec.Command(eddyBinary, args...))
	t.Cleanup(func() { p.Stop(t) })
	return "http://" + p.WaitFor(t, readyLine)[1]
}

// waitForDeliveries waits until trigger default/name has delivered at
// least want events and has nothing left to read, then fails the test if
// it delivered more or failed any.
func waitForDeliveries(t *testing.T, base, name string, want int) {
	t.Helper()
	var status struct {
		Status struct {
			Lag        int64
			Deliveries struct{ Delivered, Failures, DeadLettered int }
		}
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) { // a guard
		resp, err := http.Get(base + "/v1/triggers/default/" + name)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&status)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("trigger %s: %v", name, err)
		}
		s := status.Status
		if s.Deliveries.Delivered >= want && s.Lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trigger %s delivered %d of %d events in a minute (lag %d, %+v)", name, s.Deliveries.Delivered, want, s.Lag, s.Deliveries)
		}
	}
	if d := status.Status.Deliveries; d.Delivered != want || d.Failures != 0 || d.DeadLettered != 0 {
		t.Errorf("trigger %s: %+v, want %d delivered and no failures", name, d, want)
	}
}

// received writes the events the listener at url has received to file, in
// the tool's YAML, and returns file.
func received(t *testing.T, url, file string) string {
	t.Helper()
	resp, err := http.Get(url + "history")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("reading %shistory: %s %v", url, resp.Status, err)
	}
	return writeFile(t, file, string(b))
}

// countEvents counts the events in a listener's history: YAML documents
// separated by "---" lines.
func countEvents(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return 0
	}
	n := 1
	for _, line := range strings.Split(string(b), "\n") {
		if line == "---" {
			n++
		}
	}
	return n
}
