package http1

import (
	"log"
	"strings"
	"sync"
)

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newLogger(mu *sync.Mutex, b *strings.Builder) *log.Logger {
	return log.New(lockedWriter{mu, b}, "", 0)
}
