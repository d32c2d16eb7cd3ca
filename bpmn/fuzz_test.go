package bpmn

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds any bytes to the parser and the compiler: they must not
// panic or hang, a failure must be a *Error with located problems, and a
// success must be a consistent graph.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob("testdata/*/*.bpmn")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p" isExecutable="true"><startEvent id="s"/></process></definitions>`))
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := Load(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || len(e.Problems) == 0 {
				t.Fatalf("error %v (%T) is not a *Error with problems", err, err)
			}
			for _, p := range e.Problems {
				if p.Message == "" || p.Line < 1 || p.Col < 1 {
					t.Fatalf("problem without message or position: %+v", p)
				}
			}
			return
		}
		for _, p := range d.Processes {
			checkGraph(t, p)
		}
	})
}

// checkGraph checks the invariants the engine relies on.
func checkGraph(t *testing.T, p *Process) {
	t.Helper()
	n := ElementIndex(len(p.Elements))
	valid := func(i ElementIndex) bool { return i >= 0 && i < n }
	for i := range p.Elements {
		e := &p.Elements[i]
		if e.Index != ElementIndex(i) || (i > 0 && !valid(e.Parent)) {
			t.Fatalf("element %d: index %d parent %d", i, e.Index, e.Parent)
		}
		for _, f := range e.Outgoing {
			if p.Flows[f].Source != e.Index || !valid(p.Flows[f].Target) {
				t.Fatalf("flow %s leaves %s but has source %d target %d", p.Flows[f].ID, e.ID, p.Flows[f].Source, p.Flows[f].Target)
			}
		}
		for _, f := range e.Incoming {
			if p.Flows[f].Target != e.Index {
				t.Fatalf("flow %s enters %s but has target %d", p.Flows[f].ID, e.ID, p.Flows[f].Target)
			}
		}
		for _, b := range e.Boundaries {
			if p.Elements[b].AttachedTo != e.Index {
				t.Fatalf("boundary %s of %s is attached to %d", p.Elements[b].ID, e.ID, p.Elements[b].AttachedTo)
			}
		}
		for _, c := range e.Children {
			if p.Elements[c].Parent != e.Index {
				t.Fatalf("child %s of %s has parent %d", p.Elements[c].ID, e.ID, p.Elements[c].Parent)
			}
		}
	}
}
