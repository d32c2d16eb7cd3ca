package zeebe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
	"google.golang.org/grpc/codes"

	"eddy/engine"
)

// pollOnce reads a whole ActivateJobs stream of the raw client.
func pollOnce(ctx context.Context, g *gateway, req *pb.ActivateJobsRequest) ([]*pb.ActivatedJob, error) {
	stream, err := g.raw.ActivateJobs(ctx, req)
	if err != nil {
		return nil, err
	}
	var jobs []*pb.ActivatedJob
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return jobs, nil
		}
		if err != nil {
			return jobs, err
		}
		jobs = append(jobs, resp.Jobs...)
	}
}

// TestLongPolling: an activation with nothing to activate waits, and
// hands a job out when one is created; without long polling it answers
// at once, empty.
func TestLongPolling(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "service-task.bpmn")
	ctx := testContext(t)
	jobs, err := pollOnce(ctx, g, &pb.ActivateJobsRequest{Type: "charge-card", Worker: "w", Timeout: 60_000, MaxJobsToActivate: 5, RequestTimeout: -1})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("activation without long polling and without jobs: %v, %v", jobs, err)
	}
	type result struct {
		jobs []*pb.ActivatedJob
		err  error
	}
	done := make(chan result, 1)
	go func() {
		// The guard of a minute is the poll's own: a poll that did not
		// wake on the new job would come back empty after it.
		jobs, err := pollOnce(ctx, g, &pb.ActivateJobsRequest{Type: "charge-card", Worker: "w", Timeout: 60_000, MaxJobsToActivate: 5, RequestTimeout: 55_000})
		done <- result{jobs, err}
	}()
	pi := create(t, g.client, "charge", `{"amount":12}`)
	r := <-done
	if r.err != nil || len(r.jobs) != 1 || r.jobs[0].ProcessInstanceKey != pi {
		t.Fatalf("long poll: %v, %v; want the job of instance %d", r.jobs, r.err, pi)
	}
}

// TestActivatedJob: a job carries what the model and the instance give it,
// and fetchVariables limits its variables.
func TestActivatedJob(t *testing.T) {
	g := startGateway(t)
	keys := deploy(t, g.client, "service-task.bpmn")
	pi := create(t, g.client, "charge", `{"amount":12,"card":"4242","note":"x"}`)
	before := time.Now()
	jobs, err := g.client.NewActivateJobsCommand().JobType("charge-card").MaxJobsToActivate(10).Timeout(time.Minute).
		WorkerName("payments").FetchVariables("amount", "card").Send(testContext(t))
	if err != nil || len(jobs) != 1 {
		t.Fatalf("activation: %v, %v", jobs, err)
	}
	j := jobs[0]
	if j.Type != "charge-card" || j.ProcessInstanceKey != pi || j.BpmnProcessId != "charge" || j.ProcessDefinitionVersion != 1 ||
		j.ProcessDefinitionKey != keys["charge"] || j.ElementId != "charge-card" || j.ElementInstanceKey == 0 || j.Worker != "payments" || j.Retries != 3 {
		t.Fatalf("job: %+v", j.ActivatedJob)
	}
	if deadline := time.UnixMilli(j.Deadline); deadline.Before(before.Add(59*time.Second)) || deadline.After(time.Now().Add(61*time.Second)) {
		t.Fatalf("deadline %v is not a minute after activation", deadline)
	}
	headers, err := j.GetCustomHeadersAsMap()
	if err != nil || headers["currency"] != "EUR" {
		t.Fatalf("custom headers %q: %v", j.CustomHeaders, err)
	}
	vars, err := j.GetVariablesAsMap()
	if err != nil || len(vars) != 2 || vars["amount"] != float64(12) || vars["card"] != "4242" {
		t.Fatalf("variables %q: %v", j.Variables, err)
	}
}

// TestJobTimeout: a job whose worker lets its timeout pass is activatable
// again.
func TestJobTimeout(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "service-task.bpmn")
	create(t, g.client, "charge", "")
	first, err := g.client.NewActivateJobsCommand().JobType("charge-card").MaxJobsToActivate(1).Timeout(50 * time.Millisecond).Send(testContext(t))
	if err != nil || len(first) != 1 {
		t.Fatalf("first activation: %v, %v", first, err)
	}
	again := activateOne(t, g.client, "charge-card")
	if again.Key != first[0].Key {
		t.Fatalf("activated job %d after the timeout, want %d again", again.Key, first[0].Key)
	}
}

