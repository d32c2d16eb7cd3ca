package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

// TestCloudEventsJobsDriveTheSeedModel runs TICKETS_CATCH (seed model
// tickets-catch-event.bpmn) with no external worker: its EMIT_ONLY tasks
// emit events, its WAIT_FOR_CLOUD_EVENT checkout is answered by a
// subscriber's reply, and events with a correlation key move it on.
func TestCloudEventsJobsDriveTheSeedModel(t *testing.T) {
	env := newEnv(t)
	env.deploy("tickets-catch-event.bpmn")
	// The payments service answers a checkout with Payments.RequestReceived
	// for the same process instance, as a Knative reply.
	payments := newSubscriber(t, func(_ int, e *cloudevents.Event, w http.ResponseWriter) {
		reply := event("Payments.RequestReceived", "payment-for-"+e.ID)
		reply.Data = []byte(`{"paymentId":"pay-7"}`)
		pik, _ := e.Extension(ExtProcessInstanceKey)
		reply.SetExtension(ExtProcessInstanceKey, pik)
		cloudevents.WriteResponse(w, http.StatusOK, &reply, cloudevents.Binary)
	})
	emitted := newSubscriber(t, nil)
	env.putTrigger("default", "payments", triggerYAML("payments", "Tickets.CheckedOut", payments.URL, ""))
	env.putTrigger("default", "emitted", triggerYAML("emitted", "Tickets.Emitted", emitted.URL, ""))
	queue := newSubscriber(t, nil)
	env.putTrigger("default", "queue", triggerYAML("queue", "Tickets.CustomerQueueJoined", queue.URL, ""))

	inst, err := env.eng.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "TICKETS_CATCH", Variables: []byte(`{"sessionId":"s-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	pik := strconv.FormatInt(inst.Key, 10)
	// EMIT_ONLY: the event names the job and the instance.
	joined := queue.wait(t, 1)[0].event
	for name, want := range map[string]string{ExtProcessInstanceKey: pik, ExtBpmnProcessID: "TICKETS_CATCH", ExtBpmnActivityID: "QueueToRequestTicketServiceTask"} {
		if v, _ := joined.Extension(name); v.Text != want {
			t.Errorf("extension %s = %q, want %q", name, v.Text, want)
		}
	}
	if v, _ := joined.Extension(ExtJobKey); v.Text != joined.ID {
		t.Errorf("jobkey %q and id %q: the id is the job key", v.Text, joined.ID)
	}
	if string(joined.Data) != `{"sessionId":"s-1"}` {
		t.Errorf("data %s, want the job's variables", joined.Data)
	}
	// The customer asks for tickets: an event with a correlation key
	// reaches the waiting catch event.
	req := event("Tickets.Requested", "req-1", CorrelationKeyExtension, "s-1")
	req.Data = []byte(`{"tickets":3}`)
	env.send(req)
	// Checkout waits for the payments service's reply, then the payment is
	// authorized by paymentId, which came with the reply.
	payments.wait(t, 1)
	auth := event("Payments.Authorized", "auth-1", CorrelationKeyExtension, "pay-7")
	eventually(t, "the checkout job to complete with the reply's data", func() bool {
		_, ok := env.waitingAt(t, inst.Key, paymentApproved)
		return ok
	})
	env.send(auth)
	got := emitted.wait(t, 1)[0].event
	if v, _ := got.Extension(ExtProcessInstanceKey); v.Text != pik {
		t.Fatalf("Tickets.Emitted for instance %q, want %s", v.Text, pik)
	}
	eventually(t, "the instance to end", func() bool {
		_, err := env.eng.InstanceState(t.Context(), inst.Key)
		var rej *engine.Rejection
		return errors.As(err, &rej) && rej.Type == record.NotFound
	})
}

// TestWaitOutlivesARestart arms a wait, restarts the node, and answers the
// wait afterwards: the job completes, and its event is not emitted again.
func TestWaitOutlivesARestart(t *testing.T) {
	env := newEnv(t)
	inst, jobKey, checkouts := checkoutWaiting(t, env, "s-2")
	env.waitEmitted(t, waitKey("Payments.RequestReceived", inst, jobKey))

	env.restart()
	// The job is still activated: nothing hands it out again, and the
	// answer completes it.
	answer := event("Payments.RequestReceived", "answer-2", ExtProcessInstanceKey, strconv.FormatInt(inst, 10))
	answer.Data = []byte(`{"paymentId":"pay-2"}`)
	env.send(answer)
	eventually(t, "the checkout to complete after the restart", func() bool {
		st, ok := env.waitingAt(t, inst, paymentApproved)
		return ok && string(st.Variables["paymentId"]) == `"pay-2"`
	})
	// The row goes with the processor's next commit.
	env.waitGone(t, waitKey("Payments.RequestReceived", inst, jobKey), "the answered wait's row to go")
	if n := checkouts.count(); n != 1 {
		t.Fatalf("Tickets.CheckedOut delivered %d times, want once", n)
	}
}

// TestWaitIsReArmedAfterItsTimeout lets a waiting job's activation time out:
// the worker takes it again, emits nothing new, and the answer completes it.
func TestWaitIsReArmedAfterItsTimeout(t *testing.T) {
	env := newEnv(t, WithWaitTimeout(time.Second))
	inst, _, checkouts := checkoutWaiting(t, env, "s-3")
	// Wait until the job has timed out at least once and been re-armed.
	eventually(t, "the job to be handed out again", func() bool {
		n := 0
		for p := 0; p < env.store.Partitions(); p++ {
			env.store.Read(context.Background(), p, 1, 1<<20, func(en storage.Entry) error {
				var r record.Record
				if record.Unmarshal(en.Data, &r) == nil && r.ValueType == record.Job && r.Intent == record.TimedOut {
					n++
				}
				return nil
			})
		}
		return n >= 1
	})
	answer := event("Payments.RequestReceived", "answer-3", ExtProcessInstanceKey, strconv.FormatInt(inst, 10))
	env.send(answer)
	eventually(t, "the checkout to complete", func() bool {
		_, ok := env.waitingAt(t, inst, paymentApproved)
		return ok
	})
	if n := checkouts.count(); n != 1 {
		t.Fatalf("Tickets.CheckedOut delivered %d times, want once", n)
	}
}

// TestAnswerToAFailedWaitingJobIsKept: the awaited event comes while its
// job is failed and waiting out a backoff, when the job cannot be
// completed. The wait keeps the answer, and the job, handed out again after
// the backoff, completes with it, emitting nothing new.
func TestAnswerToAFailedWaitingJobIsKept(t *testing.T) {
	env := newEnv(t)
	inst, jobKey, checkouts := checkoutWaiting(t, env, "s-4")
	key := waitKey("Payments.RequestReceived", inst, jobKey)
	env.waitEmitted(t, key)
	if err := env.eng.FailJob(t.Context(), jobKey, 3, "a hiccup", 2*time.Second, nil); err != nil {
		t.Fatal(err)
	}
	// Two answers while the job waits out its backoff: the first is the
	// one it completes with, as when it can be completed at once.
	for i, pay := range []string{"pay-4", "pay-4-again"} {
		answer := event("Payments.RequestReceived", "answer-4-"+strconv.Itoa(i), ExtProcessInstanceKey, strconv.FormatInt(inst, 10))
		answer.Data = []byte(`{"paymentId":"` + pay + `"}`)
		env.send(answer)
	}
	var st engine.InstanceState
	eventually(t, "the checkout to complete once the backoff is over", func() bool {
		var ok bool
		st, ok = env.waitingAt(t, inst, paymentApproved)
		return ok
	})
	if got := string(st.Variables["paymentId"]); got != `"pay-4"` {
		t.Fatalf("the checkout completed with paymentId %s, want the first answer's \"pay-4\"", got)
	}
	env.waitGone(t, key, "the answered wait's row to go")
	if n := checkouts.count(); n != 1 {
		t.Fatalf("Tickets.CheckedOut delivered %d times, want once", n)
	}
}

// TestEmittedEventAnswersAnotherTasksWait: one branch of an instance
// waits for par.done, which a cloudevents task of another branch emits.
// The emitted event names its own job in jobkey, which does not make it
// that job's answer only; a reply naming another job in jobkey answers
// only that one, and so not this wait.
func TestEmittedEventAnswersAnotherTasksWait(t *testing.T) {
	env := newEnv(t)
	env.deploy("wait-answered-by-emit.bpmn")
	inst, err := env.eng.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "PAR_WAIT", Variables: []byte(`{"run":"r-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	pik := strconv.FormatInt(inst.Key, 10)
	var ask int64
	eventually(t, "the ask task to wait for par.done", func() bool {
		env.b.state.scan(t.Context(), waitKeyPrefix("par.done", inst.Key), func(_, v []byte) error {
			var row waitRow
			if json.Unmarshal(v, &row) == nil && row.Emitted {
				ask = row.Job
			}
			return nil
		})
		return ask != 0
	})
	decoy := event("par.done", "decoy-1", ExtProcessInstanceKey, pik, ExtJobKey, strconv.FormatInt(ask+1000, 10))
	decoy.Data = []byte(`{"who":"decoy"}`)
	env.send(decoy)
	env.send(event("par.go", "go-1", CorrelationKeyExtension, "r-1"))
	eventually(t, "the instance to end", func() bool {
		_, err := env.eng.InstanceState(t.Context(), inst.Key)
		var rej *engine.Rejection
		return errors.As(err, &rej) && rej.Type == record.NotFound
	})
	completed := env.jobCompletion(t, ask)
	if strings.Contains(string(completed), "decoy") || !strings.Contains(string(completed), `"run":"r-1"`) {
		t.Fatalf("the ask job completed with %s, want the emitted par.done's data (the instance's variables)", completed)
	}
}

// jobCompletion is the variables job was completed with, from the log.
func (env *testEnv) jobCompletion(t *testing.T, job int64) json.RawMessage {
	t.Helper()
	var vars json.RawMessage
	found := false
	for p := 0; p < env.store.Partitions(); p++ {
		err := env.store.Read(t.Context(), p, 1, 1<<20, func(en storage.Entry) error {
			var r record.Record
			if record.Unmarshal(en.Data, &r) == nil && r.ValueType == record.Job && r.Intent == record.Completed && r.Key == job {
				vars, found = r.Value.Variables, true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("job %d has no completion on the log", job)
	}
	return vars
}

// TestWaitOfAJobCompletedElsewhereGoes: a waiting job completed by someone
// else (a client completing it by hand) takes its wait with it, so that
// waits do not pile up in the store.
func TestWaitOfAJobCompletedElsewhereGoes(t *testing.T) {
	env := newEnv(t)
	inst, jobKey, _ := checkoutWaiting(t, env, "s-5")
	key := waitKey("Payments.RequestReceived", inst, jobKey)
	env.waitEmitted(t, key)
	if err := env.eng.CompleteJob(t.Context(), jobKey, []byte(`{"paymentId":"by-hand"}`)); err != nil {
		t.Fatal(err)
	}
	env.waitGone(t, key, "the wait of the completed job to go")
}

// paymentApproved is the element the tickets model waits at once checkout
// is done.
const paymentApproved = "PaymentApprovedIntermediateCatchEvent"

// waitingAt returns instance key's state if one of its elements is element.
func (env *testEnv) waitingAt(t testing.TB, key int64, element string) (engine.InstanceState, bool) {
	st, err := env.eng.InstanceState(t.Context(), key)
	if err != nil {
		return st, false
	}
	for _, el := range st.Elements {
		if el.Value.ElementID == element {
			return st, true
		}
	}
	return st, false
}

// checkoutWaiting runs the tickets model for a session up to its
// cloudevents job's wait: the checkout event is out. It returns the
// instance's key, the job's, and the subscriber the checkout went to.
func checkoutWaiting(t *testing.T, env *testEnv, session string) (instance, job int64, checkouts *subscriber) {
	t.Helper()
	env.deploy("tickets-catch-event.bpmn")
	checkouts = newSubscriber(t, nil)
	env.putTrigger("default", "checkouts", triggerYAML("checkouts", "Tickets.CheckedOut", checkouts.URL, ""))
	inst, err := env.eng.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "TICKETS_CATCH", Variables: []byte(`{"sessionId":"` + session + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	env.send(event("Tickets.Requested", "req-"+session, CorrelationKeyExtension, session))
	job, err = strconv.ParseInt(checkouts.wait(t, 1)[0].event.ID, 10, 64)
	if err != nil {
		t.Fatalf("the checkout's id is not its job's key: %v", err)
	}
	return inst.Key, job, checkouts
}

// waitEmitted waits until the wait row at key is marked emitted.
func (env *testEnv) waitEmitted(t *testing.T, key []byte) {
	t.Helper()
	eventually(t, "the wait to be marked emitted", func() bool {
		v, err := env.b.state.get(context.Background(), key)
		return err == nil && strings.Contains(string(v), `"emitted":true`)
	})
}

// waitGone waits until the wait row at key is gone: what says why it goes.
func (env *testEnv) waitGone(t *testing.T, key []byte, what string) {
	t.Helper()
	eventually(t, what, func() bool {
		_, err := env.b.state.get(context.Background(), key)
		return errors.Is(err, storage.ErrNotFound)
	})
}

// failingEmissions is an engine whose log fails the events of one type as
// publish says (a stall until the context ends, a refusal), and which
// notes the jobs failed through it.
type failingEmissions struct {
	Engine
	typ     string
	publish func(ctx context.Context) error
	failed  chan int // the retries each FailJob leaves
}

func (s *failingEmissions) PublishEvent(ctx context.Context, req engine.EventRequest) (record.Record, error) {
	if req.Type == s.typ {
		return record.Record{}, s.publish(ctx)
	}
	return s.Engine.PublishEvent(ctx, req)
}

func (s *failingEmissions) FailJob(ctx context.Context, key int64, retries int, message string, backoff time.Duration, vars json.RawMessage) error {
	select {
	case s.failed <- retries:
	default:
	}
	return s.Engine.FailJob(ctx, key, retries, message, backoff, vars)
}

// stall is a publication that waits until its context ends.
func stall(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestStalledEmissionFailsWithinItsLock: an emission that has not finished
// when most of the job's lock has passed fails the job, which counts a
// retry; before, the job timed out with its retries untouched, and an
// emission that stalled each time was tried for ever.
func TestStalledEmissionFailsWithinItsLock(t *testing.T) {
	stalled := &failingEmissions{typ: "Tickets.CustomerQueueJoined", publish: stall, failed: make(chan int, 8)}
	env := newEnvThrough(t, func(e Engine) Engine { stalled.Engine = e; return stalled }, WithJobTimeout(time.Second))
	env.deploy("tickets-catch-event.bpmn")
	if _, err := env.eng.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "TICKETS_CATCH", Variables: []byte(`{"sessionId":"s-1"}`)}); err != nil {
		t.Fatal(err)
	}
	select {
	case retries := <-stalled.failed:
		if retries != 2 {
			t.Fatalf("the stalled emission failed its job with %d retries left, want 2 of 3", retries)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stalled emission never failed its job")
	}
}

// failingActivations is an engine whose job activations fail, as while a
// partition has no reachable owner; it counts them.
type failingActivations struct {
	Engine
	calls atomic.Int32
}

func (f *failingActivations) ActivateJobs(context.Context, engine.ActivateRequest) ([]record.Record, error) {
	f.calls.Add(1)
	return nil, fmt.Errorf("%w: partition 1: its owner cannot be reached", engine.ErrNoPartition)
}

// TestActivationFailuresAreWarnedOnce: activations that keep failing (a
// failover) are tried every second but warned of once, not every second.
func TestActivationFailuresAreWarnedOnce(t *testing.T) {
	var logs syncBuffer
	var f *failingActivations
	newEnvThrough(t, func(e Engine) Engine { f = &failingActivations{Engine: e}; return f },
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	eventually(t, "three failed activations", func() bool { return f.calls.Load() >= 3 })
	if n := strings.Count(logs.String(), "activating cloudevents jobs failed"); n != 1 {
		t.Fatalf("%d warnings for %d failed activations, want 1:\n%s", n, f.calls.Load(), logs.String())
	}
}

// syncBuffer is a bytes.Buffer that a logger and a test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailoverSpendsNoRetryOfAnEmission: an emission refused because the
// event's partition is changing hands (no reachable owner, or one that went
// away before it answered, which the ingress answers 503 for) is tried again
// with the job's retries untouched; before, each try of a failover spent
// one, and a failover longer than two backoffs (a --claim-timeout of 30s)
// made an incident of every job emitting to the dead node's partitions,
// and their instances never went on. Any other failure still spends one.
func TestFailoverSpendsNoRetryOfAnEmission(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"no reachable owner", fmt.Errorf("%w: partition 3: its owner at http://n2:8080 cannot be reached", engine.ErrNoPartition), 3},
		{"no owner", fmt.Errorf("%w: partition 3 has no owner that other nodes can reach", engine.ErrNoPartition), 3},
		{"owner gone before answering", fmt.Errorf("forwarding: %w", storage.ErrOutcomeUnknown), 3},
		{"refused", &engine.Rejection{Type: record.InvalidArgument, Reason: "no"}, 2},
		{"failed", errors.New("disk full"), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused := &failingEmissions{typ: "Tickets.CustomerQueueJoined", failed: make(chan int, 8),
				publish: func(context.Context) error { return tc.err }}
			env := newEnvThrough(t, func(e Engine) Engine { refused.Engine = e; return refused })
			env.deploy("tickets-catch-event.bpmn")
			if _, err := env.eng.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "TICKETS_CATCH", Variables: []byte(`{"sessionId":"s-1"}`)}); err != nil {
				t.Fatal(err)
			}
			select {
			case retries := <-refused.failed:
				if retries != tc.want {
					t.Fatalf("the refused emission failed its job with %d retries left, want %d of 3", retries, tc.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the refused emission never failed its job")
			}
		})
	}
}
