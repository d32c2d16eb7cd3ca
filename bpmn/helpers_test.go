package bpmn

import (
	"os"
	"path/filepath"
	"testing"
)

// loadFile loads a fixture that must be valid.
func loadFile(t testing.TB, path string) *Deployment {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Load(src)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// loadProcess loads a valid fixture of testdata/valid with one process.
func loadProcess(t testing.TB, name string) *Process {
	t.Helper()
	d := loadFile(t, filepath.Join("testdata", "valid", name))
	if len(d.Processes) != 1 {
		t.Fatalf("%s: %d processes, want 1", name, len(d.Processes))
	}
	return d.Processes[0]
}

// element returns the element with the id, failing the test if absent.
func element(t testing.TB, p *Process, id string) *Element {
	t.Helper()
	e, ok := p.Lookup(id)
	if !ok {
		t.Fatalf("process %s has no element %q", p.ID, id)
	}
	return e
}

// ids returns the ids of elements.
func ids(p *Process, is []ElementIndex) []string {
	out := []string{}
	for _, i := range is {
		out = append(out, p.Elements[i].ID)
	}
	return out
}

// flowIDs returns the ids of flows.
func flowIDs(p *Process, fs []FlowIndex) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, p.Flows[f].ID)
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// expr builds the Expression a check expects (position not compared).
func expr(s string) Expression { return valueOf(s, 0, 0) }

// sameExpr compares an expression with what the modeler wrote.
func sameExpr(e *Expression, written string) bool {
	if e == nil {
		return written == ""
	}
	want := expr(written)
	return e.Source == want.Source && e.Static == want.Static
}
