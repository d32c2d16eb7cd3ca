package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"eddy/engine"
	"eddy/internal/logtest"
	"eddy/record"
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

// untilLogged waits for cond, a minute at most (a guard, not a measure).
func untilLogged(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within a minute", what)
		}
	}
}
