package zeebe

import (
	"context"
	"sync"
	"testing"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"eddy/engine"
	"eddy/internal/logtest"
	"eddy/record"
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
// before the instance was created, or, if after, waits on the new engine;
// cut again at every try, it is ABORTED, naming the instance that goes on:
// a retry would start a second instance.
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

// replacedOnce hands out the first engine with a context it ends at the
// first request's Acquire-and-wait, then the second engine, as a node
// does that takes over the partition a request was waiting for.
type replacedOnce struct {
	first, second *engine.Engine
	mu            sync.Mutex
	acquired      int
}

func (r *replacedOnce) Acquire(ctx context.Context) (*engine.Engine, context.Context, func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acquired++
	if r.acquired > 1 {
		return r.second, ctx, func() {}
	}
	reqCtx, cancel := context.WithCancel(ctx)
	cancel() // the switch begins as the request waits
	return r.first, reqCtx, cancel
}

// TestRequestCutWhileNoOwnerRunsOnTheNewEngine: a request that found no
// owner for its partition (UNAVAILABLE: it reached none) and was cut short
// by a switch of the engine runs again on the new one, as a Zeebe gateway
// serves a request once a new leader is elected; the client sees the
// answer, not an error. Before, it got UNAVAILABLE at the very moment its
// node took the partition over.
func TestRequestCutWhileNoOwnerRunsOnTheNewEngine(t *testing.T) {
	store := openStore(t)
	first, second := startEngine(t, store), startEngine(t, store)
	src := &replacedOnce{first: first, second: second}
	s := New(src)
	var ran []*engine.Engine
	handler := func(ctx context.Context, _ any) (any, error) {
		e := ctx.Value(engineKey{}).(*engine.Engine)
		ran = append(ran, e)
		if e == first {
			<-ctx.Done()
			return nil, status.Error(codes.Unavailable, "partition 2: its owner cannot be reached")
		}
		return "served", nil
	}
	info := &grpc.UnaryServerInfo{FullMethod: "/gateway_protocol.Gateway/PublishMessage"}
	resp, err := s.unary(t.Context(), nil, info, handler)
	if err != nil || resp != "served" || len(ran) != 2 || ran[1] != second {
		t.Fatalf("answer %v, %v after running on %d engines; want it served by the new engine", resp, err, len(ran))
	}

	// A request the client itself cancels is not run again.
	src.acquired, ran = 0, nil
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.unary(ctx, nil, info, handler); status.Code(err) != codes.Unavailable || len(ran) != 1 {
		t.Fatalf("a request its client cancelled: %v after %d runs; want its own error, run once", err, len(ran))
	}
}

// switchedAway hands out the first engine with a context the test ends
// (cut), and then, once the test lets it (next), the second, as a node
// does whose engine is replaced while a request waits.
type switchedAway struct {
	first    *engine.Engine
	cut      context.CancelFunc
	acquired chan struct{}
	next     chan *engine.Engine
}

func (s *switchedAway) Acquire(ctx context.Context) (*engine.Engine, context.Context, func()) {
	if s.cut == nil {
		reqCtx, cancel := context.WithCancel(ctx)
		s.cut = cancel
		s.acquired <- struct{}{}
		return s.first, reqCtx, cancel
	}
	return <-s.next, ctx, func() {}
}

// TestWaitCutBySwitchGoesOnOnTheNewEngine: a create-with-result whose wait
// an engine switch cut short after the instance was created waits on the
// new engine and answers with the result, also when the instance ended
// while neither engine was there to hand its end over (it is found in the
// log). Before, the client got ABORTED and no result.
func TestWaitCutBySwitchGoesOnOnTheNewEngine(t *testing.T) {
	store := openStore(t)
	first := startEngine(t, store)
	deploy(t, newClient(t, serveGRPC(t, New(Static(first)))), "message-catch.bpmn")
	src := &switchedAway{first: first, acquired: make(chan struct{}, 1), next: make(chan *engine.Engine)}
	raw := rawClient(t, serveGRPC(t, New(src)))
	type answer struct {
		resp *pb.CreateProcessInstanceWithResultResponse
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := raw.CreateProcessInstanceWithResult(testContext(t), &pb.CreateProcessInstanceWithResultRequest{
			Request:        &pb.CreateProcessInstanceRequest{BpmnProcessId: "await-payment", Version: -1, Variables: `{"orderId":"o-1"}`},
			FetchVariables: []string{"orderId", "paid"}, RequestTimeout: 20_000})
		answered <- answer{resp, err}
	}()
	<-src.acquired
	eventually(t, "the instance's creation", func() bool { return logtest.ProcessRecords(t, store, record.ElementActivated) == 1 })
	src.cut() // the switch begins: the handler lets its engine go
	_, err := first.Publish(testContext(t), engine.PublishRequest{Name: "payment-received", CorrelationKey: "o-1", Variables: []byte(`{"paid":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the instance's end", func() bool { return logtest.ProcessRecords(t, store, record.ElementCompleted) == 1 })
	first.Close()
	second := startEngine(t, store)
	var got answer
	select {
	case src.next <- second:
		got = <-answered
	case got = <-answered:
		t.Fatalf("answered %v, %v without waiting on the new engine", got.resp, got.err)
	}
	if got.err != nil || got.resp.Variables != `{"orderId":"o-1","paid":true}` {
		t.Fatalf("answer %v, %v; want the instance's result from the new engine", got.resp, got.err)
	}
}
