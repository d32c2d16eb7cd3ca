package zeebe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

// unknownKey is a well-formed key (partition 1) that names nothing.
const unknownKey = int64(1)<<51 | 999_999

// TestStatusCodes: every refusal comes back with the code and message a
// Zeebe gateway answers with, to the real Go client.
func TestStatusCodes(t *testing.T) {
	g := startGateway(t)
	c := g.client
	deploy(t, c, "service-task.bpmn", "message-catch.bpmn")
	ctx := testContext(t)

	cases := []struct {
		name  string
		call  func() error
		code  codes.Code
		texts []string
	}{
		{"unknown process id", func() error {
			_, err := c.NewCreateInstanceCommand().BPMNProcessId("nope").LatestVersion().Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'CREATE' rejected with code 'NOT_FOUND'", "'nope'"}},
		{"unknown version", func() error {
			_, err := c.NewCreateInstanceCommand().BPMNProcessId("charge").Version(42).Send(ctx)
			return err
		}, codes.NotFound, []string{"version '42'"}},
		{"unknown process definition key", func() error {
			_, err := c.NewCreateInstanceCommand().ProcessDefinitionKey(unknownKey).Send(ctx)
			return err
		}, codes.NotFound, []string{"NOT_FOUND"}},
		{"variables not an object", func() error {
			_, err := g.raw.CreateProcessInstance(ctx, &pb.CreateProcessInstanceRequest{BpmnProcessId: "charge", Version: -1, Variables: `[1,2]`})
			return err
		}, codes.InvalidArgument, []string{"Property 'variables' is invalid", "'ARRAY'"}},
		{"variables not JSON", func() error {
			_, err := g.raw.CreateProcessInstance(ctx, &pb.CreateProcessInstanceRequest{BpmnProcessId: "charge", Version: -1, Variables: `{"a":`})
			return err
		}, codes.InvalidArgument, []string{"valid JSON"}},
		{"neither key nor id", func() error {
			_, err := g.raw.CreateProcessInstance(ctx, &pb.CreateProcessInstanceRequest{})
			return err
		}, codes.InvalidArgument, []string{"process definition key or a BPMN process id"}},
		{"cancel unknown instance", func() error {
			_, err := c.NewCancelInstanceCommand().ProcessInstanceKey(unknownKey).Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'CANCEL' rejected with code 'NOT_FOUND'"}},
		{"key of no partition", func() error {
			_, err := c.NewCancelInstanceCommand().ProcessInstanceKey(int64(7) << 51).Send(ctx)
			return err
		}, codes.NotFound, []string{"partition 7", "only 3 partitions"}},
		{"complete unknown job", func() error {
			_, err := c.NewCompleteJobCommand().JobKey(unknownKey).Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'COMPLETE' rejected with code 'NOT_FOUND'", "no such job"}},
		{"fail unknown job", func() error {
			_, err := c.NewFailJobCommand().JobKey(unknownKey).Retries(1).Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'FAIL'"}},
		{"throw error from unknown job", func() error {
			_, err := c.NewThrowErrorCommand().JobKey(unknownKey).ErrorCode("X").Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'THROW_ERROR'"}},
		{"update retries of unknown job", func() error {
			_, err := c.NewUpdateJobRetriesCommand().JobKey(unknownKey).Retries(3).Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'UPDATE_RETRIES'"}},
		{"resolve unknown incident", func() error {
			_, err := c.NewResolveIncidentCommand().IncidentKey(unknownKey).Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'RESOLVE'", "no such incident"}},
		{"set variables of unknown scope", func() error {
			cmd, _ := c.NewSetVariablesCommand().ElementInstanceKey(unknownKey).VariablesFromString(`{"a":1}`)
			_, err := cmd.Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'UPDATE'"}},
		{"delete unknown resource", func() error {
			_, err := c.NewDeleteResourceCommand().ResourceKey(unknownKey).Send(ctx)
			return err
		}, codes.NotFound, []string{"Command 'DELETE'"}},
		{"modify unknown instance", func() error {
			_, err := g.raw.ModifyProcessInstance(ctx, &pb.ModifyProcessInstanceRequest{ProcessInstanceKey: unknownKey,
				ActivateInstructions: []*pb.ModifyProcessInstanceRequest_ActivateInstruction{{ElementId: "end"}}})
			return err
		}, codes.NotFound, []string{"Command 'MODIFY'"}},
		{"message without name", func() error {
			_, err := g.raw.PublishMessage(ctx, &pb.PublishMessageRequest{CorrelationKey: "k"})
			return err
		}, codes.InvalidArgument, []string{"name is empty"}},
		{"activation without type", func() error {
			_, err := c.NewActivateJobsCommand().JobType("").MaxJobsToActivate(1).Send(ctx)
			return err
		}, codes.InvalidArgument, []string{"type is empty"}},
		{"activation of no job", func() error {
			_, err := c.NewActivateJobsCommand().JobType("x").MaxJobsToActivate(0).Send(ctx)
			return err
		}, codes.InvalidArgument, []string{"maxJobsToActivate was 0"}},
		{"a start instruction without an element", func() error {
			_, err := g.raw.CreateProcessInstance(ctx, &pb.CreateProcessInstanceRequest{BpmnProcessId: "charge", Version: -1,
				StartInstructions: []*pb.ProcessInstanceCreationStartInstruction{{ElementId: "charge-card"}, {ElementId: ""}}})
			return err
		}, codes.InvalidArgument, []string{"start instruction 2 to name an element id"}},
		{"decision", func() error {
			_, err := c.NewEvaluateDecisionCommand().DecisionId("d").Send(ctx)
			return err
		}, codes.Unimplemented, []string{"DMN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantStatus(t, tc.call(), tc.code, tc.texts...) })
	}
}

// TestInvalidModelIsReported: a model that does not validate is
// INVALID_ARGUMENT with the validation report: file, element and what is
// wrong.
func TestInvalidModelIsReported(t *testing.T) {
	g := startGateway(t)
	_, err := g.client.NewDeployResourceCommand().AddResource(fixture(t, "invalid.bpmn"), "invalid.bpmn").Send(testContext(t))
	wantStatus(t, err, codes.InvalidArgument, "Command 'CREATE' rejected with code 'INVALID_ARGUMENT'", "invalid.bpmn", "nowhere")
	_, err = g.client.NewDeployResourceCommand().AddResource([]byte("<definitions"), "truncated.bpmn").Send(testContext(t))
	wantStatus(t, err, codes.InvalidArgument, "truncated.bpmn")
	_, err = g.client.NewDeployResourceCommand().AddResource([]byte("<definitions/>"), "rules.dmn").Send(testContext(t))
	wantStatus(t, err, codes.InvalidArgument, "rules.dmn", "DMN")
	_, err = g.raw.DeployResource(testContext(t), &pb.DeployResourceRequest{})
	wantStatus(t, err, codes.InvalidArgument, "at least one resource")
}

// TestDuplicateMessageID: a message id still alive is ALREADY_EXISTS.
func TestDuplicateMessageID(t *testing.T) {
	g := startGateway(t)
	publish := func() error {
		_, err := g.client.NewPublishMessageCommand().MessageName("payment-received").CorrelationKey("order-1").
			MessageId("payment-1").TimeToLive(time.Hour).Send(testContext(t))
		return err
	}
	if err := publish(); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, publish(), codes.AlreadyExists, "Command 'PUBLISH' rejected with code 'ALREADY_EXISTS'", "payment-1")
}

// TestJobNoLongerActivated: a job whose failure raised an incident refuses
// completion with FAILED_PRECONDITION.
func TestJobNoLongerActivated(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "service-task.bpmn")
	create(t, g.client, "charge", "")
	job := activateOne(t, g.client, "charge-card")
	if _, err := g.client.NewFailJobCommand().JobKey(job.Key).Retries(0).ErrorMessage("card reader broken").Send(testContext(t)); err != nil {
		t.Fatal(err)
	}
	_, err := g.client.NewCompleteJobCommand().JobKey(job.Key).Send(testContext(t))
	wantStatus(t, err, codes.FailedPrecondition, "Command 'COMPLETE' rejected with code 'INVALID_STATE'")
	_, err = g.client.NewThrowErrorCommand().JobKey(job.Key).ErrorCode("X").Send(testContext(t))
	wantStatus(t, err, codes.FailedPrecondition, "Command 'THROW_ERROR'")
}

// TestWithResultTimeout: a with-result creation whose instance does not end
// in time is DEADLINE_EXCEEDED; the instance goes on.
func TestWithResultTimeout(t *testing.T) {
	g := startGateway(t)
	deploy(t, g.client, "message-catch.bpmn")
	resp, err := g.raw.CreateProcessInstanceWithResult(testContext(t), &pb.CreateProcessInstanceWithResultRequest{
		Request: &pb.CreateProcessInstanceRequest{BpmnProcessId: "await-payment", Version: -1, Variables: `{"orderId":"o-1"}`}, RequestTimeout: 50})
	wantStatus(t, err, codes.DeadlineExceeded, "goes on")
	if resp != nil {
		t.Fatalf("a response with the error: %v", resp)
	}
	incidents, err := g.engine.Incidents(context.Background(), engine.IncidentQuery{})
	if err != nil || len(incidents) != 0 {
		t.Fatalf("incidents after the timeout: %v %v", incidents, err)
	}
}

// TestBackPressure: past the in-flight limit a request is
// RESOURCE_EXHAUSTED, and once the load is gone requests pass again.
func TestBackPressure(t *testing.T) {
	g := startGateway(t, WithMaxInFlight(1))
	deploy(t, g.client, "message-catch.bpmn")
	// One with-result creation waits for a message that never comes: it
	// holds the one slot until the test cancels it.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		g.raw.CreateProcessInstanceWithResult(ctx, &pb.CreateProcessInstanceWithResultRequest{
			Request: &pb.CreateProcessInstanceRequest{BpmnProcessId: "await-payment", Version: -1, Variables: `{"orderId":"o-1"}`}, RequestTimeout: 60_000})
	}()
	eventually(t, "the waiting request in flight", func() bool { return g.server.inFlight.Load() == 1 })
	_, err := g.client.NewPublishMessageCommand().MessageName("other").CorrelationKey("k").Send(testContext(t))
	wantStatus(t, err, codes.ResourceExhausted, "back-pressure", "limit is 1")
	cancel()
	wg.Wait()
	eventually(t, "the slot's release", func() bool { return g.server.inFlight.Load() == 0 })
	if _, err := g.client.NewPublishMessageCommand().MessageName("other").CorrelationKey("k").Send(testContext(t)); err != nil {
		t.Fatalf("a request once the load is gone: %v", err)
	}
}

// TestNoPartition: a node that owns no partition answers UNAVAILABLE, but
// still describes the topology.
func TestNoPartition(t *testing.T) {
	store := openStore(t)
	e, err := engine.Start(context.Background(), store, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	addr := serveGRPC(t, New(Static(e)))
	c := newClient(t, addr)
	_, err = c.NewCreateInstanceCommand().BPMNProcessId("x").LatestVersion().Send(testContext(t))
	wantStatus(t, err, codes.Unavailable, "owns no partition")
	_, err = c.NewActivateJobsCommand().JobType("x").MaxJobsToActivate(1).Send(testContext(t))
	wantStatus(t, err, codes.Unavailable, "owns no partition")
	topo, err := c.NewTopologyCommand().Send(testContext(t))
	if err != nil || topo.PartitionsCount != testPartitions {
		t.Fatalf("topology of a node without partitions: %v, %v", topo, err)
	}
}

// TestStatusOf: what the engine answers maps to Zeebe's codes, rejections
// worded as Zeebe words them.
func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code codes.Code
		says string
	}{
		{&engine.Rejection{Type: record.InvalidState, Reason: "it is in state 'FAILED'"}, codes.FailedPrecondition, "Command 'COMPLETE' rejected with code 'INVALID_STATE': it is in state 'FAILED'"},
		{&engine.Rejection{Type: record.ProcessingError, Reason: "boom"}, codes.Internal, "PROCESSING_ERROR"},
		{&engine.Rejection{Type: record.ExceededBatchRecordSize, Reason: "too big"}, codes.InvalidArgument, "EXCEEDED_BATCH_RECORD_SIZE"},
		{fmt.Errorf("%w: instance 1", engine.ErrTimeout), codes.DeadlineExceeded, "instance 1"},
		{fmt.Errorf("%w: partition 2", engine.ErrNoPartition), codes.Unavailable, "partition 2"},
		// Sent and cut short: the outcome is unknown, which no client
		// should retry blindly (before, the cancel said CANCELED).
		{fmt.Errorf("%w: the answer was lost: %w", storage.ErrOutcomeUnknown, context.Canceled), codes.Unknown, "may have taken effect"},
		// Cut short before it was sent: it reached no partition.
		{fmt.Errorf("%w: partition 1: the request ended before it was sent: %w", engine.ErrNoPartition, context.Canceled), codes.Unavailable, "before it was sent"},
		{context.Canceled, codes.Canceled, "cancelled"},
		{context.DeadlineExceeded, codes.DeadlineExceeded, "deadline"},
		{errors.New("disk on fire"), codes.Internal, "disk on fire"},
		{status.Error(codes.Aborted, "as is"), codes.Aborted, "as is"},
	} {
		st := status.Convert(statusOf(tc.err, "COMPLETE"))
		if st.Code() != tc.code || !strings.Contains(st.Message(), tc.says) {
			t.Errorf("statusOf(%v) = %s %q, want %s saying %q", tc.err, st.Code(), st.Message(), tc.code, tc.says)
		}
	}
	if statusOf(nil, "X") != nil {
		t.Error("statusOf(nil) is not nil")
	}
}
