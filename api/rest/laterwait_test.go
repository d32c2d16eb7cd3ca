package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eddy/engine"
	"eddy/internal/logtest"
	"eddy/record"
	"eddy/storage"
)

// TestCutWaitFinishesOnTheNextEngine: a create-with-result whose wait an
// engine switch cut short after the instance was created writes nothing
// and is left to the caller, which finishes it on the next engine with the
// instance's result, also when the instance ended while no engine could
// hand its end over. Before, it answered 503 and no result.
func TestCutWaitFinishesOnTheNextEngine(t *testing.T) {
	store := openStore(t, "pebble")
	first := startEngine(t, store)
	if _, err := first.Deploy(testContext(t), record.Resource{Name: "message-catch.bpmn", Content: fixture(t, "message-catch.bpmn").Content}); err != nil {
		t.Fatal(err)
	}
	reqCtx, cut := context.WithCancel(testContext(t))
	ctx, finish := WithLaterWait(reqCtx)
	body := `{"bpmnProcessId":"await-payment","variables":{"orderId":"o-1"},"awaitCompletion":true,"requestTimeout":20000,"fetchVariables":["orderId","paid"]}`
	r := httptest.NewRequest(http.MethodPost, "/v1/process-instances", strings.NewReader(body)).WithContext(ctx)
	w := httptest.NewRecorder()
	served := make(chan struct{})
	go func() { New(first).ServeHTTP(w, r); close(served) }()
	untilLogged(t, "the instance's creation", func() bool { return logtest.ProcessRecords(t, store, record.ElementActivated) == 1 })
	cut() // the switch begins
	<-served
	if w.Body.Len() != 0 || len(w.Header()) != 0 {
		t.Fatalf("the handler answered %d %q itself; want the wait left to the caller", w.Code, w.Body)
	}
	if _, err := first.Publish(testContext(t), engine.PublishRequest{Name: "payment-received", CorrelationKey: "o-1", Variables: []byte(`{"paid":true}`)}); err != nil {
		t.Fatal(err)
	}
	untilLogged(t, "the instance's end", func() bool { return logtest.ProcessRecords(t, store, record.ElementCompleted) == 1 })
	first.Close()
	second := startEngine(t, store)
	next := func(ctx context.Context) (*engine.Engine, context.Context, func()) { return second, ctx, func() {} }
	if !finish(testContext(t), next, w, r) {
		t.Fatal("no wait was left to finish")
	}
	var got InstanceResult
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK || got.State != "COMPLETED" || string(got.Variables) != `{"orderId":"o-1","paid":true}` {
		t.Fatalf("answer %d %s (%v); want the instance's result", w.Code, w.Body, err)
	}

	// A request whose wait was not cut leaves nothing.
	_, finish = WithLaterWait(testContext(t))
	if finish(testContext(t), next, httptest.NewRecorder(), r) {
		t.Fatal("a wait finished that nobody left")
	}
}

