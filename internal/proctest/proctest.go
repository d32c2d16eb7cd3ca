// Package proctest runs programs from tests as a user runs them: it starts
// one, collects the lines it writes to stderr, waits for the line that
// says it is ready, and ends it with SIGTERM, checking that it stops
// cleanly, or kills it when the test ends.
package proctest

import (
	"bufio"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// guard bounds every wait: it catches a hang, it measures nothing.
const guard = time.Minute

// Process is a program a test started.
type Process struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{} // closed once the program has exited
	err   error         // what Wait returned, once done is closed

	mu   sync.Mutex
	seen []string
}

// Start starts cmd, whose Stderr must be unset, and kills it when the test
// ends if it still runs. Its stderr lines are kept for WaitFor and Log.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	p := &Process{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.seen = append(p.seen, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody has waited for a while: Log still has the line
			}
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Log is every stderr line read so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.seen, "\n")
}

// WaitFor returns the submatches of the first stderr line re matches,
// failing the test if the program exits or a minute passes first. It sees
// the lines written since the last WaitFor; once 1,024 lines wait unread,
// later ones reach Log only.
func (p *Process) WaitFor(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s exited before writing a line matching %s:\n%s", p.cmd.Path, re, p.Log())
			}
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			t.Fatalf("%s wrote no line matching %s within %v:\n%s", p.cmd.Path, re, guard, p.Log())
		}
	}
}

// Exited reports whether the program has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the program with SIGTERM, as a user would, and fails the test
// unless it exits with status 0 within 30 seconds.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s exited with %v after SIGTERM:\n%s", p.cmd.Path, p.err, p.Log())
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 30s of SIGTERM:\n%s", p.cmd.Path, p.Log())
	}
}
