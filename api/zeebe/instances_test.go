package zeebe

import (
	"encoding/json"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc/codes"
)

// TestCreateWithResult: the answer comes when the instance completes, with
// its variables, or only those fetched.
func TestCreateWithResult(t *testing.T) {
	g := startGateway(t)
	keys := deploy(t, g.client, "start-end.bpmn")
	ctx := testContext(t)
	cmd, err := g.client.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().VariablesFromString(`{"a":1,"b":"two","c":[3]}`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := cmd.WithResult().Send(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all.BpmnProcessId != "noop" || all.Version != 1 || all.ProcessDefinitionKey != keys["noop"] || all.ProcessInstanceKey == 0 || !sameJSON(all.Variables, `{"a":1,"b":"two","c":[3]}`) {
		t.Fatalf("result: %+v", all)
	}
	some, err := cmd.WithResult().FetchVariables("b", "missing").Send(ctx)
	if err != nil || !sameJSON(some.Variables, `{"b":"two"}`) {
		t.Fatalf("result with fetched variables: %+v, %v", some, err)
	}
	byKey, err := g.client.NewCreateInstanceCommand().ProcessDefinitionKey(keys["noop"]).WithResult().Send(ctx)
	if err != nil || byKey.Variables != "{}" {
		t.Fatalf("result by definition key, no variables: %+v, %v", byKey, err)
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestCancel: a cancelled instance is gone, and cancelling it again is
// NOT_FOUND; a with-result wait on it ends without a result.
func TestCancel(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "message-catch.bpmn")
	ctx := testContext(t)
	pi := create(t, g.client, "await-payment", `{"orderId":"o-1"}`)
	if _, err := g.client.NewCancelInstanceCommand().ProcessInstanceKey(pi).Send(ctx); err != nil {
		t.Fatal(err)
	}
	if !ended(t, g.engine, pi) {
		t.Fatalf("instance %d runs after its cancellation", pi)
	}
	_, err := g.client.NewCancelInstanceCommand().ProcessInstanceKey(pi).Send(ctx)
	wantStatus(t, err, codes.NotFound, "Command 'CANCEL' rejected with code 'NOT_FOUND'")
}

// TestStartInstruction: an instance started at an element skips what comes
// before it.
func TestStartInstruction(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "three-tasks.bpmn")
	pi := create(t, g.client, "three", "")
	resp, err := g.client.NewCreateInstanceCommand().BPMNProcessId("three").LatestVersion().StartBeforeElement("c").Send(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if job := activateOne(t, g.client, "c"); job.ProcessInstanceKey != resp.ProcessInstanceKey {
		t.Fatalf("job c of instance %d, want %d (started at c)", job.ProcessInstanceKey, resp.ProcessInstanceKey)
	}
	if job := activateOne(t, g.client, "a"); job.ProcessInstanceKey != pi {
		t.Fatalf("job a of instance %d, want %d", job.ProcessInstanceKey, pi)
	}
}

// TestModifyInstance: activating an element and terminating another moves
// the instance; activation variables reach the new element's job.
func TestModifyInstance(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "three-tasks.bpmn")
	ctx := testContext(t)
	pi := create(t, g.client, "three", "")
	jobA := activateOne(t, g.client, "a")
	_, err := g.raw.ModifyProcessInstance(ctx, &pb.ModifyProcessInstanceRequest{ProcessInstanceKey: pi,
		ActivateInstructions: []*pb.ModifyProcessInstanceRequest_ActivateInstruction{{ElementId: "c", AncestorElementInstanceKey: -1,
			VariableInstructions: []*pb.ModifyProcessInstanceRequest_VariableInstruction{{Variables: `{"reason":"skip b"}`}}}},
		TerminateInstructions: []*pb.ModifyProcessInstanceRequest_TerminateInstruction{{ElementInstanceKey: jobA.ElementInstanceKey}}})
	if err != nil {
		t.Fatal(err)
	}
	jobC := activateOne(t, g.client, "c")
	vars, _ := jobC.GetVariablesAsMap()
	if jobC.ProcessInstanceKey != pi || vars["reason"] != "skip b" {
		t.Fatalf("job c after the modification: %+v", jobC)
	}
	_, err = g.client.NewCompleteJobCommand().JobKey(jobA.Key).Send(ctx)
	wantStatus(t, err, codes.NotFound, "Command 'COMPLETE'")
	_, err = g.raw.ModifyProcessInstance(ctx, &pb.ModifyProcessInstanceRequest{ProcessInstanceKey: pi,
		ActivateInstructions: []*pb.ModifyProcessInstanceRequest_ActivateInstruction{{ElementId: "no-such-element"}}})
	wantStatus(t, err, codes.InvalidArgument, "Command 'MODIFY' rejected with code 'INVALID_ARGUMENT'", "no-such-element")
	_, err = g.raw.ModifyProcessInstance(ctx, &pb.ModifyProcessInstanceRequest{ProcessInstanceKey: pi})
	wantStatus(t, err, codes.InvalidArgument, "at least one")
}

// TestSetVariables: variables set on the instance reach its jobs; local
// ones stay on the element instance's scope.
func TestSetVariables(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "service-task.bpmn")
	ctx := testContext(t)
	pi := create(t, g.client, "charge", `{"amount":1}`)
	set := func(key int64, vars string, local bool) {
		t.Helper()
		cmd, err := g.client.NewSetVariablesCommand().ElementInstanceKey(key).VariablesFromString(vars)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := cmd.Local(local).Send(ctx)
		if err != nil || resp.Key == 0 {
			t.Fatalf("setting %s on %d: %v, %v", vars, key, resp, err)
		}
	}
	set(pi, `{"amount":2,"currency":"EUR"}`, false)
	job := activateOne(t, g.client, "charge-card")
	vars, _ := job.GetVariablesAsMap()
	if vars["amount"] != float64(2) || vars["currency"] != "EUR" {
		t.Fatalf("job variables after setting them on the instance: %s", job.Variables)
	}
	set(job.ElementInstanceKey, `{"attempt":1}`, true)
	st, err := g.engine.InstanceState(ctx, pi)
	if err != nil {
		t.Fatal(err)
	}
	if _, global := st.Variables["attempt"]; global {
		t.Fatalf("a local variable reached the instance's scope: %s", st.Variables)
	}
	found := false
	for _, el := range st.Elements {
		if el.Key == job.ElementInstanceKey {
			found = string(el.Variables["attempt"]) == "1"
		}
	}
	if !found {
		t.Fatalf("the local variable is not on the element instance: %+v", st.Elements)
	}
	_, err = g.raw.SetVariables(ctx, &pb.SetVariablesRequest{ElementInstanceKey: pi, Variables: `"x"`})
	wantStatus(t, err, codes.InvalidArgument, "'STRING'")
	_, err = g.raw.SetVariables(ctx, &pb.SetVariablesRequest{ElementInstanceKey: pi})
	wantStatus(t, err, codes.InvalidArgument, "empty")
}

// TestMessageTTL: a message with a time to live waits for the instance
// that subscribes later; one without it correlates only to what waits
// already.
func TestMessageTTL(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "message-catch.bpmn")
	ctx := testContext(t)
	publish := func(key string, ttl int64) {
		t.Helper()
		_, err := g.raw.PublishMessage(ctx, &pb.PublishMessageRequest{Name: "payment-received", CorrelationKey: key, TimeToLive: ttl, Variables: `{"paid":true}`})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Keys chosen to spread over the partitions.
	for _, key := range []string{"order-1", "order-2", "order-3", "order-4"} {
		publish(key, 3_600_000)
		cmd, _ := g.client.NewCreateInstanceCommand().BPMNProcessId("await-payment").LatestVersion().VariablesFromString(`{"orderId":"` + key + `"}`)
		res, err := cmd.WithResult().Send(ctx)
		if err != nil || !sameJSON(res.Variables, `{"orderId":"`+key+`","paid":true}`) {
			t.Fatalf("instance after a buffered message %s: %+v, %v", key, res, err)
		}
	}
	publish("order-5", 0)
	cmd, _ := g.client.NewCreateInstanceCommand().BPMNProcessId("await-payment").LatestVersion().VariablesFromString(`{"orderId":"order-5"}`)
	pi, err := cmd.Send(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := g.engine.InstanceState(ctx, pi.ProcessInstanceKey)
	if err != nil {
		t.Fatalf("the instance ended on a message that had no time to live: %v", err)
	}
	if len(st.Elements) != 1 || st.Elements[0].Value.ElementID != "payment-received" {
		t.Fatalf("instance does not wait for the message: %+v", st.Elements)
	}
	publish("order-5", 0)
	eventually(t, "the end of the instance the message correlated to", func() bool { return ended(t, g.engine, pi.ProcessInstanceKey) })
}

// TestBroadcastSignal: a signal reaches the instances that wait for it.
func TestBroadcastSignal(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "signal-catch.bpmn")
	var instances []int64
	for i := 0; i < 4; i++ {
		instances = append(instances, create(t, g.client, "wait-for-go", ""))
	}
	cmd, err := g.client.NewBroadcastSignalCommand().SignalName("go").VariablesFromString(`{"by":"test"}`)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cmd.Send(testContext(t))
	if err != nil || resp.Key == 0 {
		t.Fatalf("broadcast: %v, %v", resp, err)
	}
	for _, pi := range instances {
		eventually(t, "the signalled instance's end", func() bool { return ended(t, g.engine, pi) })
	}
	_, err = g.raw.BroadcastSignal(testContext(t), &pb.BroadcastSignalRequest{})
	wantStatus(t, err, codes.InvalidArgument, "signal name is empty")
}

// TestDeployAndDelete: the deprecated DeployProcess still deploys; a
// deleted definition can no longer start instances, and the same content
// deployed again is a duplicate that keeps its version.
func TestDeployAndDelete(t *testing.T) {
	g := startGateway(t)
	ctx := testContext(t)
	resp, err := g.raw.DeployProcess(ctx, &pb.DeployProcessRequest{Processes: []*pb.ProcessRequestObject{{Name: "start-end.bpmn", Definition: fixture(t, "start-end.bpmn")}}})
	if err != nil || resp.Key == 0 || len(resp.Processes) != 1 || resp.Processes[0].BpmnProcessId != "noop" || resp.Processes[0].ResourceName != "start-end.bpmn" {
		t.Fatalf("DeployProcess: %v, %v", resp, err)
	}
	again := deploy(t, g.client, "start-end.bpmn")
	if again["noop"] != resp.Processes[0].ProcessDefinitionKey {
		t.Fatalf("the same content deployed again got key %d, want %d", again["noop"], resp.Processes[0].ProcessDefinitionKey)
	}
	if _, err := g.client.NewDeleteResourceCommand().ResourceKey(again["noop"]).Send(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = g.client.NewCreateInstanceCommand().BPMNProcessId("noop").LatestVersion().Send(ctx)
	wantStatus(t, err, codes.NotFound, "'noop'")
}

// TestWithResultOfCancelledInstance: a with-result creation whose instance
// is cancelled ends with FAILED_PRECONDITION: there is no result.
func TestWithResultOfCancelledInstance(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "three-tasks.bpmn")
	done := make(chan error, 1)
	go func() {
		_, err := g.client.NewCreateInstanceCommand().BPMNProcessId("three").LatestVersion().WithResult().Send(testContext(t))
		done <- err
	}()
	job := activateOne(t, g.client, "a")
	if _, err := g.client.NewCancelInstanceCommand().ProcessInstanceKey(job.ProcessInstanceKey).Send(testContext(t)); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, <-done, codes.FailedPrecondition, "terminated")
}
