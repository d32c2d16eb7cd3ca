package killtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"eddy/api/rest"
	"eddy/internal/pgtest"
)

// partitions is more than one, so that messages and instances live apart
// and correlation crosses partitions.
const partitions = 3

// cycles is how many times each backend is killed (once with -short).
func cycles() int {
	if testing.Short() {
		return 1
	}
	return 3
}

// At least this much must be acknowledged in a cycle before the kill, so
// that the kill lands in the middle of every kind of work.
var killAfter = counts{creates: 200, completions: 100, publishes: 60}

// TestAcknowledgedWorkSurvivesKill kills `eddy dev` under load, on each
// backend, and checks after each restart that everything it acknowledged
// is there (see the package documentation).
func TestAcknowledgedWorkSurvivesKill(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) (args []string, location string)
	}{
		{"pebble", func(t *testing.T) ([]string, string) {
			dir := filepath.Join(t.TempDir(), "data")
			return []string{"--data", dir}, dir
		}},
		{"postgres", func(t *testing.T) ([]string, string) {
			dsn := pgtest.Schema(t)
			// A restarted node takes the killed one's partitions once its
			// claims are this old.
			return []string{"--storage", "postgres", "--dsn", dsn, "--claim-timeout", "500ms"}, dsn
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			args, location := b.open(t)
			runKills(t, b.name, location, args)
		})
	}
}

func runKills(t *testing.T, backend, location string, args []string) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("EDDY_KILLTEST_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("EDDY_KILLTEST_SEED=%q is not a seed: %v", s, err)
		}
	}
	t.Logf("kill delays from seed %d (EDDY_KILLTEST_SEED sets it)", seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a guard
	defer cancel()

	found := newFindings()
	led := newLedger(partitions, found)
	n := startNode(t, partitions, args...)
	deploy(ctx, t, n.client)
	for cycle := 1; cycle <= cycles(); cycle++ {
		loadCtx, stopLoad := context.WithCancel(ctx)
		l := &load{client: n.client, led: led, found: found, cycle: cycle}
		wait := l.start(loadCtx)
		awaitAcks(t, n, led)
		// A random moment more, so that kills land in every phase of a
		// commit.
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		n.kill()
		stopLoad()
		wait()
		acks := led.cycleAcks()

		n = startNode(t, partitions, args...)
		led.restarted()
		verify(ctx, n.client, led, found)
		probeKeys(ctx, n.client, led, found)
		t.Logf("kill %d: %d creates, %d job completions, %d publishes acknowledged in the cycle; all checked after the restart",
			cycle, acks.creates, acks.completions, acks.publishes)
		if found.report(t, fmt.Sprintf("after kill %d", cycle)) {
			return
		}
	}

	finish(ctx, n.client, led, found)
	verify(ctx, n.client, led, found)
	instances, messages := led.snapshot()
	if found.report(t, "after running every instance to its end") {
		return
	}
	t.Logf("%d instances ran to their end, %d messages kept their ids", len(instances), len(messages))
	n.stop()
	checkLogs(ctx, t, backend, location, instances)
}

// awaitAcks waits until the cycle's load has been acknowledged enough of
// each kind.
func awaitAcks(t *testing.T, n *node, led *ledger) {
	t.Helper()
	deadline := time.Now().Add(startGuard)
	for {
		got := led.cycleAcks()
		if got.creates >= killAfter.creates && got.completions >= killAfter.completions && got.publishes >= killAfter.publishes {
			return
		}
		if !n.running() {
			t.Fatalf("eddy ended under load:\n%s", n.log.tail(40))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load got only %+v acknowledged in %v, want %+v:\n%s", got, startGuard, killAfter, n.log.tail(40))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func deploy(ctx context.Context, t *testing.T, c *rest.Client) {
	t.Helper()
	var files []rest.File
	for _, name := range []string{"killtest-task.bpmn", "killtest-paid.bpmn"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rest.File{Name: name, Content: data})
	}
	res, err := c.Deploy(ctx, files...)
	if err != nil {
		t.Fatalf("deploying: %v", err)
	}
	if len(res.Processes) != 2 {
		t.Fatalf("deploying two processes gave %+v", res.Processes)
	}
}

// finish runs every instance to its end: every order gets its message and
// every job is completed, including jobs held by workers of the killed
// process, which come back when their timeout runs out.
func finish(ctx context.Context, c *rest.Client, led *ledger, found *findings) {
	_, messages := led.snapshot()
	for _, m := range messages {
		if m.acked {
			continue
		}
		led.publishing(m.orderID)
		res, err := c.PublishMessage(ctx, paidMessage(m.orderID))
		var p *rest.Problem
		switch {
		case err == nil:
			led.published(m.orderID, res.MessageKey)
		case errors.As(err, &p) && p.Status == http.StatusConflict:
			led.published(m.orderID, 0)
		default:
			found.add("request failed", "publishing the message of order %s: %v", m.orderID, err)
		}
	}
	deadline := time.Now().Add(loadJobTimeout + settleGuard)
	for led.unfinished() > 0 && time.Now().Before(deadline) {
		for _, at := range []stage{atWork, atFinish, atShip} {
			jobs, err := c.ActivateJobs(ctx, rest.ActivateJobsRequest{Type: jobType[at], Worker: "killtest-finish",
				Timeout: rest.Millis(time.Minute), MaxJobsToActivate: 100, RequestTimeout: rest.Millis(50 * time.Millisecond)})
			if err != nil {
				found.add("request failed", "activating %s jobs: %v", jobType[at], err)
				return
			}
			each(jobs, func(j rest.Job) {
				led.activated(j)
				err := c.CompleteJob(ctx, j.Key, rest.CompleteJobRequest{})
				if err != nil {
					found.add("request failed", "completing job %d of process instance %d: %v", j.Key, j.ProcessInstanceKey, err)
					return
				}
				led.completed(j, true)
			})
		}
	}
	if left := led.unfinished(); left > 0 {
		instances, _ := led.snapshot()
		var stuck []string
		for _, in := range instances {
			if in.stage != ended && len(stuck) < 8 {
				stuck = append(stuck, in.String())
			}
		}
		found.add("instances never ended", "%d instances did not end within %v: %v", left, loadJobTimeout+settleGuard, stuck)
	}
}
