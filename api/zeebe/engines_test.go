package zeebe

import (
	"context"
	"sync"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/engine"
)

// switching hands out one engine, with request contexts it can end all at
// once, as a node does when it replaces its engine.
type switching struct {
	e        *engine.Engine
	mu       sync.Mutex
	cancels  []context.CancelFunc
	acquired chan struct{}
}

func (s *switching) Acquire(ctx context.Context) (*engine.Engine, context.Context, func()) {
	reqCtx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.cancels = append(s.cancels, cancel)
	s.mu.Unlock()
	s.acquired <- struct{}{}
	return s.e, reqCtx, cancel
}

func (s *switching) replace() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cancels {
		c()
	}
}

// TestEngineReplacement: when the engine is being replaced, a long poll
// ends empty (the worker polls again, on the new engine), and a request
// waiting for a result is UNAVAILABLE, which clients retry, if it was cut
// before the instance was created, or ABORTED, naming the instance that
// goes on, if after: a retry would start a second instance.
func TestEngineReplacement(t *testing.T) {
	e := startEngine(t, openStore(t))
	src := &switching{e: e, acquired: make(chan struct{}, 16)}
	g := &gateway{engine: e}
	g.addr = serveGRPC(t, New(src))
	g.client, g.raw = newClient(t, g.addr), rawClient(t, g.addr)
	deploy(t, g.client, "message-catch.bpmn")
	<-src.acquired

	polled := make(chan error, 1)
	var jobs []*pb.ActivatedJob
	go func() {
		var err error
		jobs, err = pollOnce(testContext(t), g, &pb.ActivateJobsRequest{Type: "none", Worker: "w", Timeout: 1000, MaxJobsToActivate: 1, RequestTimeout: 60_000})
		polled <- err
	}()
	waited := make(chan error, 1)
	go func() {
		_, err := g.raw.CreateProcessInstanceWithResult(testContext(t), &pb.CreateProcessInstanceWithResultRequest{
			Request: &pb.CreateProcessInstanceRequest{BpmnProcessId: "await-payment", Version: -1, Variables: `{"orderId":"o"}`}, RequestTimeout: 60_000})
		waited <- err
	}()
	<-src.acquired // both requests are in
	<-src.acquired
	// Both are in their handlers or about to be; a replacement cancels
	// them wherever they are.
	eventually(t, "the requests' end after the replacement", func() bool {
		src.replace()
		return len(polled) == 1 && len(waited) == 1
	})
	if err := <-polled; err != nil || len(jobs) != 0 {
		t.Fatalf("long poll during a replacement: %v, %v; want an empty answer", jobs, err)
	}
	err := <-waited
	if status.Code(err) == codes.Aborted {
		wantStatus(t, err, codes.Aborted, "the instance goes on")
		return
	}
	wantStatus(t, err, codes.Unavailable, "restarting")
}
