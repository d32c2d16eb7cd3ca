package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/worker"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
)

// workerEnv, set to a gateway address, makes the test binary the
// benchmark's job worker process: the Go client's JobWorker for job types
// a, b and c, completing every job, until its standard input closes.
const workerEnv = "EDDY_E2E_WORKER"

// Worker settings, from the environment of the worker process.
const (
	workerMaxJobsEnv     = "EDDY_E2E_WORKER_MAX_JOBS"
	workerConcurrencyEnv = "EDDY_E2E_WORKER_CONCURRENCY"
)

const workerReady = "worker ready"

func runWorker(addr string) int {
	maxJobs, concurrency := envInt(workerMaxJobsEnv, 256), envInt(workerConcurrencyEnv, 32)
	c, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: addr, UsePlaintextConnection: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	handler := func(client worker.JobClient, job entities.Job) {
		if _, err := client.NewCompleteJobCommand().JobKey(job.Key).Send(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "completing job %d: %v\n", job.Key, err)
		}
	}
	var workers []worker.JobWorker
	for _, typ := range []string{"a", "b", "c"} {
		workers = append(workers, c.NewJobWorker().JobType(typ).Handler(handler).MaxJobsActive(maxJobs).Concurrency(concurrency).
			RequestTimeout(time.Second).Name("bench-"+typ).Open())
	}
	fmt.Println(workerReady)
	io.Copy(io.Discard, os.Stdin)
	closeWorkers(workers)
	return 0
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// startWorker runs the worker process against addr until the test ends.
func startWorker(t testing.TB, addr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"="+addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != workerReady {
		t.Fatalf("worker process: %q, %v", line, err)
	}
}
