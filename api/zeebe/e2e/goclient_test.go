package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/api/rest"
)

// TestGoClient drives one `eddy dev` process with the Zeebe Go client
// v8.3.0 through what applications do with it.
func TestGoClient(t *testing.T) {
	e := startEddy(t, nil)
	c, raw := e.client(t), e.raw(t)
	deployFixtures(t, c, "service-task.bpmn", "error-boundary.bpmn", "message-catch.bpmn", "signal-catch.bpmn", "three-tasks.bpmn", "start-end.bpmn")

	t.Run("topology", func(t *testing.T) {
		topo, err := c.NewTopologyCommand().Send(testContext(t))
		if err != nil || topo.PartitionsCount != 3 || len(topo.Brokers) != 1 || len(topo.Brokers[0].Partitions) != 3 || topo.Brokers[0].Port == 0 {
			t.Fatalf("topology: %v, %v", topo, err)
		}
	})
	t.Run("seed models", func(t *testing.T) {
		// Several versions of a model share a process id: each is deployed
		// and run in turn, as the latest version.
		for i, s := range loadSeeds(t, seedDir) {
			t.Run(s.file, func(t *testing.T) {
				dep, err := c.NewDeployResourceCommand().AddResource(s.content, s.file).Send(testContext(t))
				if err != nil || len(dep.Deployments) != 1 || dep.Deployments[0].GetProcess().BpmnProcessId != s.processID {
					t.Fatalf("deploying %s: %v, %v", s.file, dep, err)
				}
				runSeed(t, e, raw, s, fmt.Sprintf("go-%d", i))
			})
		}
	})
	t.Run("with and without result", func(t *testing.T) {
		created, err := c.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().Send(testContext(t))
		if err != nil || created.ProcessInstanceKey == 0 || created.Version != 1 {
			t.Fatalf("created: %v, %v", created, err)
		}
		cmd, _ := c.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().VariablesFromMap(map[string]any{"order": 7, "items": []string{"a"}})
		res, err := cmd.WithResult().FetchVariables("order").Send(testContext(t))
		if err != nil || res.Variables != `{"order":7}` {
			t.Fatalf("with result: %v, %v", res, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		cmd, _ = c.NewCreateInstanceCommand().BPMNProcessId("await-payment").LatestVersion().VariablesFromString(`{"orderId":"never"}`)
		_, err = cmd.WithResult().Send(ctx)
		if code := status.Code(err); code != codes.DeadlineExceeded {
			t.Fatalf("with result of an instance that waits: %v, want DEADLINE_EXCEEDED", err)
		}
	})
	t.Run("job workers with back-off", func(t *testing.T) { testWorkers(t, c) })
	t.Run("messages", func(t *testing.T) { testMessages(t, c) })
	t.Run("errors and incidents", func(t *testing.T) { testErrorsAndIncidents(t, e, c) })
	t.Run("variables", func(t *testing.T) {
		pi := create(t, c, "charge", `{"amount":1}`)
		cmd, _ := c.NewSetVariablesCommand().ElementInstanceKey(pi).VariablesFromString(`{"amount":5}`)
		if _, err := cmd.Send(testContext(t)); err != nil {
			t.Fatal(err)
		}
		job := poll(testContext(t), t, raw, "charge-card", 30_000)
		if len(job) != 1 || job[0].ProcessInstanceKey != pi || job[0].Variables != `{"amount":5}` {
			t.Fatalf("job after setting variables: %v", job)
		}
		cancelInstance(t, c, pi)
	})
	t.Run("signals", func(t *testing.T) {
		pi := create(t, c, "wait-for-go", "")
		eventuallyEnded(t, e, pi, func() {
			if _, err := c.NewBroadcastSignalCommand().SignalName("go").Send(testContext(t)); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("cancellation", func(t *testing.T) {
		pi := create(t, c, "await-payment", `{"orderId":"to-cancel"}`)
		cancelInstance(t, c, pi)
		if _, err := e.rest().Instance(testContext(t), rest.Key(pi)); !isNotFound(err) {
			t.Fatalf("instance after its cancellation: %v", err)
		}
	})
	t.Run("modification", func(t *testing.T) {
		pi := create(t, c, "three", "")
		a := poll(testContext(t), t, raw, "a", 30_000)
		if len(a) != 1 {
			t.Fatalf("jobs a: %v", a)
		}
		_, err := raw.ModifyProcessInstance(testContext(t), &pb.ModifyProcessInstanceRequest{ProcessInstanceKey: pi,
			ActivateInstructions:  []*pb.ModifyProcessInstanceRequest_ActivateInstruction{{ElementId: "c", AncestorElementInstanceKey: -1}},
			TerminateInstructions: []*pb.ModifyProcessInstanceRequest_TerminateInstruction{{ElementInstanceKey: a[0].ElementInstanceKey}}})
		if err != nil {
			t.Fatal(err)
		}
		jobs := poll(testContext(t), t, raw, "c", 30_000)
		if len(jobs) != 1 || jobs[0].ProcessInstanceKey != pi {
			t.Fatalf("jobs c after the modification: %v", jobs)
		}
		if _, err := c.NewCompleteJobCommand().JobKey(jobs[0].Key).Send(testContext(t)); err != nil {
			t.Fatal(err)
		}
		eventuallyEnded(t, e, pi, func() {})
	})
}

// testWorkers runs instances of three service tasks with the client's
// JobWorker; each job fails once with a back-off before it completes.
func testWorkers(t *testing.T, c zbc.Client) {
	var mu sync.Mutex
	attempts := map[int64]int{}
	handler := func(client worker.JobClient, job entities.Job) {
		mu.Lock()
		attempts[job.Key]++
		first := attempts[job.Key] == 1
		mu.Unlock()
		var err error
		if first {
			_, err = client.NewFailJobCommand().JobKey(job.Key).Retries(job.Retries - 1).RetryBackoff(100 * time.Millisecond).ErrorMessage("try again").Send(context.Background())
		} else {
			var cmd interface {
				Send(context.Context) (*pb.CompleteJobResponse, error)
			}
			cmd, err = client.NewCompleteJobCommand().JobKey(job.Key).VariablesFromMap(map[string]any{job.Type: job.Retries})
			if err == nil {
				_, err = cmd.Send(context.Background())
			}
		}
		if err != nil {
			t.Errorf("handling %s job %d: %v", job.Type, job.Key, err)
		}
	}
	var workers []worker.JobWorker
	for _, typ := range []string{"a", "b", "c"} {
		workers = append(workers, c.NewJobWorker().JobType(typ).Handler(handler).MaxJobsActive(16).Concurrency(4).
			PollInterval(50*time.Millisecond).RequestTimeout(time.Second).Name("e2e-"+typ).Open())
	}
	defer closeWorkers(workers)
	const n = 10
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			res, err := c.NewCreateInstanceCommand().BPMNProcessId("three").LatestVersion().WithResult().Send(testContext(t))
			if err == nil && res.Variables != `{"a":2,"b":2,"c":2}` {
				err = errors.New("result variables " + res.Variables)
			}
			errs <- err
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 3*n {
		t.Fatalf("%d jobs handled, want %d", len(attempts), 3*n)
	}
	for key, a := range attempts {
		if a != 2 {
			t.Errorf("job %d was handled %d times, want 2 (a failure, then the retry after the back-off)", key, a)
		}
	}
}

// closeWorkers closes job workers at once: each waits for its poll.
func closeWorkers(workers []worker.JobWorker) {
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.Close() }()
	}
	wg.Wait()
}

// testMessages: a message with a time to live waits for its subscriber,
// and a message id still alive cannot be published again.
func testMessages(t *testing.T, c zbc.Client) {
	ctx := testContext(t)
	cmd, _ := c.NewPublishMessageCommand().MessageName("payment-received").CorrelationKey("order-ttl").TimeToLive(time.Minute).
		MessageId("pay-1").VariablesFromString(`{"paid":true}`)
	if _, err := cmd.Send(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := cmd.Send(ctx)
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("the same message id again: %v, want ALREADY_EXISTS", err)
	}
	create, _ := c.NewCreateInstanceCommand().BPMNProcessId("await-payment").LatestVersion().VariablesFromString(`{"orderId":"order-ttl"}`)
	res, err := create.WithResult().Send(ctx)
	if err != nil || res.Variables != `{"orderId":"order-ttl","paid":true}` {
		t.Fatalf("instance after a buffered message: %v, %v", res, err)
	}
}

// testErrorsAndIncidents: a BPMN error takes the error boundary; a job out
// of retries raises an incident, resolved once its retries are updated.
func testErrorsAndIncidents(t *testing.T, e *eddy, c zbc.Client) {
	ctx := testContext(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.NewCreateInstanceCommand().BPMNProcessId("ship").LatestVersion().WithResult().Send(ctx)
		done <- err
	}()
	job := activateOne(t, c, "ship-parcel")
	if _, err := c.NewThrowErrorCommand().JobKey(job.Key).ErrorCode("NO_STOCK").ErrorMessage("shelf empty").Send(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("instance after a caught BPMN error: %v", err)
	}

	pi := create(t, c, "charge", "")
	job = activateOne(t, c, "charge-card")
	if _, err := c.NewFailJobCommand().JobKey(job.Key).Retries(0).ErrorMessage("card reader broken").Send(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := e.rest().Incidents(ctx, rest.Key(pi), 0, 10)
	if err != nil || len(list.Items) != 1 || list.Items[0].ErrorMessage != "card reader broken" {
		t.Fatalf("incidents: %+v, %v", list, err)
	}
	if _, err := c.NewUpdateJobRetriesCommand().JobKey(job.Key).Retries(1).Send(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewResolveIncidentCommand().IncidentKey(int64(list.Items[0].Key)).Send(ctx); err != nil {
		t.Fatal(err)
	}
	job = activateOne(t, c, "charge-card")
	if job.ProcessInstanceKey != pi || job.Retries != 1 {
		t.Fatalf("job after the resolution: %+v", job)
	}
	if _, err := c.NewCompleteJobCommand().JobKey(job.Key).Send(ctx); err != nil {
		t.Fatal(err)
	}
	eventuallyEnded(t, e, pi, func() {})
}

func deployFixtures(t testing.TB, c zbc.Client, names ...string) {
	t.Helper()
	cmd := c.NewDeployResourceCommand()
	for _, n := range names {
		cmd = cmd.AddResource(fixture(t, n), n)
	}
	if _, err := cmd.Send(testContext(t)); err != nil {
		t.Fatalf("deploying %v: %v", names, err)
	}
}

func create(t *testing.T, c zbc.Client, id, vars string) int64 {
	t.Helper()
	cmd := c.NewCreateInstanceCommand().BPMNProcessId(id).LatestVersion()
	if vars != "" {
		cmd, _ = cmd.VariablesFromString(vars)
	}
	resp, err := cmd.Send(testContext(t))
	if err != nil {
		t.Fatalf("creating an instance of %s: %v", id, err)
	}
	return resp.ProcessInstanceKey
}

func activateOne(t *testing.T, c zbc.Client, jobType string) entities.Job {
	t.Helper()
	jobs, err := c.NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(1).Timeout(time.Minute).Send(testContext(t))
	if err != nil || len(jobs) != 1 {
		t.Fatalf("activating one %s job: %v, %v", jobType, jobs, err)
	}
	return jobs[0]
}

func cancelInstance(t *testing.T, c zbc.Client, pi int64) {
	t.Helper()
	if _, err := c.NewCancelInstanceCommand().ProcessInstanceKey(pi).Send(testContext(t)); err != nil {
		t.Fatalf("cancelling %d: %v", pi, err)
	}
}

// eventuallyEnded repeats nudge until instance pi has ended, failing after
// a minute (a guard).
func eventuallyEnded(t *testing.T, e *eddy, pi int64, nudge func()) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		nudge()
		_, err := e.rest().Instance(testContext(t), rest.Key(pi))
		if isNotFound(err) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %d did not end", pi)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isNotFound(err error) bool {
	var p *rest.Problem
	return errors.As(err, &p) && p.Status == http.StatusNotFound
}
