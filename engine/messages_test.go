package engine

import (
	"strings"
	"testing"

	"eddy/record"
)

var messageModels = []string{"receive-task.bpmn", "message-boundary.bpmn", "message-start.bpmn", "message-audit.bpmn", "message.bpmn"}

func TestReceiveTask(t *testing.T) {
	cl := newCluster(t, 3)
	cl.deploy(messageModels...)
	pi := cl.create(1, "receive", `{"id":"a"}`)
	subs := cl.events(pi, record.ProcessMessageSubscription, record.Created)
	if len(subs) != 1 || subs[0].Value.Name != "ready" || subs[0].Value.CorrelationKey != "a" || subs[0].Value.ElementID != "wait" {
		t.Fatalf("subscription: %+v", subs)
	}
	// The key was evaluated on activation: changing the variable later
	// does not move the subscription.
	cl.setVariables(pi, `{"id":"b"}`, false)
	cl.publish("ready", "b", `{"x":1}`, 0)
	cl.mustBeActive(pi)
	cl.publish("ready", "a", `{"x":2}`, 0)
	cl.mustBeCompleted(pi)
	mustEqual(t, "result x", cl.result(pi)["x"], "2")
	mp := cl.cores[0].partitionFor("a")
	if n := len(cl.records(func(r *record.Record) bool {
		return r.Partition == mp && r.ValueType == record.MessageSubscription && r.Intent == record.Correlated && r.Value.ProcessInstanceKey == pi
	})); n != 1 {
		t.Fatalf("%d MESSAGE_SUBSCRIPTION CORRELATED records on the message's partition, want 1", n)
	}
	cl.quiet(pi)

	// A number is a correlation key too; a missing one is an incident.
	pi = cl.create(2, "receive", `{"id":42}`)
	cl.publish("ready", "42", "", 0)
	cl.mustBeCompleted(pi)
	pi = cl.create(0, "receive", `{}`)
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "EXTRACT_VALUE_ERROR")
	if !strings.Contains(inc.Value.ErrorMessage, "correlation key") {
		t.Fatalf("incident message: %s", inc.Value.ErrorMessage)
	}
	cl.setVariables(pi, `{"id":"late"}`, false)
	cl.resolve(inc.Key)
	cl.publish("ready", "late", "", 0)
	cl.mustBeCompleted(pi)
}

func TestMessageBoundaryEvents(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(messageModels...)
	pi := cl.create(0, "msgBoundary", `{"id":"x-1"}`)
	job := cl.job(pi, "work")
	cl.publish("note", "x-1", "", 0)
	cl.publish("note", "x-1", "", 0)
	mustEqual(t, "noted", cl.count(pi, "noted", record.ElementCompleted), 2)
	mustEqual(t, "work still active", len(cl.active(pi, "work")), 1)
	cl.publish("cancel", "x-1", `{"why":"asked"}`, 0)
	cl.mustBeCompleted(pi)
	mustEqual(t, "cancelled", cl.count(pi, "cancelled", record.ElementCompleted), 1)
	mustEqual(t, "result", cl.result(pi)["why"], `"asked"`)
	if r := cl.complete(job.Key, ""); r.Rejection != record.NotFound {
		t.Fatalf("job survived: %s", r.Rejection)
	}
	cl.quiet(pi)

	// Completing the task closes its subscriptions.
	pi = cl.create(1, "msgBoundary", `{"id":"x-2"}`)
	cl.mustComplete(cl.job(pi, "work").Key, "")
	cl.mustBeCompleted(pi)
	cl.quiet(pi)
	cl.publish("cancel", "x-2", "", 60_000)
	mustEqual(t, "cancelled", cl.count(pi, "cancelled", record.ElementActivating), 0)
}

func TestMessageCorrelatesOncePerProcess(t *testing.T) {
	cl := newCluster(t, 3)
	cl.deploy(messageModels...)
	o1 := cl.create(0, "order", `{"orderId":"k"}`)
	o2 := cl.create(1, "order", `{"orderId":"k"}`)
	audit := cl.create(2, "audit", `{"orderId":"k"}`)
	cl.publish("paid", "k", `{"amount":1}`, 0)
	done := func(pi int64) bool { d, _ := cl.ended(pi); return d }
	if done(o1) == done(o2) {
		t.Fatalf("one message completed %v and %v of the same process; want exactly one", done(o1), done(o2))
	}
	if !done(audit) {
		t.Fatal("the other process did not get the message")
	}
	cl.publish("paid", "k", `{"amount":1}`, 0)
	cl.mustBeCompleted(o1)
	cl.mustBeCompleted(o2)

	// A buffered message, too, goes to one instance per process.
	cl.publish("paid", "b", `{"amount":1}`, 60_000)
	b1 := cl.create(0, "order", `{"orderId":"b"}`)
	b2 := cl.create(1, "order", `{"orderId":"b"}`)
	b3 := cl.create(2, "audit", `{"orderId":"b"}`)
	cl.mustBeCompleted(b1)
	cl.mustBeActive(b2)
	cl.mustBeCompleted(b3)
}

