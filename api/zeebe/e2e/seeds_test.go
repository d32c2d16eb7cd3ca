package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"

	"eddy/api/rest"
	"eddy/bpmn"
)

// seed is a seed model and what it takes to run one instance of it: the
// job types to complete, the messages its catch events and receive tasks
// wait for, and the message that starts it when it has no none start.
type seed struct {
	file         string
	content      []byte
	processID    string
	jobTypes     []string
	catches      []string
	startMessage string
}

// seedDir holds the seed models: the engine's copy of the tickets models,
// in the repository, so that a clone tests on its own.
var seedDir = filepath.Join("..", "..", "..", "engine", "testdata", "seed-tickets")

// loadSeeds reads the BPMN files of dir.
func loadSeeds(t *testing.T, dir string) []seed {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.bpmn"))
	if len(files) == 0 {
		t.Fatalf("no seed models in %s", dir)
	}
	var out []seed
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := bpmn.Load(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		p := d.Processes[0]
		s := seed{file: filepath.Base(f), content: data, processID: p.ID}
		types := map[string]bool{}
		for i := range p.Elements {
			el := &p.Elements[i]
			if el.TaskDefinition != nil && !types[el.TaskDefinition.Type.Source] {
				types[el.TaskDefinition.Type.Source] = true
				s.jobTypes = append(s.jobTypes, el.TaskDefinition.Type.Source)
			}
			// Boundary events are left alone, so that the instance takes its
			// main path; start events are started once, below.
			if el.Message != nil && (el.Kind == bpmn.KindIntermediateCatchEvent || el.Kind == bpmn.KindReceiveTask) {
				s.catches = append(s.catches, el.Message.Name.Source)
			}
		}
		if p.NoneStart == bpmn.NoElement {
			if len(p.MessageStarts) == 0 {
				t.Fatalf("%s has neither a none nor a message start event", f)
			}
			s.startMessage = p.Element(p.MessageStarts[0]).Message.Name.Source
		}
		out = append(out, s)
	}
	return out
}

// seedVariables sets every correlation variable of the seed models to id,
// so that any message the instance waits for is published on key id.
func seedVariables(id string) string {
	vars, _ := json.Marshal(map[string]any{"sessionId": id, "reservationId": id, "paymentId": id, "myVarId": id, "ticketsQuantity": 2, "tickets": 2})
	return string(vars)
}

// runSeed runs one instance of s to its end over the Zeebe protocol:
// started by creation (with result) or by its start message, driven by
// completing its jobs and publishing what its catch events wait for.
func runSeed(t *testing.T, e *eddy, raw pb.GatewayClient, s seed, id string) {
	t.Helper()
	ctx := testContext(t)
	vars := seedVariables(id)
	done := make(chan error, 1)
	go func() {
		if s.startMessage == "" {
			resp, err := raw.CreateProcessInstanceWithResult(ctx, &pb.CreateProcessInstanceWithResultRequest{
				Request: &pb.CreateProcessInstanceRequest{BpmnProcessId: s.processID, Version: -1, Variables: vars}, RequestTimeout: 50_000})
			if err == nil && resp.BpmnProcessId != s.processID {
				err = errors.New("result of another process: " + resp.BpmnProcessId)
			}
			done <- err
			return
		}
		// Starting by message answers no instance key over the Zeebe
		// protocol; Eddy's REST extension waits for the instance it started.
		res, err := e.rest().PublishMessage(ctx, rest.PublishMessageRequest{Name: s.startMessage, CorrelationKey: id, Variables: json.RawMessage(vars),
			Await: rest.Await{AwaitCompletion: true, RequestTimeout: rest.Millis(50 * time.Second)}})
		if err == nil && (res.InstanceResult == nil || res.InstanceResult.State != "COMPLETED") {
			err = errors.New("the started instance did not complete")
		}
		done <- err
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", s.file, err)
			}
			return
		case <-ctx.Done():
			t.Fatalf("%s: the instance did not end", s.file)
		case <-time.After(5 * time.Millisecond):
		}
		for _, typ := range s.jobTypes {
			for _, job := range poll(ctx, t, raw, typ, -1) {
				if _, err := raw.CompleteJob(ctx, &pb.CompleteJobRequest{JobKey: job.Key, Variables: vars}); err != nil {
					t.Fatalf("%s: completing a %s job: %v", s.file, typ, err)
				}
			}
		}
		for _, name := range s.catches {
			// Without a time to live the message reaches only what waits
			// for it now: nothing is left over for the next round.
			if _, err := raw.PublishMessage(ctx, &pb.PublishMessageRequest{Name: name, CorrelationKey: id}); err != nil {
				t.Fatalf("%s: publishing %s: %v", s.file, name, err)
			}
		}
	}
}

// poll activates up to 32 jobs of a type, waiting up to requestTimeout ms
// (-1: not at all).
func poll(ctx context.Context, t testing.TB, raw pb.GatewayClient, jobType string, requestTimeout int64) []*pb.ActivatedJob {
	t.Helper()
	stream, err := raw.ActivateJobs(ctx, &pb.ActivateJobsRequest{Type: jobType, Worker: "e2e", Timeout: 60_000, MaxJobsToActivate: 32, RequestTimeout: requestTimeout})
	if err != nil {
		t.Fatalf("activating %s jobs: %v", jobType, err)
	}
	var jobs []*pb.ActivatedJob
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return jobs
		}
		if err != nil {
			t.Fatalf("activating %s jobs: %v", jobType, err)
		}
		jobs = append(jobs, resp.Jobs...)
	}
}
