package rest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The handler tests run the API over a real engine on pebble, one command
// at a time.

func TestDeployJSON(t *testing.T) {
	base := serve(t, "pebble")
	bpmn := fixture(t, "start-end.bpmn").Content
	text, _ := json.Marshal(string(bpmn))
	for _, tc := range []struct{ name, body string }{
		{"text", `{"resources": [{"name": "start-end.bpmn", "content": ` + string(text) + `}]}`},
		{"base64", `{"resources": [{"name": "start-end.bpmn", "contentBase64": "` + base64.StdEncoding.EncodeToString(bpmn) + `"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dep DeployResponse
			status := call(t, "POST", base+"/v1/deployments", tc.body, &dep)
			if status != 200 || len(dep.Processes) != 1 || dep.Processes[0].BpmnProcessID != "noop" || dep.DeploymentKey == 0 {
				t.Fatalf("%d %+v", status, dep)
			}
		})
	}
}

// call sends body (JSON) and decodes the answer into out, returning the
// status.
func call(t *testing.T, method, url, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, data)
		}
	}
	return resp.StatusCode
}

func TestKeysAreStringsOutAndEitherIn(t *testing.T) {
	base := serve(t, "pebble")
	c := NewClient(base, nil)
	def := deploy(t, c, "service-task.bpmn").Processes[0].ProcessDefinitionKey
	for _, form := range []string{def.String(), `"` + def.String() + `"`} {
		var raw map[string]any
		if status := call(t, "POST", base+"/v1/process-instances", `{"processDefinitionKey": `+form+`}`, &raw); status != 200 {
			t.Fatalf("processDefinitionKey %s: %d %v", form, status, raw)
		}
		if raw["processDefinitionKey"] != def.String() {
			t.Errorf("processDefinitionKey in the answer is %#v, want the string %q", raw["processDefinitionKey"], def.String())
		}
		if _, ok := raw["processInstanceKey"].(string); !ok {
			t.Errorf("processInstanceKey is %#v, not a string", raw["processInstanceKey"])
		}
	}
}

func TestGetInstance(t *testing.T) {
	c := NewClient(serve(t, "pebble"), nil)
	ctx := testContext(t)
	deploy(t, c, "service-task.bpmn")
	inst, err := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "charge", Variables: json.RawMessage(`{"amount": 12345678901234567890, "who": "ada"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := waitForInstance(t, c, inst.ProcessInstanceKey, func(in Instance) bool { return hasElement(in, "charge-card", "ACTIVATED") })
	if got.State != "ACTIVE" || got.BpmnProcessID != "charge" || got.Version != inst.Version || got.ProcessDefinitionKey != inst.ProcessDefinitionKey {
		t.Errorf("instance %+v", got)
	}
	// A number beyond 64 bits passes through untouched.
	if string(got.Variables["amount"]) != "12345678901234567890" || string(got.Variables["who"]) != `"ada"` {
		t.Errorf("variables %v", got.Variables)
	}
	el := got.ElementInstances[0]
	if len(got.ElementInstances) != 1 || el.ElementType != "SERVICE_TASK" || el.JobKey == 0 || el.FlowScopeKey != inst.ProcessInstanceKey {
		t.Errorf("element instances %+v", got.ElementInstances)
	}
	if err := c.SetVariables(ctx, el.Key, SetVariablesRequest{Variables: json.RawMessage(`{"attempt": 1}`), Local: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetVariables(ctx, inst.ProcessInstanceKey, SetVariablesRequest{Variables: json.RawMessage(`{"who": "grace"}`)}); err != nil {
		t.Fatal(err)
	}
	got, err = c.Instance(ctx, inst.ProcessInstanceKey)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Variables["who"]) != `"grace"` || string(got.ElementInstances[0].Variables["attempt"]) != "1" || got.Variables["attempt"] != nil {
		t.Errorf("after setting variables: root %v, task %v", got.Variables, got.ElementInstances[0].Variables)
	}
}

func TestThrowError(t *testing.T) {
	c := NewClient(serve(t, "pebble"), nil)
	ctx := testContext(t)
	deploy(t, c, "error-boundary.bpmn")
	caught, _ := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "ship"})
	uncaught, _ := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "ship"})
	jobs := activateAll(t, c, "ship-parcel", 2)
	for _, j := range jobs {
		code := "NO_STOCK"
		if j.ProcessInstanceKey == uncaught.ProcessInstanceKey {
			code = "LOST"
		}
		if err := c.ThrowError(ctx, j.Key, ThrowErrorRequest{ErrorCode: code, ErrorMessage: "none left"}); err != nil {
			t.Fatal(err)
		}
	}
	waitForEnd(t, c, caught.ProcessInstanceKey)
	list, err := c.Incidents(ctx, uncaught.ProcessInstanceKey, 0, 0)
	if err != nil || len(list.Items) != 1 || list.Items[0].ErrorType != "UNHANDLED_ERROR_EVENT" || !strings.Contains(list.Items[0].ErrorMessage, "LOST") {
		t.Fatalf("incidents of the uncaught error: %+v, %v", list, err)
	}
}