// TestFailJob: a failure with retries left makes the job activatable again
// after its back-off, with the retries given; one without retries raises
// an incident that holds until the retries are updated and it is resolved.
func TestFailJob(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "service-task.bpmn")
	ctx := testContext(t)
	pi := create(t, g.client, "charge", "")
	job := activateOne(t, g.client, "charge-card")
	if _, err := g.client.NewFailJobCommand().JobKey(job.Key).Retries(1).RetryBackoff(100 * time.Millisecond).ErrorMessage("card reader busy").Send(ctx); err != nil {
		t.Fatal(err)
	}
	job = activateOne(t, g.client, "charge-card")
	if job.Retries != 1 {
		t.Fatalf("retries after a failure with 1 left: %d", job.Retries)
	}
	if _, err := g.client.NewFailJobCommand().JobKey(job.Key).Retries(0).ErrorMessage("card reader broken").Send(ctx); err != nil {
		t.Fatal(err)
	}
	incidents, err := g.engine.Incidents(ctx, engine.IncidentQuery{ProcessInstanceKey: pi})
	if err != nil || len(incidents) != 1 || incidents[0].Value.ErrorMessage != "card reader broken" || incidents[0].Value.JobKey != job.Key {
		t.Fatalf("incidents after running out of retries: %+v, %v", incidents, err)
	}
	_, err = g.client.NewResolveIncidentCommand().IncidentKey(incidents[0].Key).Send(ctx)
	wantStatus(t, err, codes.FailedPrecondition, "no retries left")
	if _, err := g.client.NewUpdateJobRetriesCommand().JobKey(job.Key).Retries(2).Send(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = g.client.NewUpdateJobRetriesCommand().JobKey(job.Key).Retries(0).Send(ctx)
	wantStatus(t, err, codes.InvalidArgument, "positive")
	if _, err := g.client.NewResolveIncidentCommand().IncidentKey(incidents[0].Key).Send(ctx); err != nil {
		t.Fatal(err)
	}
	job = activateOne(t, g.client, "charge-card")
	if job.Retries != 2 {
		t.Fatalf("retries after the update: %d", job.Retries)
	}
	if _, err := g.client.NewCompleteJobCommand().JobKey(job.Key).Send(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the instance's end", func() bool { return ended(t, g.engine, pi) })
}

// TestThrowError: a BPMN error with a caught code takes the boundary event
// and the instance completes; an uncaught code raises an incident.
func TestThrowError(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "error-boundary.bpmn")
	ctx := testContext(t)
	for _, tc := range []struct {
		code     string
		incident bool
	}{{"NO_STOCK", false}, {"LOST_IN_TRANSIT", true}} {
		t.Run(tc.code, func(t *testing.T) {
			pi := create(t, g.client, "ship", `{"parcel":"p-1"}`)
			job := activateOne(t, g.client, "ship-parcel")
			cmd, err := g.client.NewThrowErrorCommand().JobKey(job.Key).ErrorCode(tc.code).ErrorMessage("warehouse says so").VariablesFromString(`{"reason":"empty shelf"}`)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cmd.Send(ctx); err != nil {
				t.Fatal(err)
			}
			if !tc.incident {
				eventually(t, "the instance's end through the boundary event", func() bool { return ended(t, g.engine, pi) })
				return
			}
			incidents, err := g.engine.Incidents(ctx, engine.IncidentQuery{ProcessInstanceKey: pi})
			if err != nil || len(incidents) != 1 || incidents[0].Value.ErrorType != "UNHANDLED_ERROR_EVENT" || !strings.Contains(incidents[0].Value.ErrorMessage, tc.code) {
				t.Fatalf("incidents of an uncaught error: %+v, %v", incidents, err)
			}
		})
	}
}

