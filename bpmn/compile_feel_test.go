package bpmn

import (
	"path/filepath"
	"testing"
)

// TestExpressionsCompiled checks that Compile leaves every FEEL expression
// of the valid models parsed, and every literal alone.
func TestExpressionsCompiled(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if filepath.Base(filepath.Dir(f)) == "invalid" {
			continue
		}
		for _, p := range loadFile(t, f).Processes {
			var all []*Expression
			for i := range p.Elements {
				all = append(all, elementExpressions(&p.Elements[i])...)
			}
			for i := range p.Flows {
				all = append(all, p.Flows[i].Condition)
			}
			for _, e := range all {
				switch {
				case e == nil:
				case e.Static && e.Compiled != nil:
					t.Errorf("%s: the literal %q was compiled", f, e.Source)
				case !e.Static && (e.Compiled == nil || e.Compiled.Source() != e.Source):
					t.Errorf("%s: the expression %q was not compiled", f, e.Source)
				default:
					checked++
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d expressions checked", checked)
	}
}
