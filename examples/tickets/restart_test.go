package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination the app's goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestEarlierRunIsTold: the example started again on a data directory an
// earlier run left says that its services start afresh (they keep their
// state in memory, so tickets sold before would be on sale again); a first
// run on a new directory says nothing of the kind.
func TestEarlierRunIsTold(t *testing.T) {
	dir := t.TempDir()
	for run, want := range []bool{false, true} {
		var logs lockedBuffer
		a := startTest(t, config{Model: "v1", Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		a.close()
		if told := strings.Contains(logs.String(), "tickets sold before are on sale again"); told != want {
			t.Fatalf("run %d: told of an earlier run: %v, want %v\n%s", run+1, told, want, logs.String())
		}
	}
}
