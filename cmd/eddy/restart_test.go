package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"eddy/api/rest"
	"eddy/internal/pgtest"
	"eddy/record"
)

// refusedCommits makes PostgreSQL refuse the commits of one partition on
// demand: a trigger on the log table raises while the partition has a row
// in a control table. The whole transaction of the commit fails, as on a
// real storage error, and nothing of it is written.
type refusedCommits struct{ dsn string }

func installRefusedCommits(t *testing.T, dsn string) refusedCommits {
	t.Helper()
	pgtest.Exec(t, dsn,
		`CREATE TABLE restart_test_refused (partition int PRIMARY KEY)`,
		// The node's connections have the same search_path; FROM CURRENT
		// keeps the function on this schema whatever they have.
		`CREATE FUNCTION restart_test_refuse() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
		BEGIN
			IF EXISTS (SELECT 1 FROM restart_test_refused WHERE partition = NEW.partition) THEN
				RAISE EXCEPTION 'the test refuses commits of partition %', NEW.partition;
			END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER restart_test_refuse BEFORE INSERT ON eddy_log FOR EACH ROW EXECUTE FUNCTION restart_test_refuse()`,
	)
	return refusedCommits{dsn}
}

func (r refusedCommits) refuse(t *testing.T, partition int) {
	t.Helper()
	pgtest.Exec(t, r.dsn, fmt.Sprintf(`INSERT INTO restart_test_refused VALUES (%d)`, partition))
}

func (r refusedCommits) accept(t *testing.T) {
	t.Helper()
	pgtest.Exec(t, r.dsn, `DELETE FROM restart_test_refused`)
}

// TestEngineRestartsAfterFailedCommit runs `eddy dev` on PostgreSQL and
// makes the commits of one partition fail. The node must say so, start its
// engine again on the partitions it holds (the same process, on the same
// port), answer requests during the failure with a clear error, and, once
// commits pass again, have every instance it acknowledged before, in the
// state it acknowledged, and take new ones.
func TestEngineRestartsAfterFailedCommit(t *testing.T) {
	dsn := pgtest.Schema(t)
	n := startEddy(t, "dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", "")
	ready := n.waitFor(t, "eddy is ready")
	if !strings.Contains(ready, "claimed=2") {
		t.Fatalf("the node did not claim both partitions: %s", ready)
	}
	// The client's timeout is a guard against a request that hangs.
	address := "http://" + httpAddress(t, ready)
	client := rest.NewClient(address, &http.Client{Timeout: time.Minute})
	refused := installRefusedCommits(t, dsn)
	ctx := context.Background()

	// A worker's long poll is in flight on the engine when it stops.
	type pollResult struct {
		jobs []rest.Job
		err  error
	}
	longPoll := make(chan pollResult, 1)
	go func() {
		c := rest.NewClient(address, &http.Client{Timeout: 5 * time.Minute})
		jobs, err := c.ActivateJobs(ctx, rest.ActivateJobsRequest{Type: "restart-idle", Worker: "poller", Timeout: rest.Millis(time.Minute), MaxJobsToActivate: 1, RequestTimeout: rest.Millis(4 * time.Minute)})
		longPoll <- pollResult{jobs, err}
	}()

	model, err := os.ReadFile("testdata/two-tasks.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Deploy(ctx, rest.File{Name: "two-tasks.bpmn", Content: model}); err != nil {
		t.Fatalf("deploying: %v", err)
	}
	before := createInstances(t, client, 8)
	// Their first jobs are activated before the failure, completed after it.
	workJobs := activateAll(t, client, "restart-work", before)

	var victim rest.Key
	for key := range before {
		victim = key
		break
	}
	failing := record.PartitionOf(int64(victim))
	stoppedPartition := fmt.Sprintf("partition %d", failing)
	refused.refuse(t, failing)

	// A request whose commit fails is answered with the failure.
	err = client.SetVariables(ctx, victim, rest.SetVariablesRequest{Variables: json.RawMessage(`{"lost": 1}`)})
	assertClearFailure(t, "the request whose commit fails", err, stoppedPartition)
	if line := n.waitFor(t, `msg="partition stopped"`); !strings.Contains(line, fmt.Sprintf("partition=%d ", failing)) || !strings.Contains(line, "the test refuses commits") {
		t.Errorf("the node's log does not name the partition and the cause: %s", line)
	}
	n.waitFor(t, "a partition stopped on a failed commit")
	if line := n.waitFor(t, "engine restarted on the held partitions"); !strings.Contains(line, "partitions=2") {
		t.Errorf("the engine restarted on other partitions: %s", line)
	}
	// The storage still fails: the restarted engine fails again, says so,
	// and starts once more.
	err = client.SetVariables(ctx, victim, rest.SetVariablesRequest{Variables: json.RawMessage(`{"lost": 2}`)})
	assertClearFailure(t, "a request while the storage still fails", err, stoppedPartition)
	n.waitFor(t, "a partition stopped on a failed commit")
	n.waitFor(t, "engine restarted on the held partitions")
	// Started before the instances, the long poll was on one of the two
	// engines that stopped: it is answered, not left to its timeout.
	select {
	case r := <-longPoll:
		if r.err == nil && len(r.jobs) > 0 {
			t.Errorf("the long poll got jobs of a type nobody created: %+v", r.jobs)
		}
		if r.err != nil {
			assertClearFailure(t, "the long poll in flight", r.err, "")
		}
	case <-time.After(time.Minute): // a guard, not a measurement
		t.Fatal("a long poll in flight when the engine stopped is still waiting")
	}

	refused.accept(t)
	retry(t, "setting a variable once commits pass again", func() error {
		return client.SetVariables(ctx, victim, rest.SetVariablesRequest{Variables: json.RawMessage(`{"after": true}`)})
	})

	// Every instance acknowledged before is there, at its first task, and
	// nothing of the refused commits is.
	for key := range before {
		inst, err := client.Instance(ctx, key)
		if err != nil {
			t.Fatalf("instance %d acknowledged before the failure: %v", key, err)
		}
		if !atElement(inst, "work") {
			t.Errorf("instance %d is not at its first task: %+v", key, inst.ElementInstances)
		}
		if _, ok := inst.Variables["lost"]; ok {
			t.Errorf("instance %d has a variable whose commit failed: %s", key, inst.Variables["lost"])
		}
		if _, ok := inst.Variables["after"]; ok != (key == victim) {
			t.Errorf("instance %d: variable set after the recovery present=%v, victim %d", key, ok, victim)
		}
	}
	// Jobs activated before the failure are completed after it, then the
	// instances are driven to their end.
	for key, job := range workJobs {
		if err := client.CompleteJob(ctx, job, rest.CompleteJobRequest{}); err != nil {
			t.Fatalf("completing job %d of instance %d, activated before the failure: %v", job, key, err)
		}
	}
	driveToEnd(t, client, before)

	// New instances work as before.
	after := createInstances(t, client, 4)
	completeAll(t, client, activateAll(t, client, "restart-work", after))
	driveToEnd(t, client, after)

	// All along it was the same process, which never got ready again.
	if err := n.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the node is gone: %v", err)
	}
	n.stop(t)
	readies := 0
	for _, line := range n.seen {
		if strings.Contains(line, "eddy is ready") {
			readies++
		}
	}
	if readies != 1 {
		t.Errorf("the node got ready %d times:\n%s", readies, strings.Join(n.seen, "\n"))
	}
}