// TestCutPublishWaitFinishesOnTheNextEngine: a publish-with-result whose
// wait an engine switch cut short after the message was published writes
// nothing and is left to the caller, which finishes it on the next engine:
// cut before the correlation, the next engine finds the correlation that
// came meanwhile on the logs; cut after it, the instance's end. Before,
// it answered 503 and no result.
func TestCutPublishWaitFinishesOnTheNextEngine(t *testing.T) {
	correlated := func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.ProcessMessageSubscription && r.Intent == record.Correlated
	}
	published := func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.Message && r.Intent == record.Published
	}
	for _, tc := range []struct {
		name string
		// instanceFirst creates the instance before the publish, so that
		// the message correlates before the cut.
		instanceFirst bool
		cutAfter      func(*record.Record) bool
	}{
		{name: "cut before the correlation", cutAfter: published},
		{name: "cut after the correlation", instanceFirst: true, cutAfter: correlated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := openStore(t, "pebble")
			first := startEngine(t, store)
			ctx := testContext(t)
			if _, err := first.Deploy(ctx, record.Resource{Name: "payment-then-shipping.bpmn", Content: fixture(t, "payment-then-shipping.bpmn").Content}); err != nil {
				t.Fatal(err)
			}
			create := func() {
				if _, err := first.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "pay-then-ship", Variables: []byte(`{"orderId":"o-1"}`)}); err != nil {
					t.Fatal(err)
				}
			}
			if tc.instanceFirst {
				create()
			}
			reqCtx, cut := context.WithCancel(ctx)
			wctx, finish := WithLaterWait(reqCtx)
			body := `{"name":"order-paid","correlationKey":"o-1","timeToLive":60000,"variables":{"paid":true},"awaitCompletion":true,"requestTimeout":20000,"fetchVariables":["orderId","paid","shipped"]}`
			r := httptest.NewRequest(http.MethodPost, "/v1/messages", strings.NewReader(body)).WithContext(wctx)
			w := httptest.NewRecorder()
			served := make(chan struct{})
			go func() { New(first).ServeHTTP(w, r); close(served) }()
			untilLogged(t, "the record to cut after", func() bool { return logtest.Records(t, store, tc.cutAfter) == 1 })
			cut()
			<-served
			if w.Body.Len() != 0 || len(w.Header()) != 0 {
				t.Fatalf("the handler answered %d %q itself; want the wait left to the caller", w.Code, w.Body)
			}
			if !tc.instanceFirst {
				create()
				untilLogged(t, "the correlation", func() bool { return logtest.Records(t, store, correlated) == 1 })
			}
			if _, err := first.Publish(ctx, engine.PublishRequest{Name: "order-shipped", CorrelationKey: "o-1", Variables: []byte(`{"shipped":true}`)}); err != nil {
				t.Fatal(err)
			}
			untilLogged(t, "the instance's end", func() bool { return logtest.ProcessRecords(t, store, record.ElementCompleted) == 1 })
			first.Close()
			second := startEngine(t, store)
			next := func(ctx context.Context) (*engine.Engine, context.Context, func()) { return second, ctx, func() {} }
			if !finish(ctx, next, w, r) {
				t.Fatal("no wait was left to finish")
			}
			var got PublishMessageResponse
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK || got.MessageKey == 0 || got.InstanceResult == nil ||
				got.ProcessInstanceKey == 0 || got.State != "COMPLETED" || string(got.Variables) != `{"orderId":"o-1","paid":true,"shipped":true}` {
				t.Fatalf("answer %d %s (%v); want the message's key and its instance's result", w.Code, w.Body, err)
			}
		})
	}
}

// untilRecords waits until store's log holds n records that match.
func untilRecords(t *testing.T, store *storage.Store, what string, n int, match func(*record.Record) bool) {
	t.Helper()
	untilLogged(t, what, func() bool { return logtest.Records(t, store, match) == n })
}

// untilLogged waits for cond, a minute at most (a guard, not a measure).
func untilLogged(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute", what)
		}
	}
}

