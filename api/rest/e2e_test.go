package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

// The end-to-end tests drive the API over HTTP, on each storage backend,
// as a client would.

func TestEndToEnd(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			c := NewClient(serve(t, backend), nil)
			t.Run("deploy", func(t *testing.T) { testDeploy(t, c) })
			t.Run("create with result", func(t *testing.T) { testCreateWithResult(t, c) })
			t.Run("message correlation", func(t *testing.T) { testMessageCorrelation(t, c) })
			t.Run("publish with result", func(t *testing.T) { testPublishWithResult(t, c) })
			t.Run("incident", func(t *testing.T) { testIncident(t, c) })
			t.Run("cancel", func(t *testing.T) { testCancel(t, c) })
		})
	}
}

func testDeploy(t *testing.T, c *Client) {
	first := deploy(t, c, "start-end.bpmn")
	if len(first.Processes) != 1 || first.Processes[0].BpmnProcessID != "noop" || first.Processes[0].Version < 1 || first.Processes[0].Duplicate {
		t.Fatalf("deployment: %+v", first)
	}
	again := deploy(t, c, "start-end.bpmn")
	if p := again.Processes[0]; !p.Duplicate || p.Version != first.Processes[0].Version || p.ProcessDefinitionKey != first.Processes[0].ProcessDefinitionKey {
		t.Fatalf("deploying the same content again: %+v, first %+v", p, first.Processes[0])
	}
	created, err := c.CreateInstance(testContext(t), CreateInstanceRequest{ProcessDefinitionKey: first.Processes[0].ProcessDefinitionKey, Await: Await{AwaitCompletion: true}})
	if err != nil || created.State != "COMPLETED" || created.BpmnProcessID != "noop" {
		t.Fatalf("instance of the deployed definition: %+v, %v", created, err)
	}
}

// worker completes jobs of one type over the REST API until stopped,
// setting the variables done(job) returns.
type worker struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	seen   []Job
	err    error
}

func startWorker(t *testing.T, c *Client, jobType string, done func(Job) json.RawMessage) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for ctx.Err() == nil {
			jobs, err := c.ActivateJobs(ctx, ActivateJobsRequest{Type: jobType, Worker: "test", Timeout: Millis(time.Minute), MaxJobsToActivate: 10, RequestTimeout: Millis(time.Second)})
			for _, j := range jobs {
				w.mu.Lock()
				w.seen = append(w.seen, j)
				w.mu.Unlock()
				if err == nil {
					err = c.CompleteJob(ctx, j.Key, CompleteJobRequest{Variables: done(j)})
				}
			}
			if err != nil && ctx.Err() == nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		w.wg.Wait()
		if w.err != nil {
			t.Errorf("worker of %s: %v", jobType, w.err)
		}
	})
	return w
}

func testCreateWithResult(t *testing.T, c *Client) {
	deploy(t, c, "service-task.bpmn")
	w := startWorker(t, c, "charge-card", func(j Job) json.RawMessage {
		var in struct{ Amount int }
		json.Unmarshal(j.Variables, &in)
		out, _ := json.Marshal(map[string]any{"charged": in.Amount, "receipt": "r-" + j.Key.String()})
		return out
	})
	res, err := c.CreateInstance(testContext(t), CreateInstanceRequest{BpmnProcessID: "charge", Variables: json.RawMessage(`{"amount": 42, "customer": "ada"}`),
		Await: Await{AwaitCompletion: true, FetchVariables: []string{"charged", "receipt"}}})
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	if err := json.Unmarshal(res.Variables, &vars); err != nil {
		t.Fatalf("result variables %s: %v", res.Variables, err)
	}
	if res.State != "COMPLETED" || vars["charged"] != float64(42) || len(vars) != 2 {
		t.Fatalf("result: %+v, variables %v", res, vars)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.seen) != 1 {
		t.Fatalf("the worker saw %d jobs, want 1", len(w.seen))
	}
	j := w.seen[0]
	if j.ProcessInstanceKey != res.ProcessInstanceKey || j.ElementID != "charge-card" || j.Retries != 3 || j.Worker != "test" {
		t.Errorf("job %+v does not match instance %s", j, res.ProcessInstanceKey)
	}
	if string(j.CustomHeaders) != `{"currency":"EUR"}` {
		t.Errorf("job headers %s", j.CustomHeaders)
	}
	if vars["receipt"] != "r-"+j.Key.String() {
		t.Errorf("receipt %v is not from job %s", vars["receipt"], j.Key)
	}
}

