package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/storage"
)

// TestFencedPartitionStopsAndAnswersEveryone: when another node takes the
// partition over, the commits in flight fail, every request queued or in
// the pipe gets an error (none hangs, none is told it succeeded), and later
// requests learn that the partition stopped.
func TestFencedPartitionStopsAndAnswersEveryone(t *testing.T) {
	e, store := startEngine(t, t.TempDir(), 1)
	defer store.Close()
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Deploy(ctx, resource(t, "start-end.bpmn")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Ownership().ClaimPartition(ctx, 0, "intruder", time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "quick"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	fenced := 0
	for err := range errs {
		if err == nil {
			t.Fatal("a create was acknowledged on a partition this node no longer owns")
		}
		if errors.Is(err, storage.ErrFenced) {
			fenced++
		} else if !strings.Contains(err.Error(), "stopped") {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if fenced == 0 {
		t.Fatal("no request reported the fencing")
	}
	_, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "quick"})
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("after the partition stopped: %v", err)
	}
	if !errors.Is(err, ErrNoPartition) {
		t.Fatalf("a request to a stopped partition must be safe to send again: %v", err)
	}
	select {
	case <-e.Failed():
	default:
		t.Fatal("the engine does not report the stopped partition")
	}
	if !errors.Is(e.FailedErr(), storage.ErrFenced) {
		t.Fatalf("FailedErr: %v, want the fencing", e.FailedErr())
	}
}

// TestCloseCommitsWhatWasHandedOver: requests answered before Close are
// durable, and a restart sees all of them.
func TestCloseCommitsWhatWasHandedOver(t *testing.T) {
	dir := t.TempDir()
	e, store := startEngine(t, dir, 2)
	ctx := context.Background()
	if _, err := e.Deploy(ctx, resource(t, "three-tasks.bpmn")); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked []int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "three"})
			if err == nil {
				mu.Lock()
				acked = append(acked, r.Key)
				mu.Unlock()
			}
		}()
	}
	e.Close() // while requests are being sent, queued and committed

	wg.Wait()
	store.Close()
	e, store = startEngine(t, dir, 2)
	defer store.Close()
	defer e.Close()
	for _, k := range acked {
		if _, err := e.InstanceState(ctx, k); err != nil {
			t.Fatalf("instance %d was acknowledged before Close but is gone after a restart: %v", k, err)
		}
	}
	t.Logf("%d of 200 creates acknowledged before Close", len(acked))
}
