package killtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// findings collects broken promises by kind, so that a lost batch of a
// thousand writes reads as one failure with examples, not a thousand lines.
type findings struct {
	mu     sync.Mutex
	kinds  []string
	byKind map[string][]string
}

func newFindings() *findings { return &findings{byKind: map[string][]string{}} }

func (f *findings) add(kind, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byKind[kind]; !ok {
		f.kinds = append(f.kinds, kind)
	}
	f.byKind[kind] = append(f.byKind[kind], fmt.Sprintf(format, args...))
}

// report fails t with what was found since the last report, if anything,
// and says whether it did.
func (f *findings) report(t *testing.T, when string) bool {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, kind := range f.kinds {
		cases := f.byKind[kind]
		examples := cases[:min(len(cases), 8)]
		t.Errorf("%s: %s, %d case(s):\n  %s", when, kind, len(cases), strings.Join(examples, "\n  "))
	}
	failed := len(f.kinds) > 0
	f.kinds, f.byKind = nil, map[string][]string{}
	return failed
}