// A message that starts an instance of one process (a message start event)
// and correlates to a waiting instance of another: an uncut publish-with-
// result answers with the first correlation, the start event's, written
// on the message's partition with the publication. Cut by a switch, the
// next engine answers the same, whichever partitions the instances are
// on. Before, it took the correlation on the lowest-numbered partition
// (here 5 of 12 messages were answered with the waiting instance).
func TestCutPublishWaitAnswersAsAnUncutOne(t *testing.T) {
	store := openStore(t, "pebble")
	first := startEngine(t, store)
	ctx := testContext(t)
	if _, err := first.Deploy(ctx, record.Resource{Name: "message-catch.bpmn", Content: fixture(t, "message-catch.bpmn").Content},
		record.Resource{Name: "audit-payment.bpmn", Content: fixture(t, "audit-payment.bpmn").Content}); err != nil {
		t.Fatal(err)
	}
	_, uncut, err := first.PublishWithResult(ctx, engine.PublishRequest{Name: "payment-received", CorrelationKey: "ref"}, 20*time.Second)
	if err != nil || uncut.BpmnProcessID != "audit-payment" {
		t.Fatalf("uncut publish-with-result: %+v, %v; want the audit-payment instance it started", uncut, err)
	}
	type published struct {
		key   int64
		since time.Time
	}
	var pubs []published
	for i := range 12 {
		id := fmt.Sprintf("o-%d", i)
		if _, err := first.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "await-payment", Variables: []byte(`{"orderId":"` + id + `"}`)}); err != nil {
			t.Fatal(err)
		}
		untilLogged(t, "the instance's subscription to "+id, func() bool {
			return logtest.Records(t, store, func(r *record.Record) bool {
				return r.Kind == record.Event && r.ValueType == record.MessageSubscription && r.Intent == record.Created && r.Value.CorrelationKey == id
			}) == 1
		})
		since := time.Now()
		m, err := first.Publish(ctx, engine.PublishRequest{Name: "payment-received", CorrelationKey: id})
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, published{m.Key, since})
	}
	// Each message correlated twice: to its waiting instance and to the
	// audit's start event (the reference once, to the start event only).
	untilRecords(t, store, "every correlation", 2*len(pubs)+1, func(r *record.Record) bool {
		return r.Kind == record.Event && r.Intent == record.Correlated &&
			(r.ValueType == record.ProcessMessageSubscription || r.ValueType == record.MessageStartEventSubscription)
	})
	first.Close()
	second := startEngine(t, store)
	for _, p := range pubs {
		key, err := second.AwaitCorrelation(ctx, p.key, p.since, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		out, err := second.AwaitInstance(ctx, record.Record{Key: key}, p.since, nil, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if out.BpmnProcessID != "audit-payment" {
			t.Errorf("message %d (partition %d): cut, the answer is instance %d of %s (partition %d); uncut, the audit-payment instance it started",
				p.key, record.PartitionOf(p.key), key, out.BpmnProcessID, record.PartitionOf(key))
		}
	}
}

// Two requests wait for one instance: a create-with-result, and the
// publish-with-result of the message that ends it. Both get its end.
// Before, the engine kept one waiter per instance: the second replaced the
// first, which timed out (504, "the process instance goes on", though it
// had completed).
func TestTwoWaitsForOneInstanceBothAnswered(t *testing.T) {
	store, h := serveDeployed(t, "payment-then-shipping.bpmn")
	post := func(path, body string) *httptest.ResponseRecorder { return postTo(h, path, body) }
	created := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		created <- post("/v1/process-instances", `{"bpmnProcessId":"pay-then-ship","variables":{"orderId":"o-2"},"awaitCompletion":true,"requestTimeout":20000}`)
	}()
	untilRecords(t, store, "the instance's subscription", 1, func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.ProcessMessageSubscription && r.Intent == record.Created
	})
	if w := post("/v1/messages", `{"name":"order-paid","correlationKey":"o-2"}`); w.Code != http.StatusOK {
		t.Fatalf("publishing order-paid: %d %s", w.Code, w.Body)
	}
	untilRecords(t, store, "the second subscription", 2, func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.ProcessMessageSubscription && r.Intent == record.Created
	})
	shipped := post("/v1/messages", `{"name":"order-shipped","correlationKey":"o-2","awaitCompletion":true,"requestTimeout":20000}`)
	for name, w := range map[string]*httptest.ResponseRecorder{"publish-with-result": shipped, "create-with-result": <-created} {
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"COMPLETED"`) {
			t.Errorf("%s: %d %s; want the instance's result", name, w.Code, w.Body)
		}
	}
}

// A publish-with-result whose message no instance takes in time says so:
// it names no instance that goes on, as there is none.
func TestPublishWaitNobodyTookSaysSo(t *testing.T) {
	e := startEngine(t, openStore(t, "pebble"))
	w := httptest.NewRecorder()
	New(e).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/messages",
		strings.NewReader(`{"name":"nobody-waits","correlationKey":"x","timeToLive":60000,"awaitCompletion":true,"requestTimeout":100}`)))
	if body := w.Body.String(); w.Code != http.StatusGatewayTimeout || !strings.Contains(body, "no process instance took it within 100ms") || strings.Contains(body, "goes on") {
		t.Errorf("%d %s; want 504 saying no instance took the message, and none that goes on", w.Code, body)
	}
}

// A publish-with-result of a message that expires without correlating (a
// time to live of 0, and no instance waiting, no process starting on it)
// answers at once that it did, 404 naming the message; before, it waited
// out its request timeout and answered 504. Messages of a time to live of
// 0 that instances wait for, on any partition, still answer with their
// result: the expiry, written with the publication, comes before their
// correlation on the instances' partitions.
func TestPublishWaitOfAnExpiredMessage(t *testing.T) {
	store, h := serveDeployed(t, "message-catch.bpmn")
	e := h.engine
	ctx := testContext(t)
	publish := func(body string) *httptest.ResponseRecorder { return postTo(h, "/v1/messages", body) }
	w := publish(`{"name":"payment-received","correlationKey":"nobody","timeToLive":0,"awaitCompletion":true,"requestTimeout":60000}`)
	if body := w.Body.String(); w.Code != http.StatusNotFound || !strings.Contains(body, "expired without correlating") || !strings.Contains(body, `"messageKey"`) {
		t.Errorf("a message nobody took: %d %s; want 404 saying it expired without correlating, with its key", w.Code, body)
	}
	const n = 6
	for i := range n {
		id := fmt.Sprintf("o-%d", i)
		if _, err := e.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "await-payment", Variables: []byte(`{"orderId":"` + id + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	untilRecords(t, store, "every instance's subscription", n, func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.MessageSubscription && r.Intent == record.Created
	})
	for i := range n {
		w := publish(fmt.Sprintf(`{"name":"payment-received","correlationKey":"o-%d","timeToLive":0,"awaitCompletion":true,"requestTimeout":60000}`, i))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"COMPLETED"`) {
			t.Errorf("o-%d, waited for: %d %s; want its instance's result", i, w.Code, w.Body)
		}
	}
}

// A message whose process's start event took no instance for it, since
// an instance it started by that correlation key is still active, expires
// with a 404 that says so; it said that no process starts on it, which
// sent one to look for a missing deployment.
func TestPublishWaitOfAMessageItsStartEventHeldBack(t *testing.T) {
	_, h := serveDeployed(t, "order-start-work.bpmn")
	if w := postTo(h, "/v1/messages", `{"name":"order-placed","correlationKey":"o-1","timeToLive":0}`); w.Code != http.StatusOK {
		t.Fatalf("the message that starts the instance: %d %s", w.Code, w.Body)
	}
	w := postTo(h, "/v1/messages", `{"name":"order-placed","correlationKey":"o-1","timeToLive":0,"awaitCompletion":true,"requestTimeout":60000}`)
	body := w.Body.String()
	if w.Code != http.StatusNotFound || !strings.Contains(body, "expired without correlating") || strings.Contains(body, "no process starts on it") ||
		!strings.Contains(body, "started with this correlation key was still active") {
		t.Errorf("the second message: %d %s; want 404 saying the instance it started with its correlation key was active, not that no process starts on it", w.Code, body)
	}
}

// Cut by an engine switch, the wait for a message that expired without
// correlating learns it from the message's partition's log.
func TestCutPublishWaitOfAnExpiredMessage(t *testing.T) {
	store := openStore(t, "pebble")
	first := startEngine(t, store)
	ctx := testContext(t)
	since := time.Now()
	m, err := first.Publish(ctx, engine.PublishRequest{Name: "nobody-waits", CorrelationKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	untilRecords(t, store, "the expiry", 1, func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.Message && r.Intent == record.Expired
	})
	first.Close()
	second := startEngine(t, store)
	if _, err := second.AwaitCorrelation(ctx, m.Key, since, time.Minute); !errors.Is(err, engine.ErrNotCorrelated) {
		t.Errorf("waiting on the next engine: %v; want ErrNotCorrelated", err)
	}
}

// serveDeployed is a REST server on an engine of its own store, with the
// fixture deployed.
func serveDeployed(t *testing.T, fixtureName string) (*storage.Store, *Server) {
	store := openStore(t, "pebble")
	e := startEngine(t, store)
	if _, err := e.Deploy(testContext(t), record.Resource{Name: fixtureName, Content: fixture(t, fixtureName).Content}); err != nil {
		t.Fatal(err)
	}
	return store, New(e)
}

// postTo POSTs body to h at path.
func postTo(h http.Handler, path, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return w
}

// A message offered to an instance whose partition is down (its node, or
// a change of hands) expires before the instance takes it; meanwhile the
// waiting node's engine is switched. The instance takes the message once
// its partition is back: the wait, on the next engine, answers with it,
// not that the message expired uncorrelated (which it did before: the new
// engine had not seen the offer).
func TestCutWaitOfAnOfferPendingAcrossTheExpiry(t *testing.T) {
	store := openStore(t, "pebble")
	ctx := testContext(t)
	all := startEngine(t, store)
	if _, err := all.Deploy(ctx, record.Resource{Name: "message-catch.bpmn", Content: fixture(t, "message-catch.bpmn").Content}); err != nil {
		t.Fatal(err)
	}
	const key = "order-pending"
	home := all.PartitionForKey(key)
	var others []int
	for p := range store.Partitions() {
		if p != home {
			others = append(others, p)
		}
	}
	untilRecords(t, store, "the deployment on every partition", store.Partitions(), func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.Deployment && r.Intent == record.Created
	})
	all.Close()
	// The instance waits on a partition of node B, which then goes down.
	b := startOnPartitions(t, store, others...)
	inst, err := b.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: "await-payment", Variables: []byte(`{"orderId":"` + key + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	untilRecords(t, store, "the subscription's command", 1, func(r *record.Record) bool {
		return r.Kind == record.Command && r.ValueType == record.MessageSubscription && r.Intent == record.Create
	})
	b.Close()
	// Node A holds the message's partition: the message is offered there.
	a := startOnPartitions(t, store, home)
	since := time.Now()
	m, err := a.Publish(ctx, engine.PublishRequest{Name: "payment-received", CorrelationKey: key, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	untilRecords(t, store, "the offer", 1, func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.MessageSubscription && r.Intent == record.Correlating && r.Value.MessageKey == m.Key
	})
	a.Close()
	next := startOnPartitions(t, store, home)
	answered := make(chan int64, 1)
	go func() {
		k, err := next.AwaitCorrelation(ctx, m.Key, since, time.Minute)
		if err != nil {
			t.Errorf("the wait on the next engine: %v; want the instance that took the message", err)
		}
		answered <- k
	}()
	untilRecords(t, store, "the expiry", 1, func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.Message && r.Intent == record.Expired
	})
	startOnPartitions(t, store, others...)
	if k := <-answered; k != inst.Key {
		t.Errorf("the wait answered instance %d; want %d, which took the message", k, inst.Key)
	}
}

// startOnPartitions runs an engine on partitions parts of store only, as a
// node of several sharing it.
func startOnPartitions(t *testing.T, store *storage.Store, parts ...int) *engine.Engine {
	t.Helper()
	epochs := map[int]uint64{}
	for _, p := range parts {
		claim, err := store.Ownership().ClaimPartition(context.Background(), p, "rest-test", time.Minute)
		if err != nil {
			t.Fatalf("claiming partition %d: %v", p, err)
		}
		epochs[p] = claim.Epoch
	}
	e, err := engine.Start(context.Background(), store, engine.Options{Epochs: epochs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}
