package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Paths TestMain sets: the binaries it builds, and the conformance tool's
// module directory, whose yaml/ holds the tool's own example events.
var eddyBinary, toolBinary, toolModule string

// TestMain builds eddy and the conformance tool once.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eddy-conformance")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eddyBinary, toolBinary = filepath.Join(dir, "eddy"), filepath.Join(dir, "cloudevents")
	for _, build := range [][]string{
		{"go", "build", "-o", eddyBinary, "eddy/cmd/eddy"},
		{"go", "build", "-o", toolBinary, "github.com/cloudevents/conformance/cmd/cloudevents"},
	} {
		if out, err := exec.Command(build[0], build[1:]...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%v: %v\n%s", build, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cloudevents/conformance").Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "locating the conformance tool's module: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	toolModule = strings.TrimSpace(string(out))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
