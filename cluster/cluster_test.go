package cluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/engine"
	"eddy/internal/pgtest"
	"eddy/record"
	"eddy/storage"
	_ "eddy/storage/postgres"
)

// node is one Eddy node of a test cluster: its own store handle on the
// shared PostgreSQL schema, its engine on the partitions it claimed, and
// the internal endpoint peers forward to.
type node struct {
	store  *storage.Store
	engine *engine.Engine
	srv    *httptest.Server
	peers  *Peers
	served atomic.Pointer[engine.Engine] // what the endpoint serves: set once the engine runs
	// frozen makes the endpoint take requests and not answer until thaw
	// is closed, as a stopped (SIGSTOP) node's kernel takes connections
	// for it.
	frozen atomic.Bool
	thaw   chan struct{}
}

// Acquire implements Engines: the node's one engine, once it runs.
func (n *node) Acquire(ctx context.Context) (*engine.Engine, context.Context, func()) {
	return n.served.Load(), ctx, func() {}
}

func startNode(t *testing.T, dsn, name string, parts []int, secret string) *node {
	t.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, "postgres", dsn, storage.WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	n := &node{store: store, thaw: make(chan struct{})}
	h := Handler(n, secret, nil)
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.frozen.Load() {
			select {
			case <-r.Context().Done():
			case <-n.thaw:
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	owner, err := Owner(name, n.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	epochs := map[int]uint64{}
	for _, p := range parts {
		c, err := store.Ownership().ClaimPartition(ctx, p, owner, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		epochs[p] = c.Epoch
	}
	n.peers = NewPeers(store, nil, secret)
	n.engine, err = engine.Start(ctx, store, engine.Options{Epochs: epochs, Peers: n.peers})
	if err != nil {
		t.Fatal(err)
	}
	n.served.Store(n.engine)
	t.Cleanup(func() {
		n.srv.Close()
		n.engine.Close()
		store.Close()
	})
	return n
}

func resource(t *testing.T, name string) record.Resource {
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return record.Resource{Name: name, Content: data}
}

// TestAnyNodeAcceptsAnyRequest: node a owns partitions 0 and 1, node b
// owns 2, node c owns none; every request sent to c (or to a for b's
// partition) is served by the owner.
func TestAnyNodeAcceptsAnyRequest(t *testing.T) {
	dsn := pgtest.Schema(t)
	a := startNode(t, dsn, "a", []int{0, 1}, "s3cret")
	startNode(t, dsn, "b", []int{2}, "s3cret")
	c := startNode(t, dsn, "c", nil, "s3cret")
	ctx := t.Context()

	if _, err := c.engine.Deploy(ctx, resource(t, "three-tasks.bpmn")); err != nil {
		t.Fatalf("deploy through a node without partitions: %v", err)
	}
	// Creations from c spread over every partition, each served by its
	// owner; the deploy answered once every partition had the deployment.
	byPartition := map[int]int64{}
	for len(byPartition) < 3 {
		r, err := c.engine.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "three"})
		if err != nil {
			t.Fatalf("create through c: %v", err)
		}
		byPartition[record.PartitionOf(r.Key)] = r.Key
	}
	remote := byPartition[2]
	st, err := a.engine.InstanceState(ctx, remote)
	if err != nil || st.Key != remote || len(st.Elements) != 1 || st.Elements[0].Value.ElementID != "a" {
		t.Fatalf("state of b's instance asked at a: %+v, %v", st, err)
	}

	// Workers on c get the jobs of every partition and complete them there;
	// create-with-result on c sees instances end on any partition.
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for _, typ := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for wctx.Err() == nil {
				jobs, err := c.engine.ActivateJobs(wctx, engine.ActivateRequest{Type: typ, Worker: "w", Timeout: time.Minute, MaxJobs: 10, RequestTimeout: time.Second})
				if err != nil {
					return
				}
				for _, j := range jobs {
					if err := c.engine.CompleteJob(wctx, j.Key, []byte(`{"`+typ+`":true}`)); err != nil && wctx.Err() == nil {
						t.Errorf("complete job %d through c: %v", j.Key, err)
					}
				}
			}
		}()
	}
	for p, key := range byPartition {
		if _, err := waitEnded(ctx, c.engine, key); err != nil {
			t.Fatalf("instance %d on partition %d did not end: %v", key, p, err)
		}
	}
	_, out, err := c.engine.CreateInstanceWithResult(ctx, engine.CreateRequest{BpmnProcessID: "three"}, 10*time.Second)
	if err != nil || !out.Completed || !strings.Contains(string(out.Variables), `"c":true`) {
		t.Fatalf("create with result through c: %+v, %v", out, err)
	}
	stop()
	wg.Wait()

	// Rejections come back as rejections, queries as answers.
	err = c.engine.CompleteJob(ctx, record.Key(2, 999999), nil)
	var rej *engine.Rejection
	if !errors.As(err, &rej) || rej.Type != record.NotFound {
		t.Fatalf("completing a missing job of b's partition through c: %v, want NOT_FOUND", err)
	}
	if _, err := c.engine.InstanceState(ctx, remote); !errors.As(err, &rej) || rej.Type != record.NotFound {
		t.Fatalf("state of an ended instance through c: %v, want NOT_FOUND", err)
	}
	if in, err := c.engine.Incidents(ctx, engine.IncidentQuery{}); err != nil || len(in) != 0 {
		t.Fatalf("incidents of all partitions through c: %v, %v", in, err)
	}
}

