package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown backend", []string{"dev", "--storage", "cassandra"}, 2, `unknown storage backend "cassandra"`},
		{"unreachable postgres", []string{"dev", "--storage", "postgres", "--dsn", "postgres://postgres@127.0.0.1:1/test?connect_timeout=5"}, 1, "127.0.0.1"},
		{"postgres without dsn", []string{"dev", "--storage", "postgres"}, 2, "needs --dsn"},
		{"dsn with pebble", []string{"dev", "--dsn", "postgres://x"}, 2, "--dsn is for --storage postgres"},
		{"unwritable data directory", []string{"dev", "--data", filepath.Join(file, "data")}, 1, "not a directory"},
		{"unknown flag", []string{"dev", "--colour"}, 2, "unknown flag: --colour"},
		{"bad flag value", []string{"dev", "--partitions", "many"}, 2, "--partitions"},
		{"partitions out of range", []string{"dev", "--partitions", "100000"}, 2, "invalid --partitions 100000"},
		{"unexpected argument", []string{"dev", "now"}, 2, "takes no arguments"},
		{"unknown command", []string{"start"}, 2, "start"},
		{"bad log level", []string{"dev", "--log-level", "loud"}, 2, "--log-level"},
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
		})
	}
}

func TestVersion(t *testing.T) {
	stdout, _, code := eddy(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "eddy ") {
		t.Fatalf("eddy version: exit %d, %q", code, stdout)
	}
}

// TestDevStartsAndStopsCleanly runs `eddy dev` twice on one data directory:
// it gets ready, stops on SIGTERM with exit 0, and starts again on what it
// left.
func TestDevStartsAndStopsCleanly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, binary, "dev", "--data", dir, "--partitions", "4")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		var seen []string
		ready := false
		for !ready && sc.Scan() {
			seen = append(seen, sc.Text())
			ready = strings.Contains(sc.Text(), "eddy is ready")
		}
		if !ready {
			cancel()
			cmd.Wait()
			t.Fatalf("run %d: never ready: %s", run, strings.Join(seen, "\n"))
		}
		if !strings.Contains(seen[len(seen)-1], "partitions=4") || !strings.Contains(seen[len(seen)-1], "claimed=4") {
			t.Errorf("run %d: ready line does not report the 4 claimed partitions: %s", run, seen[len(seen)-1])
		}
		cmd.Process.Signal(syscall.SIGTERM)
		for sc.Scan() {
			seen = append(seen, sc.Text())
		}
		err = cmd.Wait()
		cancel()
		if err != nil {
			t.Fatalf("run %d: exit after SIGTERM: %v\n%s", run, err, strings.Join(seen, "\n"))
		}
		if !strings.Contains(strings.Join(seen, "\n"), "eddy stopped") {
			t.Fatalf("run %d: no clean stop:\n%s", run, strings.Join(seen, "\n"))
		}
	}
}
