package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"eddy/internal/gctarget"
	"eddy/record"
	"eddy/storage"
	_ "eddy/storage/pebble"
)

func startEngine(t testing.TB, dir string, partitions int) (*Engine, *storage.Store) {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, "pebble", dir, storage.WithPartitions(partitions))
	if err != nil {
		t.Fatal(err)
	}
	epochs := map[int]uint64{}
	for p := 0; p < store.Partitions(); p++ {
		c, err := store.Ownership().ClaimPartition(ctx, p, "test", time.Nanosecond)
		if err != nil {
			t.Fatal(err)
		}
		epochs[p] = c.Epoch
	}
	e, err := Start(ctx, store, Options{Epochs: epochs})
	if err != nil {
		t.Fatal(err)
	}
	return e, store
}

func resource(t testing.TB, name string) record.Resource {
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return record.Resource{Name: name, Content: data}
}

// worker completes every job of the given types until ctx ends.
func worker(ctx context.Context, e *Engine, types ...string) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, typ := range types {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				jobs, err := e.ActivateJobs(ctx, ActivateRequest{Type: typ, Worker: "w", Timeout: time.Minute, MaxJobs: 64, RequestTimeout: time.Second})
				if err != nil {
					return
				}
				var done sync.WaitGroup
				for _, j := range jobs {
					done.Add(1)
					go func() {
						defer done.Done()
						_ = e.CompleteJob(ctx, j.Key, []byte(`{"`+typ+`":1}`))
					}()
				}
				done.Wait()
			}
		}()
	}
	return &wg
}

func TestEngineCreateWithResultAndRestart(t *testing.T) {
	dir := t.TempDir()
	e, store := startEngine(t, dir, 3)
	ctx := context.Background()
	if _, err := e.Deploy(ctx, resource(t, "three-tasks.bpmn"), resource(t, "start-end.bpmn")); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	wg := worker(wctx, e, "a", "b", "c")
	for i := 0; i < 6; i++ {
		_, out, err := e.CreateInstanceWithResult(ctx, CreateRequest{BpmnProcessID: "three", Variables: []byte(`{"i":1}`), FetchVariables: []string{"i", "c"}}, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Completed || string(out.Variables) != `{"c":1,"i":1}` {
			t.Fatalf("outcome %+v %s", out, out.Variables)
		}
	}
	// An instance left waiting survives a restart.
	stop()
	wg.Wait()
	created, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "three"})
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	// Other components keep their own keys in a partition's state: the
	// engine must load past them.
	claim, err := store.Ownership().ClaimPartition(ctx, 0, "test", time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	foreign := storage.NewBatch(0, claim.Epoch)
	foreign.Put([]byte("dlq/some-processor/s1"), []byte("not the engine's"))
	if _, err := store.Commit(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	store.Close()

	e, store = startEngine(t, dir, 3)
	defer store.Close()
	defer e.Close()
	wctx, stop = context.WithCancel(ctx)
	defer stop()
	worker(wctx, e, "a", "b", "c")
	done := make(chan error, 1)
	go func() {
		_, err := e.outcomes.await(ctx, created.Key, 10*time.Second)
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("instance created before the restart did not complete: %v", err)
	}
}

func TestEngineRejectionsAndTimeouts(t *testing.T) {
	e, store := startEngine(t, t.TempDir(), 2)
	defer store.Close()
	defer e.Close()
	ctx := context.Background()
	_, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "missing"})
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Type != record.NotFound {
		t.Fatalf("got %v", err)
	}
	if _, err := e.Deploy(ctx, resource(t, "three-tasks.bpmn")); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.CreateInstanceWithResult(ctx, CreateRequest{BpmnProcessID: "three"}, 50*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("with-result without a worker: got %v", err)
	}
	err = e.CompleteJob(ctx, record.Key(7, 1), nil)
	if !errors.As(err, &rej) || !strings.Contains(rej.Reason, "partition 7") {
		t.Fatalf("a key of a partition that does not exist: %v", err)
	}
	if _, err := e.ActivateJobs(ctx, ActivateRequest{Type: "x", Worker: "w", Timeout: time.Second, RequestTimeout: time.Second}); !errors.As(err, &rej) || rej.Type != record.InvalidArgument {
		t.Fatalf("activation of zero jobs: %v", err)
	}
	jobs, err := e.ActivateJobs(ctx, ActivateRequest{Type: "none", Worker: "w", Timeout: time.Second, MaxJobs: 1, RequestTimeout: 20 * time.Millisecond})
	if err != nil || len(jobs) != 0 {
		t.Fatalf("long poll without jobs: %v %v", jobs, err)
	}
}

// BenchmarkThreeServiceTasks runs start → three service tasks → end with
// in-process workers: four per job type, each keeping up to 128 jobs in
// hand as Zeebe's JobWorker does. The garbage collector runs at Eddy's
// target (gctarget), as in the binary.
func BenchmarkThreeServiceTasks(b *testing.B) {
	defer gctarget.Apply()()
	e, store := startEngine(b, b.TempDir(), 2)
	defer store.Close()
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Deploy(ctx, resource(b, "three-tasks.bpmn")); err != nil {
		b.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	jobWorkers(wctx, e, 128, "a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c")
	inFlight(b, 1024, func() error {
		_, _, err := e.CreateInstanceWithResult(ctx, CreateRequest{BpmnProcessID: "three"}, time.Minute)
		return err
	})
}

func BenchmarkStartEnd(b *testing.B) {
	defer gctarget.Apply()()
	e, store := startEngine(b, b.TempDir(), 2)
	defer store.Close()
	defer e.Close()
	ctx := context.Background()
	if _, err := e.Deploy(ctx, resource(b, "start-end.bpmn")); err != nil {
		b.Fatal(err)
	}
	inFlight(b, 512, func() error {
		_, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "quick"})
		return err
	})
}

// inFlight runs b.N calls of fn with up to n at a time and reports the
// rate, and the process's CPU time per call: on a shared, noisy machine the
// CPU cost moves much less than the rate does.
func inFlight(b *testing.B, n int, fn func() error) {
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "instances/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/instance")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestEngineAnswersAfterClose(t *testing.T) {
	e, store := startEngine(t, t.TempDir(), 1)
	defer store.Close()
	e.Close()
	done := make(chan error, 1)
	go func() {
		_, err := e.CreateInstance(context.Background(), CreateRequest{BpmnProcessID: "x"})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stopped") {
			t.Fatalf("a request after Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a request after Close never returned")
	}
}

// TestRequestsRacingCloseAreAllAnswered: requests sent while the engine
// closes, some of them queued as the loop ends, all return: done or
// refused as stopped.
func TestRequestsRacingCloseAreAllAnswered(t *testing.T) {
	for round := range 20 {
		e, store := startEngine(t, t.TempDir(), 1)
		var wg sync.WaitGroup
		errs := make(chan error, 256)
		for g := range 256 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					_, err := e.PublishEvent(context.Background(), EventRequest{Source: "/s", ID: fmt.Sprint(g, "-", i), Type: "t", Encoded: []byte("x")})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(round) * time.Millisecond)
		e.Close()
		returned := make(chan struct{})
		go func() { wg.Wait(); close(returned) }()
		select {
		case <-returned:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: requests still waiting 30 s after Close", round)
		}
		close(errs)
		for err := range errs {
			if !strings.Contains(err.Error(), "stopped") {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		store.Close()
	}
}
