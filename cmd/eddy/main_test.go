package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"eddy/internal/pgtest"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eddy-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "eddy")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func eddy(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

// TestBadInputGivesOneClearLine: every mistake a user can make on the
// command line ends with one line that says what is wrong, a non-zero exit
// and no stack trace.
func TestBadInputGivesOneClearLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Trigger files are read before the store opens: the data directory
	// named stays unmade, and nothing else is logged.
	noSubscriber := filepath.Join(t.TempDir(), "triggers.yaml")
	if err := os.WriteFile(noSubscriber, []byte("apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: x\nspec:\n  broker: default\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unmade := filepath.Join(t.TempDir(), "data")
	node := []string{"dev", "--data", unmade, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--triggers"}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown backend", []string{"dev", "--storage", "cassandra"}, 2, `unknown storage backend "cassandra"`},
		{"unreachable postgres", []string{"dev", "--storage", "postgres", "--dsn", "postgres://postgres@127.0.0.1:1/test?connect_timeout=5", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"}, 1, "127.0.0.1"},
		{"postgres without dsn", []string{"dev", "--storage", "postgres"}, 2, "needs --dsn"},
		{"dsn with pebble", []string{"dev", "--dsn", "postgres://x"}, 2, "--dsn is for --storage postgres"},
		{"unwritable data directory", []string{"dev", "--data", filepath.Join(file, "data"), "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"}, 1, "not a directory"},
		{"unknown flag", []string{"dev", "--colour"}, 2, "unknown flag: --colour"},
		{"bad flag value", []string{"dev", "--partitions", "many"}, 2, "--partitions"},
		{"partitions out of range", []string{"dev", "--partitions", "100000"}, 2, "invalid --partitions 100000: use 1 to 4096"},
		// Before, a 0 given was taken for the flag left out (the default
		// count); the data and addresses keep such a start off the
		// default ones.
		{"no partitions", []string{"dev", "--partitions", "0", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"}, 2, "invalid --partitions 0: use 1 to 4096"},
		{"negative partitions", []string{"dev", "--partitions=-2"}, 2, "invalid --partitions -2: use 1 to 4096"},
		{"unexpected argument", []string{"dev", "now"}, 2, "takes no arguments"},
		{"unknown command", []string{"start"}, 2, "start"},
		{"bad log level", []string{"dev", "--log-level", "loud"}, 2, "--log-level"},
		{"negative message ttl", []string{"dev", "--message-ttl", "-1s"}, 2, "invalid --message-ttl"},
		{"no delivery timeout", []string{"dev", "--delivery-timeout", "0s"}, 2, "invalid --delivery-timeout"},
		{"origin with a scheme", []string{"dev", "--allow-origin", "http://localhost:5173"}, 2, "invalid --allow-origin"},
		{"no dedup window", []string{"dev", "--dedup-window", "0s"}, 2, "invalid --dedup-window"},
		{"trigger segments not a power of two", []string{"dev", "--trigger-segments", "12"}, 2, "invalid --trigger-segments 12: use a power of two from 1 to 1024"},
		{"missing trigger file", append(node, "missing.yaml"), 1, "--triggers: open missing.yaml: no such file"},
		{"trigger file without a trigger", append(node, file), 1, "--triggers " + file + ": no trigger in the file"},
		{"broken trigger file", append(node, noSubscriber), 1, "--triggers: " + noSubscriber + ":5: trigger default/x: spec.subscriber: needs a uri"},
		{"bad http address", []string{"dev", "--data", t.TempDir(), "--http", "nonsense"}, 1, "--http nonsense"},
		{"bad grpc address", []string{"dev", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--grpc", "nonsense"}, 1, "--grpc nonsense"},
		{"tls certificate without key", []string{"dev", "--grpc-tls-cert", file}, 2, "--grpc-tls-cert and --grpc-tls-key go together"},
		{"tls files that are no certificate", []string{"dev", "--grpc-tls-cert", file, "--grpc-tls-key", file}, 1, "loading the TLS certificate " + file},
		{"empty bearer token", []string{"dev", "--grpc-token", " "}, 2, "invalid --grpc-token"},
		{"deploy without files", []string{"deploy"}, 2, "at least one BPMN file"},
		{"deploy of a missing file", []string{"deploy", "--address", "http://127.0.0.1:1", "missing.bpmn"}, 1, "missing.bpmn: no such file"},
		{"run without a process", []string{"run"}, 2, "eddy run needs one process id"},
		{"variables not an object", []string{"run", "order", "--vars", "[1]"}, 2, "invalid --vars"},
		{"variables file missing", []string{"run", "order", "--vars", "@missing.json"}, 2, "missing.json"},
		{"timeout without wait", []string{"run", "order", "--timeout", "1s"}, 2, "--timeout applies only with --wait"},
		{"address without scheme", []string{"run", "order", "--address", "127.0.0.1:8080"}, 2, "invalid --address"},
		{"nobody at the address", []string{"run", "order", "--address", "http://127.0.0.1:1"}, 1, "cannot reach Eddy at http://127.0.0.1:1: dial tcp"},
		{"publish without a name", []string{"publish"}, 2, "eddy publish needs one message name"},
		{"negative ttl", []string{"publish", "paid", "--ttl", "-1s"}, 2, "invalid --ttl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := eddy(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if len(lines) != 1 {
				t.Fatalf("want one line on stderr, got %d:\n%s", len(lines), stderr)
			}
			if !strings.HasPrefix(lines[0], "eddy: ") || !strings.Contains(lines[0], tc.want) {
				t.Fatalf("stderr %q does not say %q", lines[0], tc.want)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Fatalf("stack trace on stderr: %s", stderr)
			}
			if _, err := os.Stat(unmade); err == nil && slices.Contains(tc.args, unmade) {
				t.Fatalf("the data directory %s was made before the error", unmade)
			}
		})
	}
}

// TestUsageErrorPointsToTheCommandsHelp: a bad command line points at the
// help that lists the flags of the command it was for, not at eddy --help,
// which lists only the subcommands.
func TestUsageErrorPointsToTheCommandsHelp(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"dev", "--kafka-brokers", "127.0.0.1:9092"}, "(see 'eddy dev --help')"},
		{[]string{"dev", "--partitions", "-1"}, "(see 'eddy dev --help')"},
		{[]string{"run", "order", "--timeout", "1s"}, "(see 'eddy run --help')"},
		{[]string{"publish", "--colour"}, "(see 'eddy publish --help')"},
		{[]string{"start"}, "(see 'eddy --help')"},
	}
	for _, tc := range cases {
		_, stderr, code := eddy(t, tc.args...)
		if code != 2 || !strings.HasSuffix(strings.TrimSpace(stderr), tc.want) {
			t.Errorf("eddy %s: exit %d, stderr %q; want exit 2 ending in %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := eddy(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "eddy ") {
		t.Fatalf("eddy version: exit %d, %q", code, stdout)
	}
}

// node is a running `eddy dev` whose log lines the test reads.
type node struct {
	cmd   *exec.Cmd
	lines chan string
	seen  []string
}

func startEddy(t *testing.T, args ...string) *node {
	t.Helper()
	cmd := exec.Command(binary, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			n.lines <- sc.Text()
		}
		close(n.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return n
}

// waitFor returns the first log line containing text, failing the test if
// the process ends or a minute (a guard, not a measurement) passes first.
func (n *node) waitFor(t *testing.T, text string) string {
	t.Helper()
	guard := time.After(time.Minute)
	for {
		select {
		case line, ok := <-n.lines:
			if !ok {
				t.Fatalf("eddy ended before logging %q:\n%s", text, strings.Join(n.seen, "\n"))
			}
			n.seen = append(n.seen, line)
			if strings.Contains(line, text) {
				return line
			}
		case <-guard:
			t.Fatalf("eddy did not log %q:\n%s", text, strings.Join(n.seen, "\n"))
		}
	}
}

// stop sends SIGTERM and checks for a clean exit.
func (n *node) stop(t *testing.T) {
	t.Helper()
	n.cmd.Process.Signal(syscall.SIGTERM)
	n.waitFor(t, "eddy stopped")
	if err := n.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, strings.Join(n.seen, "\n"))
	}
}

// TestDevStartsAndStopsCleanly runs `eddy dev` twice on one data directory:
// it gets ready, stops on SIGTERM with exit 0, and starts again on what it
// left. The second run also follows a SIGKILL of the first, whose claims it
// must take over at once (nobody else can open an embedded store).
func TestDevStartsAndStopsCleanly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for run := 1; run <= 3; run++ {
		n := startEddy(t, "dev", "--data", dir, "--partitions", "4", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0")
		ready := n.waitFor(t, "eddy is ready")
		if !strings.Contains(ready, "partitions=4") || !strings.Contains(ready, "claimed=4") || !strings.Contains(ready, "http=127.0.0.1:") || !strings.Contains(ready, "grpc=127.0.0.1:") {
			t.Errorf("run %d: ready line does not report the 4 claimed partitions: %s", run, ready)
		}
		if run == 2 {
			n.cmd.Process.Kill()
			n.cmd.Wait()
			continue
		}
		n.stop(t)
	}
}

// TestDeadNodesPartitionsMoveToSurvivors runs two nodes on one PostgreSQL:
// the first takes every partition, the second none; when the first is
// killed, the second takes them over once their claims time out.
func TestDeadNodesPartitionsMoveToSurvivors(t *testing.T) {
	dsn := pgtest.Schema(t)
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--claim-timeout", "2s", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0"}
	first := startEddy(t, args...)
	if ready := first.waitFor(t, "eddy is ready"); !strings.Contains(ready, "claimed=2") {
		t.Fatalf("first node: %s", ready)
	}
	second := startEddy(t, args...)
	secondReady := second.waitFor(t, "eddy is ready")
	if !strings.Contains(secondReady, "claimed=0") {
		t.Fatalf("second node took partitions held by a live node: %s", secondReady)
	}
	first.cmd.Process.Kill()
	first.cmd.Wait()
	second.waitFor(t, `msg="claimed partition" partition=0`)
	second.waitFor(t, `msg="claimed partition" partition=1`)
	// The survivor's engine now runs both partitions: it takes requests.
	second.waitFor(t, `msg="engine restarted on the held partitions" partitions=2`)
	address := "--address=http://" + httpAddress(t, secondReady)
	if _, stderr, code := eddy(t, "deploy", address, "testdata/noop.bpmn"); code != 0 {
		t.Fatalf("deploying on the survivor: %s", stderr)
	}
	if stdout, stderr, code := eddy(t, "run", "noop", "--wait", address); code != 0 || !strings.Contains(stdout, `"COMPLETED"`) {
		t.Fatalf("running on the survivor: %s %s", stdout, stderr)
	}
	second.stop(t)
}

// TestShutdownEndsLiveStreams: a SIGTERM ends an open Server-Sent Events
// stream with the broker's notice, and the node stops; the stream is not
// left for the server's shutdown to cut.
func TestShutdownEndsLiveStreams(t *testing.T) {
	n := startEddy(t, "dev", "--data", filepath.Join(t.TempDir(), "data"), "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", "")
	addr := httpAddress(t, n.waitFor(t, "eddy is ready"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/events/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || line != ":ok\n" {
		t.Fatalf("the stream opened with %q %v", line, err)
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), "event: eddy.error") || !strings.Contains(string(rest), "shutting down") {
		t.Errorf("the stream ended without the shutdown notice: %q", rest)
	}
	n.waitFor(t, "eddy stopped")
}