// waitEnded polls the instance until it is gone from the state.
func waitEnded(ctx context.Context, e *engine.Engine, key int64) (bool, error) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		_, err := e.InstanceState(ctx, key)
		var rej *engine.Rejection
		if errors.As(err, &rej) && rej.Type == record.NotFound {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false, errors.New("still running")
}

func TestForwardingNeedsTheSecret(t *testing.T) {
	dsn := pgtest.Schema(t)
	startNode(t, dsn, "a", []int{0, 1, 2}, "right")
	c := startNode(t, dsn, "c", nil, "wrong")
	_, err := c.engine.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "x"})
	// The request carried a secret: the answer says it is the wrong one,
	// and that no partition there can be reached from this node.
	if err == nil || !strings.Contains(err.Error(), "is not this node's") || !errors.Is(err, engine.ErrNoPartition) {
		t.Fatalf("forwarding with the wrong secret: %v, want ErrNoPartition saying the secret is not the owner's", err)
	}
}

func TestUnreachableOwner(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	store, err := storage.Open(ctx, "postgres", dsn, storage.WithPartitions(3))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	owner, _ := Owner("gone", gone.URL)
	gone.Close()
	for p := range 3 {
		if _, err := store.Ownership().ClaimPartition(ctx, p, owner, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	c := startNode(t, dsn, "c", nil, "")
	_, err = c.engine.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "x"})
	if !errors.Is(err, engine.ErrNoPartition) || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("owner gone: %v", err)
	}
	// The topology's probe: the gone node does not answer, a live one does.
	if c.peers.Probe(ctx, owner) {
		t.Error("the probe of a node that is gone says it answers")
	}
	self, _ := Owner("c", c.srv.URL)
	if !c.peers.Probe(ctx, self) {
		t.Error("the probe of a live node says it does not answer")
	}
}

// TestActivationPassesAnUnreachablePartitionBy: a node whose peer cannot
// be reached (dead, its claim not lapsed yet) still hands its workers the
// jobs of its own partitions, as Zeebe's gateway passes a partition
// without a leader by. Before, each activation waited for the unreachable
// partition's next owner first (5 s by default; here, an hour).
func TestActivationPassesAnUnreachablePartitionBy(t *testing.T) {
	for _, how := range []string{"gone", "frozen"} {
		t.Run(how, func(t *testing.T) { activationPassesBy(t, how) })
	}
}

// activationPassesBy is TestActivationPassesAnUnreachablePartitionBy with
// the other node gone (its server closed) or frozen (taking requests and
// never answering; before, the activation waited for the worker's
// deadline, and the jobs it had taken waited out their timeout).
func activationPassesBy(t *testing.T, how string) {
	dsn := pgtest.Schema(t)
	a := startNode(t, dsn, "a", []int{0, 1}, "")
	b := startNode(t, dsn, "b", []int{2}, "")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := a.engine.Deploy(ctx, resource(t, "three-tasks.bpmn")); err != nil {
		t.Fatal(err)
	}
	onA := 0
	for range 6 {
		r, err := a.engine.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "three"})
		if err != nil {
			t.Fatal(err)
		}
		if record.PartitionOf(r.Key) != 2 {
			onA++
		}
	}
	if how == "gone" {
		b.srv.Close() // its claim holds for a minute
	} else {
		b.frozen.Store(true)
		t.Cleanup(func() { close(b.thaw) }) // first: the nodes' requests to it end
	}
	a.peers.SetOwnerWait(time.Hour)
	jobs, err := a.engine.ActivateJobs(ctx, engine.ActivateRequest{Type: "a", Worker: "w", Timeout: time.Minute, MaxJobs: 10})
	if ctx.Err() != nil {
		t.Fatal("the activation waited for the unreachable partition's next owner")
	}
	if err != nil || len(jobs) != onA {
		t.Fatalf("activated %d jobs, %v; want the %d of a's own partitions", len(jobs), err, onA)
	}
	// The next passes the partition by for a moment without asking; with
	// no job left on a, it says the partition could not be reached.
	if jobs, err := a.engine.ActivateJobs(ctx, engine.ActivateRequest{Type: "a", Worker: "w", Timeout: time.Minute, MaxJobs: 10}); len(jobs) != 0 || !errors.Is(err, engine.ErrNoPartition) {
		t.Fatalf("activating again: %d jobs, %v; want none, and ErrNoPartition", len(jobs), err)
	}
}