// activateAll activates n jobs of a type, failing the test if they do not
// come.
func activateAll(t *testing.T, c *Client, jobType string, n int) []Job {
	t.Helper()
	ctx := testContext(t)
	var jobs []Job
	for len(jobs) < n {
		got, err := c.ActivateJobs(ctx, ActivateJobsRequest{Type: jobType, Timeout: Millis(time.Minute), MaxJobsToActivate: n - len(jobs), RequestTimeout: Millis(10 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, got...)
	}
	return jobs
}

func TestJobUpdates(t *testing.T) {
	c := NewClient(serve(t, "pebble"), nil)
	ctx := testContext(t)
	deploy(t, c, "service-task.bpmn")
	c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "charge"})
	job := activateAll(t, c, "charge-card", 1)[0]
	timeout := Millis(time.Hour)
	if err := c.UpdateJob(ctx, job.Key, UpdateJobRequest{Retries: ptr(5), Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	// A failed job with retries left comes back after its back-off.
	if err := c.FailJob(ctx, job.Key, FailJobRequest{Retries: 4, ErrorMessage: "try again", RetryBackOff: Millis(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	again := activateAll(t, c, "charge-card", 1)[0]
	if again.Key != job.Key || again.Retries != 4 {
		t.Fatalf("job after failing: %+v, first %+v", again, job)
	}
	if err := c.CompleteJob(ctx, again.Key, CompleteJobRequest{}); err != nil {
		t.Fatal(err)
	}
	var p *Problem
	if err := c.CompleteJob(ctx, again.Key, CompleteJobRequest{}); !errors.As(err, &p) || p.Status != http.StatusNotFound || p.RejectionType != "NOT_FOUND" {
		t.Fatalf("completing a job twice: %v", err)
	}
}

func TestActivateWaitsForJobs(t *testing.T) {
	c := NewClient(serve(t, "pebble"), nil)
	ctx := testContext(t)
	deploy(t, c, "service-task.bpmn")
	got := make(chan []Job, 1)
	go func() {
		jobs, _ := c.ActivateJobs(ctx, ActivateJobsRequest{Type: "charge-card", Timeout: Millis(time.Minute), MaxJobsToActivate: 1, RequestTimeout: Millis(time.Minute)})
		got <- jobs
	}()
	inst, err := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "charge"})
	if err != nil {
		t.Fatal(err)
	}
	if jobs := <-got; len(jobs) != 1 || jobs[0].ProcessInstanceKey != inst.ProcessInstanceKey {
		t.Fatalf("a waiting activation got %+v", jobs)
	}
	// Without a request timeout, an activation answers at once.
	if jobs, err := c.ActivateJobs(ctx, ActivateJobsRequest{Type: "charge-card", Timeout: Millis(time.Minute), MaxJobsToActivate: 1}); err != nil || len(jobs) != 0 {
		t.Fatalf("activation with nothing to activate: %+v, %v", jobs, err)
	}
}

func TestAwaitTimeoutNamesTheInstance(t *testing.T) {
	c := NewClient(serve(t, "pebble"), nil)
	ctx := testContext(t)
	deploy(t, c, "service-task.bpmn")
	_, err := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "charge", Await: Await{AwaitCompletion: true, RequestTimeout: Millis(time.Millisecond)}})
	var p *Problem
	if !errors.As(err, &p) || p.Status != http.StatusGatewayTimeout || p.Type != TypeTimeout || p.ProcessInstanceKey == 0 {
		t.Fatalf("create with a result that cannot come in time: %v", err)
	}
	if _, err := c.Instance(ctx, p.ProcessInstanceKey); err != nil {
		t.Fatalf("the instance of a timed-out request should go on: %v", err)
	}
}

func TestSignalAndModification(t *testing.T) {
	c := NewClient(serve(t, "pebble"), nil)
	ctx := testContext(t)
	deploy(t, c, "signal-catch.bpmn", "message-catch.bpmn")
	waiting, _ := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "wait-for-go"})
	waitForInstance(t, c, waiting.ProcessInstanceKey, func(in Instance) bool { return hasElement(in, "go", "ACTIVATED") })
	sig, err := c.BroadcastSignal(ctx, BroadcastSignalRequest{SignalName: "go"})
	if err != nil || sig.SignalKey == 0 {
		t.Fatalf("broadcast: %+v, %v", sig, err)
	}
	waitForEnd(t, c, waiting.ProcessInstanceKey)

	stuck, _ := c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "await-payment", Variables: json.RawMessage(`{"orderId": "m-1"}`)})
	in := waitForInstance(t, c, stuck.ProcessInstanceKey, func(in Instance) bool { return hasElement(in, "payment-received", "ACTIVATED") })
	body, _ := json.Marshal(ModifyInstanceRequest{
		ActivateInstructions:  []ActivateInstruction{{ElementID: "end"}},
		TerminateInstructions: []TerminateInstruction{{ElementInstanceKey: in.ElementInstances[0].Key}},
	})
	if status := call(t, "POST", c.base+"/v1/process-instances/"+stuck.ProcessInstanceKey.String()+"/modification", string(body), nil); status != http.StatusNoContent {
		t.Fatalf("modification: %d", status)
	}
	waitForEnd(t, c, stuck.ProcessInstanceKey)
}

