package proctest

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestStartWaitStop runs a shell that logs two lines and exits 0 on
// SIGTERM, as a well-behaved server does.
func TestStartWaitStop(t *testing.T) {
	p := Start(t, exec.Command("sh", "-c", `trap 'echo stopping >&2; exit 0' TERM
echo "starting" >&2
echo "ready port=4242" >&2
while :; do sleep 0.05; done`))
	m := p.WaitFor(t, regexp.MustCompile(`ready port=(\d+)`))
	if m[1] != "4242" {
		t.Fatalf("WaitFor matched %q", m)
	}
	if p.Exited() {
		t.Fatal("the program counts as exited while it runs")
	}
	p.Stop(t)
	if !p.Exited() {
		t.Fatal("the program does not count as exited after Stop")
	}
	if log := p.Log(); !strings.HasPrefix(log, "starting\nready port=4242") || !strings.Contains(log, "stopping") {
		t.Errorf("Log = %q", log)
	}
	p.Stop(t) // a second Stop does nothing
}
