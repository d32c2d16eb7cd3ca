package feel

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEvalData runs the cases in testdata/eval/*.txt. Each line is
//
//	expression => expected
//
// where expected is the result as Value.String writes it (null, 3, "a",
// [1, 2], @"2024-01-31"), "error: text" for an evaluation error whose
// message contains text, or "compile error: text" for a compile error
// whose "line:col: message" contains text. Directives set the environment
// for the lines after them:
//
//	vars {"x": 1}                 variables, as a JSON object
//	now 2024-05-01T10:00:00Z      the current time (RFC 3339)
//	names order total, a-b        names declared with WithNames
//
// Lines starting with # are comments.
func TestEvalData(t *testing.T) {
	files, err := filepath.Glob("testdata/eval/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { runEvalFile(t, file) })
	}
}

func runEvalFile(t *testing.T, file string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var env Env
	var names []string
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		where := file + ":" + strconv.Itoa(line)
		switch {
		case strings.HasPrefix(text, "vars "):
			v, err := FromJSON([]byte(strings.TrimPrefix(text, "vars ")))
			if err != nil || v.Kind() != KindContext {
				t.Fatalf("%s: bad vars: %v", where, err)
			}
			c, _ := v.AsContext()
			env.Vars = c
			continue
		case strings.HasPrefix(text, "now "):
			now, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(text, "now "))
			if err != nil {
				t.Fatalf("%s: bad now: %v", where, err)
			}
			env.Now = now
			continue
		case strings.HasPrefix(text, "names "):
			names = strings.Split(strings.TrimPrefix(text, "names "), ", ")
			continue
		}
		src, want, ok := strings.Cut(text, " => ")
		if !ok {
			t.Fatalf("%s: no ' => ' in %q", where, text)
		}
		checkCase(t, where, src, want, env, names)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func checkCase(t *testing.T, where, src, want string, env Env, names []string) {
	t.Helper()
	e, err := Compile(src, WithNames(names...))
	if wantErr, isCompileErr := strings.CutPrefix(want, "compile error: "); isCompileErr {
		if err == nil {
			t.Errorf("%s: %s: compiled, want compile error %q", where, src, wantErr)
		} else if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %s: compile error %q, want %q", where, src, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %s: compile error: %v", where, src, err)
		return
	}
	v, err := e.Eval(env)
	if wantErr, isErr := strings.CutPrefix(want, "error: "); isErr {
		if err == nil {
			t.Errorf("%s: %s = %s, want error %q", where, src, v, wantErr)
		} else if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %s: error %q, want %q", where, src, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %s: error: %v", where, src, err)
		return
	}
	if got := v.String(); got != want {
		t.Errorf("%s: %s = %s, want %s", where, src, got, want)
	}
}
