package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"eddy/api/rest"
)

// eddy is a running `eddy dev` process.
type eddy struct {
	cmd  *exec.Cmd
	grpc string // host:port of the Zeebe gateway
	http string // base URL of the REST API
	log  *lines
}

// lines collects a process's output lines.
type lines struct {
	ch   chan string
	seen []string
}

func (l *lines) waitFor(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	guard := time.After(time.Minute) // a guard, not a measurement
	for {
		select {
		case line, ok := <-l.ch:
			if !ok {
				t.Fatalf("eddy ended before logging %s:\n%s", re, strings.Join(l.seen, "\n"))
			}
			l.seen = append(l.seen, line)
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-guard:
			t.Fatalf("eddy did not log %s:\n%s", re, strings.Join(l.seen, "\n"))
		}
	}
}

var readyLine = regexp.MustCompile(`msg="eddy is ready".* http=(\S+) grpc=(\S+)`)

// startEddy runs `eddy dev` on a fresh data directory with three
// partitions and free ports, plus extra flags, until the test ends.
func startEddy(t testing.TB, env []string, extra ...string) *eddy {
	t.Helper()
	// The seed models' jobs of type cloudevents are worked by the tests'
	// own workers, as Zeebe users did before Eddy's built-in one.
	args := append([]string{"dev", "--data", filepath.Join(t.TempDir(), "data"), "--partitions", "3",
		"--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--cloudevents-jobs=false"}, extra...)
	cmd := exec.Command(eddyBinary, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &lines{ch: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case l.ch <- sc.Text():
			default: // nobody reads any more: drop
			}
		}
		close(l.ch)
	}()
	e := &eddy{cmd: cmd, log: l}
	t.Cleanup(func() { e.stop(t) })
	m := l.waitFor(t, readyLine)
	e.http, e.grpc = "http://"+m[1], m[2]
	return e
}

// stop ends the process with SIGTERM, as a user would, and checks that it
// stops cleanly.
func (e *eddy) stop(t testing.TB) {
	if e.cmd.ProcessState != nil {
		return
	}
	e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- e.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("eddy exited with %v after SIGTERM:\n%s", err, strings.Join(e.log.seen, "\n"))
		}
	case <-time.After(30 * time.Second):
		e.cmd.Process.Kill()
		<-done
		t.Errorf("eddy did not stop within 30s of SIGTERM")
	}
}

// client is a Zeebe Go client of e, plaintext, as in development.
func (e *eddy) client(t testing.TB) zbc.Client {
	t.Helper()
	c, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: e.grpc, UsePlaintextConnection: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// raw is the protocol client, for the RPCs the Go client of 8.3 lacks.
func (e *eddy) raw(t testing.TB) pb.GatewayClient {
	t.Helper()
	conn, err := grpc.Dial(e.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewGatewayClient(conn)
}

// rest is Eddy's REST client, to look at instances and incidents, which
// the Zeebe protocol cannot.
func (e *eddy) rest() *rest.Client { return rest.NewClient(e.http, nil) }

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard
	t.Cleanup(cancel)
	return ctx
}

// fixture reads a file of the gateway's testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