// TestJobWorker: the Go client's JobWorker, with its polling, runs
// instances of three service tasks to their end; each task's variables
// reach the next and the result.
func TestJobWorker(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "three-tasks.bpmn")
	var mu sync.Mutex
	handled := map[string]int{}
	handler := func(client worker.JobClient, job entities.Job) {
		mu.Lock()
		handled[job.Type]++
		mu.Unlock()
		vars, err := job.GetVariablesAsMap()
		if err != nil {
			t.Error(err)
			return
		}
		vars["visited"] = append(asList(vars["visited"]), job.Type)
		cmd, err := client.NewCompleteJobCommand().JobKey(job.Key).VariablesFromMap(vars)
		if err == nil {
			_, err = cmd.Send(context.Background())
		}
		if err != nil {
			t.Errorf("completing %s job %d: %v", job.Type, job.Key, err)
		}
	}
	var workers []worker.JobWorker
	for _, typ := range []string{"a", "b", "c"} {
		workers = append(workers, g.client.NewJobWorker().JobType(typ).Handler(handler).MaxJobsActive(8).Concurrency(2).
			PollInterval(20*time.Millisecond).RequestTimeout(200*time.Millisecond).Open())
	}
	t.Cleanup(func() { closeWorkers(workers) })
	const instances = 12
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for i := 0; i < instances; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := g.client.NewCreateInstanceCommand().BPMNProcessId("three").LatestVersion().WithResult().Send(testContext(t))
			if err != nil {
				errs <- err
				return
			}
			var vars struct{ Visited []string }
			if err := json.Unmarshal([]byte(resp.Variables), &vars); err != nil || strings.Join(vars.Visited, ",") != "a,b,c" {
				errs <- errors.New("result variables " + resp.Variables)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, typ := range []string{"a", "b", "c"} {
		if handled[typ] != instances {
			t.Errorf("%d %s jobs handled, want %d", handled[typ], typ, instances)
		}
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// closeWorkers closes job workers at once: each waits for its polls to
// end, and a worker may poll again (for up to its request timeout) for
// each job it finished while it was polling.
func closeWorkers(workers []worker.JobWorker) {
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.Close() }()
	}
	wg.Wait()
}

// failingStream is an ActivateJobs stream whose client went away: every
// Send fails, as gRPC's does then.
type failingStream struct {
	pb.Gateway_ActivateJobsServer
	ctx context.Context
}

func (f failingStream) Context() context.Context { return f.ctx }
func (f failingStream) Send(*pb.ActivateJobsResponse) error {
	return errors.New("connection reset by peer")
}

// TestJobsGivenBack: jobs activated for a worker that can no longer receive
// them are activatable again at once (not after their timeout), with their
// retries unchanged.
func TestJobsGivenBack(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "service-task.bpmn")
	pi := create(t, g.client, "charge", "")
	s := New(Static(g.engine))
	ctx := context.WithValue(testContext(t), engineKey{}, g.engine)
	err := s.ActivateJobs(&pb.ActivateJobsRequest{Type: "charge-card", Worker: "gone", Timeout: 3_600_000, MaxJobsToActivate: 1, RequestTimeout: 30_000}, failingStream{ctx: ctx})
	if err == nil {
		t.Fatal("the failed send was not reported")
	}
	jobs, err := pollOnce(testContext(t), g, &pb.ActivateJobsRequest{Type: "charge-card", Worker: "w", Timeout: 60_000, MaxJobsToActivate: 1, RequestTimeout: -1})
	if err != nil || len(jobs) != 1 || jobs[0].ProcessInstanceKey != pi || jobs[0].Retries != 3 {
		t.Fatalf("the job after a failed hand-out: %v, %v; want it activatable at once with 3 retries", jobs, err)
	}
}

// TestLargeActivationIsSplit: jobs whose variables exceed what one gRPC
// message may carry come in several responses of the stream.
func TestLargeActivationIsSplit(t *testing.T) {
	e := startEngine(t, openStore(t))
	srv := New(Static(e))
	srv.maxResponse = 100 << 10 // two jobs of 40 KiB fit, three do not
	addr := serveGRPC(t, srv)
	g := &gateway{engine: e, addr: addr, client: newClient(t, addr), raw: rawClient(t, addr)}
	deploy(t, g.client, "service-task.bpmn")
	big := `{"blob":"` + strings.Repeat("x", 40<<10) + `"}`
	const n = 4
	for i := 0; i < n; i++ {
		create(t, g.client, "charge", big)
	}
	stream, err := g.raw.ActivateJobs(testContext(t), &pb.ActivateJobsRequest{Type: "charge-card", Worker: "w", Timeout: 60_000, MaxJobsToActivate: n, RequestTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	responses, jobs := 0, 0
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		responses++
		jobs += len(resp.Jobs)
	}
	if jobs != n || responses != n/2 {
		t.Fatalf("%d jobs in %d responses, want %d jobs in %d", jobs, responses, n, n/2)
	}
}
