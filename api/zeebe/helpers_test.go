package zeebe

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/entities"
	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"github.com/camunda/zeebe/clients/go/v8/pkg/zbc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"eddy/engine"
	"eddy/storage"
	_ "eddy/storage/pebble"
)

// testPartitions is more than one, so that cross-partition paths (a
// message on another partition than its instance, jobs on every
// partition) are always taken.
const testPartitions = 3

// openStore opens a fresh embedded store, closed when the test ends.
func openStore(t testing.TB) *storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := storage.Open(ctx, "pebble", t.TempDir(), storage.WithPartitions(testPartitions))
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// startEngine runs an engine on the given partitions of store (all of them
// when none is given), claimed for the test.
func startEngine(t testing.TB, store *storage.Store, partitions ...int) *engine.Engine {
	t.Helper()
	ctx := context.Background()
	if partitions == nil {
		for p := 0; p < store.Partitions(); p++ {
			partitions = append(partitions, p)
		}
	}
	epochs := map[int]uint64{}
	for _, p := range partitions {
		claim, err := store.Ownership().ClaimPartition(ctx, p, "zeebe-test", time.Minute)
		if err != nil {
			t.Fatalf("claiming partition %d: %v", p, err)
		}
		epochs[p] = claim.Epoch
	}
	e, err := engine.Start(ctx, store, engine.Options{Epochs: epochs})
	if err != nil {
		t.Fatalf("starting the engine: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// serveGRPC serves s on a free loopback port until the test ends and
// returns the address.
func serveGRPC(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := s.NewGRPC()
	done := make(chan struct{})
	go func() { defer close(done); g.Serve(ln) }()
	t.Cleanup(func() { g.Stop(); <-done })
	return ln.Addr().String()
}

// gateway is a server on a fresh engine over all partitions, with a Zeebe
// Go client and the raw protocol client (for what the Go client of 8.3
// does not offer, such as ModifyProcessInstance).
type gateway struct {
	engine *engine.Engine
	server *Server
	addr   string
	client zbc.Client
	raw    pb.GatewayClient
}

func startGateway(t testing.TB, opts ...Option) *gateway {
	t.Helper()
	e := startEngine(t, openStore(t))
	srv := New(Static(e), opts...)
	addr := serveGRPC(t, srv)
	return &gateway{engine: e, server: srv, addr: addr, client: newClient(t, addr), raw: rawClient(t, addr)}
}

// newClient is the Zeebe Go client as an application sets it up.
func newClient(t testing.TB, addr string) zbc.Client {
	t.Helper()
	c, err := zbc.NewClient(&zbc.ClientConfig{GatewayAddress: addr, UsePlaintextConnection: true})
	if err != nil {
		t.Fatalf("Zeebe client for %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func rawClient(t testing.TB, addr string) pb.GatewayClient {
	t.Helper()
	conn, err := grpc.Dial(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewGatewayClient(conn)
}

// fixture reads testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// deploy deploys fixtures and returns the process definition keys by BPMN
// process id.
func deploy(t testing.TB, c zbc.Client, names ...string) map[string]int64 {
	t.Helper()
	cmd := c.NewDeployResourceCommand()
	for _, n := range names {
		cmd = cmd.AddResource(fixture(t, n), n)
	}
	resp, err := cmd.Send(testContext(t))
	if err != nil {
		t.Fatalf("deploying %v: %v", names, err)
	}
	keys := map[string]int64{}
	for _, d := range resp.Deployments {
		p := d.GetProcess()
		keys[p.BpmnProcessId] = p.ProcessDefinitionKey
	}
	return keys
}

// create starts an instance of the latest version of process id.
func create(t testing.TB, c zbc.Client, id string, vars string) int64 {
	t.Helper()
	cmd := c.NewCreateInstanceCommand().BPMNProcessId(id).LatestVersion()
	if vars != "" {
		var err error
		if cmd, err = cmd.VariablesFromString(vars); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := cmd.Send(testContext(t))
	if err != nil {
		t.Fatalf("creating an instance of %s: %v", id, err)
	}
	return resp.ProcessInstanceKey
}

// activate activates up to n jobs of a type, waiting up to a minute for
// the first (a guard, not a measurement).
func activate(t testing.TB, c zbc.Client, jobType string, n int32) []entities.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	jobs, err := c.NewActivateJobsCommand().JobType(jobType).MaxJobsToActivate(n).Timeout(time.Minute).WorkerName("test").Send(ctx)
	if err != nil {
		t.Fatalf("activating %s jobs: %v", jobType, err)
	}
	return jobs
}

// activateOne activates exactly one job of a type.
func activateOne(t testing.TB, c zbc.Client, jobType string) entities.Job {
	t.Helper()
	jobs := activate(t, c, jobType, 1)
	if len(jobs) != 1 {
		t.Fatalf("activating one %s job: got %d", jobType, len(jobs))
	}
	return jobs[0]
}

func testContext(t testing.TB) context.Context {
	// A guard against a hung test, not a measurement.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantStatus fails the test unless err is a gRPC status with code whose
// message contains every one of texts.
func wantStatus(t testing.TB, err error, code codes.Code, texts ...string) {
	t.Helper()
	st, ok := status.FromError(err)
	if err == nil || !ok {
		t.Fatalf("got %v, want a %s status", err, code)
	}
	if st.Code() != code {
		t.Fatalf("got %s (%s), want %s", st.Code(), st.Message(), code)
	}
	for _, text := range texts {
		if !strings.Contains(st.Message(), text) {
			t.Fatalf("%s message %q does not say %q", code, st.Message(), text)
		}
	}
}

// eventually polls cond until it holds, failing after a minute (a guard).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within a minute", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ended reports whether process instance key has ended.
func ended(t testing.TB, e *engine.Engine, key int64) bool {
	t.Helper()
	_, err := e.InstanceState(context.Background(), key)
	return err != nil
}