func testMessageCorrelation(t *testing.T, c *Client) {
	ctx := testContext(t)
	deploy(t, c, "message-catch.bpmn")
	// Several instances, so that their subscriptions land on different
	// partitions than the messages.
	orders := []string{"o-1", "o-2", "o-3", "o-4"}
	keys := map[string]Key{}
	for _, o := range orders {
		inst, err := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "await-payment", Variables: json.RawMessage(`{"orderId":"` + o + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		keys[o] = inst.ProcessInstanceKey
	}
	for _, o := range orders {
		got := waitForInstance(t, c, keys[o], func(in Instance) bool { return hasElement(in, "payment-received", "ACTIVATED") })
		if got.Variables["orderId"] == nil {
			t.Fatalf("instance %s has no orderId variable: %+v", keys[o], got)
		}
	}
	// The subscription opens on the message's partition a little after the
	// element is activated: a time to live covers the gap.
	msg, err := c.PublishMessage(ctx, PublishMessageRequest{Name: "payment-received", CorrelationKey: "o-3", TimeToLive: Millis(time.Minute), Variables: json.RawMessage(`{"paid": 30}`)})
	if err != nil || msg.MessageKey == 0 || msg.InstanceResult != nil {
		t.Fatalf("publish: %+v, %v", msg, err)
	}
	waitForEnd(t, c, keys["o-3"])
	for _, o := range []string{"o-1", "o-2", "o-4"} {
		if _, err := c.Instance(ctx, keys[o]); err != nil {
			t.Errorf("instance %s of %s ended, or cannot be read, after a message for o-3: %v", keys[o], o, err)
		}
	}
}

func testPublishWithResult(t *testing.T, c *Client) {
	ctx := testContext(t)
	deploy(t, c, "message-catch.bpmn", "message-start.bpmn")
	inst, err := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "await-payment", Variables: json.RawMessage(`{"orderId":"p-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitForInstance(t, c, inst.ProcessInstanceKey, func(in Instance) bool { return hasElement(in, "payment-received", "ACTIVATED") })
	res, err := c.PublishMessage(ctx, PublishMessageRequest{Name: "payment-received", CorrelationKey: "p-1", TimeToLive: Millis(time.Minute), Variables: json.RawMessage(`{"paid": 12}`),
		Await: Await{AwaitCompletion: true}})
	if err != nil {
		t.Fatal(err)
	}
	if res.InstanceResult == nil || res.ProcessInstanceKey != inst.ProcessInstanceKey || res.State != "COMPLETED" {
		t.Fatalf("publish with result: %+v", res)
	}
	var vars map[string]any
	json.Unmarshal(res.Variables, &vars)
	if vars["paid"] != float64(12) || vars["orderId"] != "p-1" {
		t.Fatalf("variables at the end: %s", res.Variables)
	}
	// A message that starts an instance answers with that instance's end.
	started, err := c.PublishMessage(ctx, PublishMessageRequest{Name: "order-placed", CorrelationKey: "c-1", Variables: json.RawMessage(`{"item": "tea"}`),
		Await: Await{AwaitCompletion: true, FetchVariables: []string{"item"}}})
	if err != nil {
		t.Fatal(err)
	}
	if started.InstanceResult == nil || started.BpmnProcessID != "take-order" || string(started.Variables) != `{"item":"tea"}` {
		t.Fatalf("message start with result: %+v", started)
	}
}

func testIncident(t *testing.T, c *Client) {
	ctx := testContext(t)
	deploy(t, c, "service-task.bpmn")
	inst, err := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "charge", Variables: json.RawMessage(`{"amount": 7}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Take this instance's job (others' jobs of the same type may be
	// there: they are failed with retries left, which changes nothing).
	var job Job
	for job.Key == 0 {
		jobs, err := c.ActivateJobs(ctx, ActivateJobsRequest{Type: "charge-card", Timeout: Millis(time.Minute), MaxJobsToActivate: 1, RequestTimeout: Millis(5 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.ProcessInstanceKey == inst.ProcessInstanceKey {
				job = j
			} else if err := c.FailJob(ctx, j.Key, FailJobRequest{Retries: int(j.Retries)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := c.FailJob(ctx, job.Key, FailJobRequest{Retries: 0, ErrorMessage: "card declined"}); err != nil {
		t.Fatal(err)
	}
	list, err := c.Incidents(ctx, inst.ProcessInstanceKey, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("incidents of the instance: %+v", list)
	}
	in := list.Items[0]
	if in.ErrorType != "JOB_NO_RETRIES" || in.ErrorMessage != "card declined" || in.JobKey != job.Key || in.ElementID != "charge-card" {
		t.Fatalf("incident %+v", in)
	}
	got, err := c.Instance(ctx, inst.ProcessInstanceKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Incidents) != 1 || got.Incidents[0].Key != in.Key || !hasElement(got, "charge-card", "ACTIVATED") {
		t.Fatalf("instance with an incident: %+v", got)
	}
	// Resolving first needs retries; the engine says so.
	var p *Problem
	if err := c.ResolveIncident(ctx, in.Key); !errors.As(err, &p) || p.Status != http.StatusConflict || p.RejectionType != "INVALID_STATE" {
		t.Fatalf("resolving an incident of a job without retries: %v", err)
	}
	if err := c.UpdateJob(ctx, job.Key, UpdateJobRequest{Retries: ptr(2)}); err != nil {
		t.Fatal(err)
	}
	if err := c.ResolveIncident(ctx, in.Key); err != nil {
		t.Fatal(err)
	}
	if list, err := c.Incidents(ctx, inst.ProcessInstanceKey, 0, 0); err != nil || len(list.Items) != 0 {
		t.Fatalf("incidents after resolving: %+v, %v", list, err)
	}
	startWorker(t, c, "charge-card", func(Job) json.RawMessage { return json.RawMessage(`{"charged": 7}`) })
	waitForEnd(t, c, inst.ProcessInstanceKey)
}

func testCancel(t *testing.T, c *Client) {
	ctx := testContext(t)
	deploy(t, c, "message-catch.bpmn")
	inst, err := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "await-payment", Variables: json.RawMessage(`{"orderId":"never"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CancelInstance(ctx, inst.ProcessInstanceKey); err != nil {
		t.Fatal(err)
	}
	waitForEnd(t, c, inst.ProcessInstanceKey)
	var p *Problem
	if err := c.CancelInstance(ctx, inst.ProcessInstanceKey); !errors.As(err, &p) || p.Status != http.StatusNotFound {
		t.Fatalf("cancelling an ended instance: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

func hasElement(in Instance, id, state string) bool {
	for _, el := range in.ElementInstances {
		if el.ElementID == id && el.State == state {
			return true
		}
	}
	return false
}

// waitForInstance reads the instance until ok says it is there, failing
// after the test context's guard.
func waitForInstance(t *testing.T, c *Client, key Key, ok func(Instance) bool) Instance {
	t.Helper()
	ctx := testContext(t)
	for {
		in, err := c.Instance(ctx, key)
		if err == nil && ok(in) {
			return in
		}
		if ctx.Err() != nil {
			t.Fatalf("instance %s never got there: %+v, %v", key, in, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitForEnd waits until the instance is no longer running.
func waitForEnd(t *testing.T, c *Client, key Key) {
	t.Helper()
	ctx := testContext(t)
	for {
		_, err := c.Instance(ctx, key)
		var p *Problem
		if errors.As(err, &p) && p.Status == http.StatusNotFound {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("instance %s did not end: %v", key, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
