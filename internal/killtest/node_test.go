package killtest

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"eddy/api/rest"
)

// eddyBinary is the eddy command, built once for every test of the package.
var eddyBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eddy-killtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eddyBinary = filepath.Join(dir, "eddy")
	if out, err := exec.Command("go", "build", "-o", eddyBinary, "eddy/cmd/eddy").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building eddy: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startGuard bounds how long a node may take to get ready: a guard against
// hanging, not a measurement.
const startGuard = time.Minute

// node is one `eddy dev` process and a REST client of it.
type node struct {
	t      *testing.T
	cmd    *exec.Cmd
	client *rest.Client
	url    string // the HTTP API's base URL
	http   *http.Transport
	log    *logLines
	exited chan struct{} // closed once the process is reaped
}

// startNode runs `eddy dev` with args on a free port and returns once it
// serves all partitions partitions.
func startNode(t *testing.T, partitions int, args ...string) *node {
	t.Helper()
	args = append([]string{"dev", "--http", "127.0.0.1:0", "--partitions", strconv.Itoa(partitions)}, args...)
	cmd := exec.Command(eddyBinary, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting eddy: %v", err)
	}
	n := &node{t: t, cmd: cmd, log: newLogLines(), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			n.log.add(sc.Text())
		}
		// Wait closes the pipe: it may run only once reading is over.
		cmd.Wait()
		n.log.close()
		close(n.exited)
	}()
	t.Cleanup(func() {
		if n.running() {
			cmd.Process.Kill()
			<-n.exited
		}
		if n.http != nil {
			n.http.CloseIdleConnections()
		}
	})

	ready := n.waitLog(`msg="eddy is ready"`)
	addr := field(ready, "http")
	claimed, _ := strconv.Atoi(field(ready, "claimed"))
	if addr == "" {
		t.Fatalf("eddy's ready line names no HTTP address: %s", ready)
	}
	if claimed < partitions {
		// On PostgreSQL the killed node's claims must time out first; the
		// engine restarts on the partitions as they are taken over.
		n.waitLogSuffix(fmt.Sprintf(`msg="engine restarted on the held partitions" partitions=%d`, partitions))
	}
	n.http = &http.Transport{MaxIdleConnsPerHost: 32}
	n.url = "http://" + addr
	n.client = rest.NewClient(n.url, &http.Client{Transport: n.http})
	return n
}

func (n *node) running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and reaps the process, failing the test if it had
// ended on its own before.
func (n *node) kill() {
	n.t.Helper()
	if !n.running() {
		n.t.Fatalf("eddy ended on its own before the kill:\n%s", n.log.tail(40))
	}
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		n.t.Fatalf("killing eddy: %v", err)
	}
	<-n.exited
	ws, ok := n.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		n.t.Fatalf("eddy ended with %v, not by the SIGKILL:\n%s", n.cmd.ProcessState, n.log.tail(40))
	}
	n.http.CloseIdleConnections()
}

// stop sends SIGTERM and expects a clean exit.
func (n *node) stop() {
	n.t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatalf("stopping eddy: %v", err)
	}
	select {
	case <-n.exited:
	case <-time.After(startGuard):
		n.t.Fatalf("eddy did not stop after SIGTERM:\n%s", n.log.tail(40))
	}
	if !n.cmd.ProcessState.Success() {
		n.t.Fatalf("eddy ended with %v after SIGTERM:\n%s", n.cmd.ProcessState, n.log.tail(40))
	}
	n.http.CloseIdleConnections()
}

// waitLog returns the first log line containing text.
func (n *node) waitLog(text string) string {
	n.t.Helper()
	return n.waitLine(text, func(line string) bool { return strings.Contains(line, text) })
}

// waitLogSuffix returns the first log line ending with text.
func (n *node) waitLogSuffix(text string) string {
	n.t.Helper()
	return n.waitLine(text, func(line string) bool { return strings.HasSuffix(line, text) })
}

func (n *node) waitLine(text string, match func(string) bool) string {
	n.t.Helper()
	guard := time.After(startGuard)
	for i := 0; ; {
		lines, changed, closed := n.log.since(i)
		for _, line := range lines {
			if match(line) {
				return line
			}
		}
		i += len(lines)
		if closed {
			n.t.Fatalf("eddy ended before logging %q:\n%s", text, n.log.tail(40))
		}
		select {
		case <-changed:
		case <-guard:
			n.t.Fatalf("eddy did not log %q:\n%s", text, n.log.tail(40))
		}
	}
}

// fieldPattern finds key=value in a slog text line (values here are never
// quoted).
var fieldPattern = regexp.MustCompile(`(?:^| )([a-z]+)=([^ "]+)`)

func field(line, key string) string {
	for _, m := range fieldPattern.FindAllStringSubmatch(line, -1) {
		if m[1] == key {
			return m[2]
		}
	}
	return ""
}

// logLines keeps what a process writes on stderr: read all the time so that
// the process never blocks on a full pipe.
type logLines struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on every line
	closed  bool
}

func newLogLines() *logLines { return &logLines{changed: make(chan struct{})} }

func (l *logLines) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *logLines) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	close(l.changed)
	l.changed = make(chan struct{})
}

// since returns the lines from i on, a channel closed on the next change,
// and whether the stream has ended.
func (l *logLines) since(i int) ([]string, <-chan struct{}, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[i:]...), l.changed, l.closed
}

func (l *logLines) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}