// assertClearFailure checks that err is a problem the server sent: a
// server-side failure that names what failed (when want is set).
func assertClearFailure(t *testing.T, what string, err error, want string) {
	t.Helper()
	var p *rest.Problem
	switch {
	case err == nil:
		t.Errorf("%s succeeded", what)
	case !errors.As(err, &p):
		t.Errorf("%s: no answer from the server: %v", what, err)
	case p.Status != http.StatusInternalServerError && p.Status != http.StatusServiceUnavailable:
		t.Errorf("%s: status %d: %v", what, p.Status, p)
	case !strings.Contains(p.Detail, want):
		t.Errorf("%s: the problem does not name %q: %v", what, want, p)
	default:
		t.Logf("%s: %d %s", what, p.Status, p.Detail)
	}
}

// retry calls f until it succeeds; a guard of two minutes ends it.
func retry(t *testing.T, what string, f func() error) {
	t.Helper()
	var err error
	for guard := time.Now().Add(2 * time.Minute); time.Now().Before(guard); time.Sleep(50 * time.Millisecond) {
		if err = f(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// createInstances creates count instances of two-tasks and returns their
// keys. Each create is retried while the engine is restarting (the deploy
// itself is on every partition before it answers). Where the instances go
// is the engine's choice: the test does not depend on it.
func createInstances(t *testing.T, c *rest.Client, count int) map[rest.Key]bool {
	t.Helper()
	keys := map[rest.Key]bool{}
	partitions := map[int]int{}
	for len(keys) < count {
		retry(t, "creating an instance", func() error {
			inst, err := c.CreateInstance(context.Background(), rest.CreateInstanceRequest{BpmnProcessID: "two-tasks"})
			if err == nil {
				keys[inst.ProcessInstanceKey] = true
				partitions[record.PartitionOf(int64(inst.ProcessInstanceKey))]++
			}
			return err
		})
	}
	t.Logf("instances by partition: %v", partitions)
	return keys
}

// activateAll activates the jobs of jobType until it has one for each
// instance, and returns their keys by instance.
func activateAll(t *testing.T, c *rest.Client, jobType string, instances map[rest.Key]bool) map[rest.Key]rest.Key {
	t.Helper()
	jobs := map[rest.Key]rest.Key{}
	retry(t, "activating the jobs of "+jobType, func() error {
		got, err := c.ActivateJobs(context.Background(), rest.ActivateJobsRequest{Type: jobType, Worker: "restart-test", Timeout: rest.Millis(10 * time.Minute), MaxJobsToActivate: len(instances)})
		if err != nil {
			return err
		}
		for _, j := range got {
			if !instances[j.ProcessInstanceKey] {
				t.Fatalf("a job of instance %d, which is not one of this batch", j.ProcessInstanceKey)
			}
			if _, dup := jobs[j.ProcessInstanceKey]; dup {
				t.Fatalf("instance %d got a second %s job", j.ProcessInstanceKey, jobType)
			}
			jobs[j.ProcessInstanceKey] = j.Key
		}
		if len(jobs) < len(instances) {
			return fmt.Errorf("%d of %d jobs", len(jobs), len(instances))
		}
		return nil
	})
	return jobs
}

func completeAll(t *testing.T, c *rest.Client, jobs map[rest.Key]rest.Key) {
	t.Helper()
	for inst, job := range jobs {
		if err := c.CompleteJob(context.Background(), job, rest.CompleteJobRequest{}); err != nil {
			t.Fatalf("completing job %d of instance %d: %v", job, inst, err)
		}
	}
}

// driveToEnd takes instances at their second task to their end.
func driveToEnd(t *testing.T, c *rest.Client, instances map[rest.Key]bool) {
	t.Helper()
	for key := range instances {
		inst, err := c.Instance(context.Background(), key)
		if err != nil || !atElement(inst, "finish") {
			t.Fatalf("instance %d is not at its second task: %v %+v", key, err, inst.ElementInstances)
		}
	}
	completeAll(t, c, activateAll(t, c, "restart-finish", instances))
	for key := range instances {
		retry(t, fmt.Sprintf("instance %d ending", key), func() error {
			_, err := c.Instance(context.Background(), key)
			var p *rest.Problem
			if errors.As(err, &p) && p.Status == http.StatusNotFound {
				return nil
			}
			return fmt.Errorf("still there (%v)", err)
		})
	}
}

func atElement(inst rest.Instance, id string) bool {
	for _, e := range inst.ElementInstances {
		if e.ElementID == id {
			return true
		}
	}
	return false
}

// TestRestartsAfterFailedCommitsAreSpaced makes a partition fail on work
// that survives every restart: the deployment it reads from the other
// partition's log. The node restarts the engine at once the first time,
// then waits longer each time, serving on meanwhile, and the partition
// takes the deployment once commits pass again.
func TestRestartsAfterFailedCommitsAreSpaced(t *testing.T) {
	dsn := pgtest.Schema(t)
	n := startEddy(t, "dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", "")
	ready := n.waitFor(t, "eddy is ready")
	address := "http://" + httpAddress(t, ready)
	client := rest.NewClient(address, &http.Client{Timeout: time.Minute})
	refused := installRefusedCommits(t, dsn)
	ctx := context.Background()

	// Deployments are made on the first partition: the second fails on it.
	refused.refuse(t, 1)
	logged := logLength(t, dsn, 1)
	model, err := os.ReadFile("testdata/noop.bpmn")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Deploy(ctx, rest.File{Name: "noop.bpmn", Content: model}); err != nil {
		t.Fatalf("deploying: %v", err)
	}
	var delays []time.Duration
	for len(delays) < 4 {
		line := n.waitFor(t, "a partition stopped on a failed commit")
		m := regexp.MustCompile(` after=(\S+)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("the restart does not say when: %s", line)
		}
		d, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatalf("the restart's delay %q: %v", m[1], err)
		}
		delays = append(delays, d)
	}
	if delays[0] != 0 || !slices.IsSorted(delays) || delays[1] == delays[2] || delays[2] == delays[3] {
		t.Errorf("restarts after failures came after %v: want at once, then longer and longer", delays)
	}
	// Meanwhile a request is answered: served, or refused for the partition.
	if _, err := client.ActivateJobs(ctx, rest.ActivateJobsRequest{Type: "restart-idle", Worker: "w", Timeout: rest.Millis(time.Minute), MaxJobsToActivate: 1}); err != nil {
		assertClearFailure(t, "activating jobs during the failure", err, "partition")
	}

	refused.accept(t)
	retry(t, "the failed partition taking the deployment", func() error {
		if now := logLength(t, dsn, 1); now <= logged {
			return fmt.Errorf("partition 1 logged nothing since the failure")
		}
		return nil
	})
	retry(t, "activating jobs on every partition", func() error {
		_, err := client.ActivateJobs(ctx, rest.ActivateJobsRequest{Type: "restart-idle", Worker: "w", Timeout: rest.Millis(time.Minute), MaxJobsToActivate: 1})
		return err
	})
	if stdout, stderr, code := eddy(t, "run", "noop", "--wait", "--address", address); code != 0 || !strings.Contains(stdout, `"COMPLETED"`) {
		t.Fatalf("running an instance after the recovery: %s %s", stdout, stderr)
	}
	n.stop(t)
}

// logLength counts the records of a partition's log.
func logLength(t *testing.T, dsn string, partition int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var count int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM eddy_log WHERE partition = $1`, partition).Scan(&count); err != nil {
		t.Fatal(err)
	}
	return count
}