func TestIncidentPages(t *testing.T) {
	c := NewClient(serve(t, "pebble"), nil)
	ctx := testContext(t)
	deploy(t, c, "service-task.bpmn")
	for range 3 {
		c.CreateInstance(ctx, CreateInstanceRequest{BpmnProcessID: "charge"})
	}
	for _, j := range activateAll(t, c, "charge-card", 3) {
		if err := c.FailJob(ctx, j.Key, FailJobRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	first, err := c.Incidents(ctx, 0, 0, 2)
	if err != nil || len(first.Items) != 2 || first.Next != first.Items[1].Key {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	second, err := c.Incidents(ctx, 0, first.Next, 2)
	if err != nil || len(second.Items) != 1 || second.Next != 0 || second.Items[0].Key <= first.Next {
		t.Fatalf("second page: %+v, %v", second, err)
	}
}

func TestDeleteResource(t *testing.T) {
	base := serve(t, "pebble")
	c := NewClient(base, nil)
	def := deploy(t, c, "start-end.bpmn").Processes[0].ProcessDefinitionKey
	if status := call(t, "POST", base+"/v1/resources/"+def.String()+"/deletion", "", nil); status != http.StatusNoContent {
		t.Fatalf("deletion: %d", status)
	}
	// The deletion answers once the deployment's partition has it; the
	// other partitions get it through their inboxes, as in Zeebe, so a
	// create may land on one that has not yet (a guard, not a measurement).
	var p Problem
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		status := call(t, "POST", base+"/v1/process-instances", `{"bpmnProcessId": "noop"}`, &p)
		if status == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("creating an instance of a deleted process: %d %+v", status, p)
		}
	}
}
