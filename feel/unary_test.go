package feel

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestUnaryTestsData runs testdata/unary.txt: "input | tests => result",
// the input a FEEL expression, the result true, false, "compile error:
// text" or "error: text". The variable x is 5.
func TestUnaryTestsData(t *testing.T) {
	f, err := os.Open("testdata/unary.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := Env{Vars: MapScope{"x": Int(5)}}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		where := "unary.txt:" + strconv.Itoa(line)
		in, rest, ok1 := strings.Cut(text, " | ")
		src, want, ok2 := strings.Cut(rest, " => ")
		if !ok1 || !ok2 {
			t.Fatalf("%s: want \"input | tests => result\", got %q", where, text)
		}
		input, err := MustCompile(in).Eval(env)
		if err != nil {
			t.Fatalf("%s: input %s: %v", where, in, err)
		}
		u, err := CompileUnaryTests(src)
		if wantErr, ok := strings.CutPrefix(want, "compile error: "); ok {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: %s: compile error %v, want %q", where, src, err, wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %s: compile error: %v", where, src, err)
			continue
		}
		got, err := u.Match(input, env)
		if wantErr, ok := strings.CutPrefix(want, "error: "); ok {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: %s: error %v, want %q", where, src, err, wantErr)
			}
			continue
		}
		if err != nil || strconv.FormatBool(got) != want {
			t.Errorf("%s: %s with input %s = %v (%v), want %s", where, src, input, got, err, want)
		}
	}
}
