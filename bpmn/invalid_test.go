package bpmn

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInvalidModels loads each model of testdata/invalid and compares the
// problems reported with those its closing comment lists, one per line:
//
//	<!-- want
//	12:5: Task_1: the service task has no job type: ...
//	-->
//
// The comment comes after the root element, so writing it moves no line.
func TestInvalidModels(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.bpmn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := wantedProblems(t, string(src))
			_, err = Load(src)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Load: %v, want a *Error", err)
			}
			var got []string
			for _, p := range e.Problems {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if e.Error() != strings.Join(got, "\n") {
				t.Errorf("Error() does not print every problem on its own line:\n%s", e.Error())
			}
		})
	}
}

func wantedProblems(t *testing.T, src string) []string {
	i := strings.LastIndex(src, "<!-- want\n")
	if i < 0 {
		t.Fatal("the fixture has no <!-- want comment")
	}
	body, _, ok := strings.Cut(src[i+len("<!-- want\n"):], "-->")
	if !ok {
		t.Fatal("the want comment is not closed")
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		want = append(want, strings.TrimSpace(line))
	}
	return want
}