func TestOwnerNames(t *testing.T) {
	cases := []struct {
		name, addr, want, err string
	}{
		{"n1", "http://10.0.0.5:8080", "n1@http://10.0.0.5:8080", ""},
		{"n1", "https://eddy.example/", "n1@https://eddy.example", ""},
		{"a@b", "http://x", "", "must not contain"},
		{"n1", "10.0.0.5:8080", "", "not an http(s) URL"},
		{"n1", "ftp://x", "", "not an http(s) URL"},
	}
	for _, c := range cases {
		got, err := Owner(c.name, c.addr)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Owner(%q, %q): %v, want error %q", c.name, c.addr, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want || ownerURL(got) != strings.TrimSuffix(c.addr, "/") {
			t.Errorf("Owner(%q, %q) = %q, %v", c.name, c.addr, got, err)
		}
	}
	if ownerURL("host-123") != "" || ownerURL("") != "" {
		t.Error("a plain node name has no address")
	}
}

// TestOnlyAPICommandsAreForwarded: the commands partitions exchange through
// their logs are refused at the internal endpoint.
func TestOnlyAPICommandsAreForwarded(t *testing.T) {
	dsn := pgtest.Schema(t)
	a := startNode(t, dsn, "a", []int{0, 1, 2}, "")
	ps := NewPeers(a.store, nil, "")
	for _, cmd := range []record.Record{
		{ValueType: record.ProcessMessageSubscription, Intent: record.Correlate, Key: record.Key(0, 5)},
		{ValueType: record.MessageSubscription, Intent: record.Create},
		{ValueType: record.Deployment, Intent: record.Create, Value: record.Value{Local: true}},
	} {
		r, err := ps.Send(t.Context(), 0, cmd)
		if err == nil && !r.Rejected() {
			t.Fatalf("%s %s was taken from a peer", cmd.ValueType, cmd.Intent)
		}
	}
}

// TestIncidentPagesAcrossNodes: a capped page of incidents asked at a node
// without partitions merges the lowest keys of every owner's partitions.
func TestIncidentPagesAcrossNodes(t *testing.T) {
	dsn := pgtest.Schema(t)
	startNode(t, dsn, "a", []int{0, 1}, "")
	startNode(t, dsn, "b", []int{2}, "")
	c := startNode(t, dsn, "c", nil, "")
	ctx := t.Context()
	if _, err := c.engine.Deploy(ctx, resource(t, "three-tasks.bpmn")); err != nil {
		t.Fatal(err)
	}
	// Jobs failed without retries raise incidents, on every partition.
	var created int
	deadline := time.Now().Add(10 * time.Second)
	for created < 9 && time.Now().Before(deadline) {
		if _, err := c.engine.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "three"}); err == nil {
			created++
		}
	}
	for failed := 0; failed < created && time.Now().Before(deadline); {
		jobs, err := c.engine.ActivateJobs(ctx, engine.ActivateRequest{Type: "a", Worker: "w", Timeout: time.Minute, MaxJobs: 10, RequestTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if err := c.engine.FailJob(ctx, j.Key, 0, "boom", 0, nil); err != nil {
				t.Fatal(err)
			}
			failed++
		}
	}
	all, err := c.engine.Incidents(ctx, engine.IncidentQuery{})
	if err != nil || len(all) != created {
		t.Fatalf("all incidents: %d (%v), want %d", len(all), err, created)
	}
	page, err := c.engine.Incidents(ctx, engine.IncidentQuery{After: all[1].Key, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 4 {
		t.Fatalf("page of 4 after the second incident: %d", len(page))
	}
	for i := range page {
		if page[i].Key != all[i+2].Key {
			t.Fatalf("page[%d] = %d, want %d", i, page[i].Key, all[i+2].Key)
		}
	}
}
