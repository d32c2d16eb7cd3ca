package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Paths of the binaries TestMain builds.
var eddyBinary, zbctlBinary string

// TestMain builds eddy and zbctl once; the tests run them as users do. Run
// with workerEnv set, the test binary is the benchmark's job worker
// process instead.
func TestMain(m *testing.M) {
	if addr := os.Getenv(workerEnv); addr != "" {
		os.Exit(runWorker(addr))
	}
	dir, err := os.MkdirTemp("", "eddy-zeebe-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	eddyBinary, zbctlBinary = filepath.Join(dir, "eddy"), filepath.Join(dir, "zbctl")
	for _, build := range [][]string{
		{"go", "build", "-o", eddyBinary, "eddy/cmd/eddy"},
		{"go", "build", "-o", zbctlBinary, "github.com/camunda/zeebe/clients/go/v8/cmd/zbctl"},
	} {
		if out, err := exec.Command(build[0], build[1:]...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%v: %v\n%s", build, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
