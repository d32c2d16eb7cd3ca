package engine

import (
	"context"
	"testing"
	"time"

	"eddy/record"
)

// TestInstancesSpreadWhileWorkersPoll: every new job wakes the long polls
// of workers, and their activations must not decide where the next
// instances go: instances keep spreading over every partition.
func TestInstancesSpreadWhileWorkersPoll(t *testing.T) {
	e, store := startEngine(t, t.TempDir(), 2)
	defer store.Close()
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Deploy(ctx, resource(t, "three-tasks.bpmn")); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	// A worker for another type: it never gets a job, but every job
	// created wakes its long poll.
	go func() {
		for wctx.Err() == nil {
			if _, err := e.ActivateJobs(wctx, ActivateRequest{Type: "nobody", Worker: "w", Timeout: time.Minute, MaxJobs: 1, RequestTimeout: time.Minute}); err != nil {
				return
			}
		}
	}()
	per := map[int]int{}
	for range 40 {
		created, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "three"})
		if err != nil {
			t.Fatal(err)
		}
		per[record.PartitionOf(created.Key)]++
		// Let the long poll wake and look before the next create.
		time.Sleep(2 * time.Millisecond)
	}
	if per[0] != 20 || per[1] != 20 {
		t.Fatalf("40 instances went %v over the partitions, want 20 on each", per)
	}
}
