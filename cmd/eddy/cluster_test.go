package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/api/rest"
	"eddy/internal/pgtest"
	"eddy/record"
)

// TestAnyNodeServesEverything runs two nodes on one PostgreSQL: the first
// holds every partition, the second none when it starts (it gets its share
// while the test runs). Requests sent to the second are
// forwarded to the first; CloudEvents sent to the second reach the
// triggers the first applied from a file.
func TestAnyNodeServesEverything(t *testing.T) {
	dsn := pgtest.Schema(t)
	got := make(chan string, 10)
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.Header.Get("Ce-Type") + " " + string(body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sub.Close()
	triggers := filepath.Join(t.TempDir(), "triggers.yaml")
	yaml := fmt.Sprintf(`apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: orders
  namespace: default
spec:
  broker: default
  filter:
    attributes:
      type: order.placed
  subscriber:
    uri: %s
`, sub.URL)
	if err := os.WriteFile(triggers, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", "", "--cluster-secret", "s3cret"}
	first := startEddy(t, append(args, "--triggers", triggers)...)
	if ready := first.waitFor(t, "eddy is ready"); !strings.Contains(ready, "claimed=2") {
		t.Fatalf("first node: %s", ready)
	}
	second := startEddy(t, args...)
	ready := second.waitFor(t, "eddy is ready")
	if !strings.Contains(ready, "claimed=0") {
		t.Fatalf("second node: %s", ready)
	}
	address := "--address=http://" + httpAddress(t, ready)
	if _, stderr, code := eddy(t, "deploy", address, "testdata/noop.bpmn"); code != 0 {
		t.Fatalf("deploying through the node without partitions: %s", stderr)
	}
	// The deploy answered once both partitions had the deployment: the
	// run works at once, whichever partition it lands on.
	if stdout, stderr, code := eddy(t, "run", "noop", "--wait", address); code != 0 || !strings.Contains(stdout, `"COMPLETED"`) {
		t.Fatalf("run --wait through the node without partitions: %s %s", stdout, stderr)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddress(t, ready)+"/v1/events", strings.NewReader(`{"id":"42"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Id", "e-1")
	req.Header.Set("Ce-Source", "/shop")
	req.Header.Set("Ce-Type", "order.placed")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingress on the node without partitions: %s", resp.Status)
	}
	select {
	case d := <-got:
		if d != `order.placed {"id":"42"}` {
			t.Fatalf("the subscriber got %q", d)
		}
	case <-time.After(30 * time.Second): // a guard, not a measurement
		t.Fatal("the trigger never delivered the event")
	}
	second.stop(t)
	first.stop(t)
}

// TestNodeWithAnotherSecretIsRefused: a node started beside a live node
// with another --cluster-secret, or none where the cluster has one, does
// not start, and says why. Before, it joined, took partitions, and the
// nodes refused each other's forwarded requests: half of what clients sent
// failed.
func TestNodeWithAnotherSecretIsRefused(t *testing.T) {
	dsn := pgtest.Schema(t)
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", ""}
	first := startEddy(t, append(args, "--cluster-secret", "s3cret")...)
	first.waitFor(t, "eddy is ready")
	for _, c := range []struct{ secret, says string }{
		{"wrong", "both have one, not the same"},
		{"", "it has one, this node has none"},
	} {
		_, stderr, code := eddy(t, append(args, "--cluster-secret", c.secret)...)
		if code == 0 || !strings.Contains(stderr, "uses another --cluster-secret ("+c.says+")") {
			t.Errorf("a node with secret %q beside one with another: exit %d, %s; want it refused, saying %q", c.secret, code, stderr, c.says)
		}
	}
	// The same secret starts.
	second := startEddy(t, append(args, "--cluster-secret", "s3cret")...)
	second.waitFor(t, "eddy is ready")
	second.stop(t)
	first.stop(t)
}

// TestDeployOnOneNodeCreateOnAnother runs two nodes on one PostgreSQL, each
// holding one of its two partitions: a process deployed through one node
// can be started through the other right after the deploy answered, on the
// other node's own partition, every time.
func TestDeployOnOneNodeCreateOnAnother(t *testing.T) {
	ctx := t.Context()
	// The second node gets one partition from the first.
	store, args := sharedStore(t, 2)
	first := startEddy(t, args...)
	firstAddr := httpAddress(t, first.waitFor(t, "eddy is ready"))
	second := startEddy(t, args...)
	secondAddr := httpAddress(t, second.waitFor(t, "eddy is ready"))
	owners := waitForShare(t, store, map[string]int{firstAddr: 1, secondAddr: 1})
	firstPartition := 0
	if owners[0] != firstAddr {
		firstPartition = 1
	}
	nodes := []struct {
		client    *rest.Client
		partition int
	}{
		{rest.NewClient("http://"+firstAddr, nil), firstPartition},
		{rest.NewClient("http://"+secondAddr, nil), 1 - firstPartition},
	}
	for round := range 40 {
		deployer, creator := nodes[round%2], nodes[(round+1)%2]
		id := fmt.Sprintf("p%d", round)
		bpmn := strings.ReplaceAll(noopBPMN(t), `id="noop"`, `id="`+id+`"`)
		if _, err := deployer.client.Deploy(ctx, rest.File{Name: id + ".bpmn", Content: []byte(bpmn)}); err != nil {
			t.Fatalf("round %d: deploy through the node of partition %d: %v", round, deployer.partition, err)
		}
		r, err := creator.client.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: id})
		if err != nil {
			t.Fatalf("round %d: deployed through the node of partition %d, created through the other right after: %v", round, deployer.partition, err)
		}
		if got := record.PartitionOf(int64(r.ProcessInstanceKey)); got != creator.partition {
			t.Fatalf("round %d: the instance is on partition %d, not on %d of the node that created it", round, got, creator.partition)
		}
	}
	second.stop(t)
	first.stop(t)
}

func noopBPMN(t *testing.T) string { return string(readTestdata(t, "noop.bpmn")) }

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTriggerReplayAcrossNodes runs two nodes on one PostgreSQL, both
// delivering a trigger's events. A replay asked of the second pauses the
// trigger on both, moves its tokens to the log's start, and the events
// are delivered again, each once more.
func TestTriggerReplayAcrossNodes(t *testing.T) {
	dsn := pgtest.Schema(t)
	var mu sync.Mutex
	got := map[string]int{}
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Header.Get("Ce-Id")]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sub.Close()
	deliveries := func() (n int, each map[string]int) {
		mu.Lock()
		defer mu.Unlock()
		each = map[string]int{}
		for id, c := range got {
			n += c
			each[id] = c
		}
		return n, each
	}
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--claim-timeout", "2s", "--http", "127.0.0.1:0", "--grpc", ""}
	first := httpAddress(t, startEddy(t, args...).waitFor(t, "eddy is ready"))
	second := httpAddress(t, startEddy(t, args...).waitFor(t, "eddy is ready"))
	call := func(method, addr, path, contentType, body string, header ...string) (int, string) {
		t.Helper()
		return call(t, method, addr, path, contentType, body, header...)
	}
	trigger := "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: again\nspec:\n  broker: default\n" +
		"  filter:\n    attributes:\n      type: order.placed\n  subscriber:\n    uri: " + sub.URL + "\n"
	if code, body := call("PUT", first, "/v1/triggers/default/again", "application/yaml", trigger); code != http.StatusCreated {
		t.Fatalf("PUT trigger: %d %s", code, body)
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		for guard := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(guard) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	until("the second node to run the trigger", func() bool {
		_, body := call("GET", second, "/v1/triggers/default/again", "", "")
		return strings.Contains(body, `"running":true`)
	})
	for i := range 6 {
		id := fmt.Sprint("o-", i)
		if code, body := call("POST", first, "/v1/events", "text/plain", "x", "Ce-Specversion", "1.0", "Ce-Id", id,
			"Ce-Source", "/orders", "Ce-Type", "order.placed", "Ce-Partitionkey", id); code != http.StatusAccepted {
			t.Fatalf("POST event %s: %d %s", id, code, body)
		}
	}
	until("six deliveries", func() bool { n, _ := deliveries(); return n == 6 })
	if code, body := call("POST", second, "/v1/triggers/default/again/replay", "application/json", `{"from":"tail"}`); code != http.StatusOK {
		t.Fatalf("replay: %d %s", code, body)
	}
	until("every event delivered again", func() bool { n, _ := deliveries(); return n >= 12 })
	time.Sleep(200 * time.Millisecond) // room for a wrong thirteenth
	if n, each := deliveries(); n != 12 || len(each) != 6 {
		t.Fatalf("after the replay: %d deliveries, %v; want each of the 6 events twice", n, each)
	}
}

// call sends a request to the node at addr and returns the status and the
// body of its answer.
func call(t testing.TB, method, addr, path, contentType, body string, header ...string) (int, string) {
	t.Helper()
	code, answer, err := request(method, addr, path, contentType, body, header...)
	if err != nil {
		t.Fatal(err)
	}
	return code, answer
}

// request is call for a goroutine other than the test's: it returns the
// error.
func request(method, addr, path, contentType, body string, header ...string) (int, string, error) {
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestTriggerWritesAcrossNodesLoseNothing runs two nodes on one
// PostgreSQL, each changing one trigger at once from several clients, as
// Kubernetes clients do: read it, change it, PUT it back naming the
// resourceVersion read, and on a 409 read it again. A count kept in a
// label ends at the number of changes made: no change overwrote another.
func TestTriggerWritesAcrossNodesLoseNothing(t *testing.T) {
	dsn := pgtest.Schema(t)
	args := []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", "2", "--claim-timeout", "2s", "--http", "127.0.0.1:0", "--grpc", ""}
	nodes := []string{
		httpAddress(t, startEddy(t, args...).waitFor(t, "eddy is ready")),
		httpAddress(t, startEddy(t, args...).waitFor(t, "eddy is ready")),
	}
	doc := func(count int, rv string) string {
		return fmt.Sprintf(`{"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{"name":"counted","labels":{"count":"%d"},"resourceVersion":%q},`+
			`"spec":{"broker":"default","subscriber":{"uri":"http://127.0.0.1:9/"}}}`, count, rv)
	}
	if code, body := call(t, "PUT", nodes[0], "/v1/triggers/default/counted", "application/json", doc(0, "")); code != http.StatusCreated {
		t.Fatalf("PUT: %d %s", code, body)
	}
	const clients, changes = 3, 4
	var wg sync.WaitGroup
	var conflicts sync.Map
	errs := make(chan string, len(nodes)*clients)
	for _, node := range nodes {
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A precondition that never held would make a client
				// retry for ever: give up after many tries.
				for made, tries := 0, 0; made < changes; tries++ {
					if tries == 100*changes {
						errs <- fmt.Sprintf("%d tries made %d changes", tries, made)
						return
					}
					code, body, err := request("GET", node, "/v1/triggers/default/counted", "", "")
					var got struct {
						Metadata struct {
							ResourceVersion string
							Labels          map[string]string
						}
					}
					if err != nil || code != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
						errs <- fmt.Sprintf("GET: %d %s %v", code, body, err)
						return
					}
					var n int
					fmt.Sscan(got.Metadata.Labels["count"], &n)
					code, body, err = request("PUT", node, "/v1/triggers/default/counted", "application/json", doc(n+1, got.Metadata.ResourceVersion))
					switch {
					case err != nil:
						errs <- err.Error()
						return
					case code == http.StatusOK:
						made++
					case code == http.StatusConflict:
						conflicts.Store(fmt.Sprint(node, c), true)
					default:
						errs <- fmt.Sprintf("PUT: %d %s", code, body)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	_, body := call(t, "GET", nodes[1], "/v1/triggers/default/counted", "", "")
	want := fmt.Sprintf(`"count":"%d"`, len(nodes)*clients*changes)
	if !strings.Contains(body, want) {
		t.Fatalf("after %d changes the trigger is %s: want %s", len(nodes)*clients*changes, body, want)
	}
	n := 0
	conflicts.Range(func(_, _ any) bool { n++; return true })
	t.Logf("%d of %d clients were told of a conflict", n, len(nodes)*clients)
}