func TestMessageWithoutTTLIsNotBuffered(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(messageModels...)
	r := cl.publish("paid", "z", `{"amount":1}`, 0)
	if r.Rejected() {
		t.Fatal(r.Reason)
	}
	mp := cl.cores[0].partitionFor("z")
	expired := cl.records(func(x *record.Record) bool {
		return x.Partition == mp && x.ValueType == record.Message && x.Intent == record.Expired && x.Key == r.Record.Key
	})
	mustEqual(t, "expired at once", len(expired), 1)
	mustEqual(t, "buffered messages", len(cl.cores[mp].st.messages.rows), 0)
	pi := cl.create(0, "order", `{"orderId":"z"}`)
	cl.mustBeActive(pi)

	// A negative TTL is refused.
	if r := cl.publish("paid", "z", "", -1); r.Rejection != record.InvalidArgument {
		t.Fatalf("negative TTL: %s", r.Rejection)
	}
}

func TestMessageStartEvent(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(messageModels...)

	r := cl.publish("order-placed", "k1", `{"n":1}`, 60_000)
	first := cl.started("msgStart")
	if len(first) != 1 {
		t.Fatalf("%d instances started, want 1", len(first))
	}
	mustEqual(t, "partition of the started instance", record.PartitionOf(first[0]), cl.cores[0].partitionFor("k1"))
	corr := cl.records(func(x *record.Record) bool {
		return x.ValueType == record.MessageStartEventSubscription && x.Intent == record.Correlated
	})
	if len(corr) != 1 || corr[0].Value.MessageKey != r.Record.Key || corr[0].Value.ProcessInstanceKey != first[0] {
		t.Fatalf("start correlation records: %+v", corr)
	}
	firstJob := cl.job(first[0], "handle")
	if v := jobVars(t, firstJob); v["n"] != "1" {
		t.Fatalf("the instance lacks the message's variables: %v", v)
	}
	for _, rec := range cl.events(first[0], record.ProcessInstance, 0) {
		if rec.Value.CorrelationKey != "" {
			t.Fatalf("process instance record carries the start key: %+v", rec)
		}
	}

	// While it runs, another message with the same key waits; one with
	// another key, or none, starts at once.
	cl.publish("order-placed", "k1", `{"n":2}`, 60_000)
	cl.publish("order-placed", "k1", `{"n":3}`, 0) // not buffered: lost
	mustEqual(t, "instances while k1 runs", len(cl.started("msgStart")), 1)
	cl.publish("order-placed", "k2", `{"n":4}`, 0)
	cl.publish("order-placed", "", `{"n":5}`, 0)
	cl.publish("order-placed", "", `{"n":6}`, 0)
	mustEqual(t, "instances after other keys", len(cl.started("msgStart")), 4)

	// When the first ends, the buffered message starts the next.
	cl.mustComplete(firstJob.Key, "")
	cl.mustBeCompleted(first[0])
	all := cl.started("msgStart")
	mustEqual(t, "instances after the first ended", len(all), 5)
	next := all[4]
	nextJob := cl.job(next, "handle")
	if v := jobVars(t, nextJob); v["n"] != "2" {
		t.Fatalf("the next instance has %v, want the buffered message's", v)
	}
	cl.restart()
	cl.mustComplete(nextJob.Key, "")
	cl.mustBeCompleted(next)
	mustEqual(t, "instances once nothing is buffered", len(cl.started("msgStart")), 5)

	// A buffered message that expired starts nothing.
	cl.publish("order-placed", "k3", "", 0)
	k3 := cl.started("msgStart")[5]
	cl.publish("order-placed", "k3", "", 1_000)
	cl.advance(1_000)
	cl.mustComplete(cl.job(k3, "handle").Key, "")
	mustEqual(t, "instances after the buffered message expired", len(cl.started("msgStart")), 6)
}

func TestBufferedMessagesCorrelateOldestFirst(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(messageModels...)
	for _, n := range []string{"1", "2", "3"} {
		cl.publish("paid", "fifo", `{"amount":`+n+`}`, 60_000)
	}
	for _, want := range []string{"1", "2", "3"} {
		pi := cl.create(1, "order", `{"orderId":"fifo"}`)
		cl.mustBeCompleted(pi)
		mustEqual(t, "amount", cl.result(pi)["amount"], want)
	}
	pi := cl.create(0, "order", `{"orderId":"fifo"}`)
	cl.mustBeActive(pi)
}

// TestMessageGoesToTheWaitingInstanceBeforeAStart: a message that both a
// waiting instance and a message start event of the same process could
// take goes to the waiting instance, and starts nothing, as in Zeebe; with
// no instance waiting, it starts one.
func TestMessageGoesToTheWaitingInstanceBeforeAStart(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("message-start-and-catch.bpmn")
	waiting := cl.create(0, "pingPong", `{"key":"k"}`)
	cl.mustBeActive(waiting)
	cl.publish("ping", "k", "", 0)
	cl.mustBeCompleted(waiting)
	mustEqual(t, "instances after a message the waiting one took", len(cl.started("pingPong")), 1)
	cl.publish("ping", "other", "", 0)
	mustEqual(t, "instances after a message nobody waited for", len(cl.started("pingPong")), 2)
}
