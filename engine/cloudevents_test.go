package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"eddy/record"
	"eddy/storage"
)

func eventCommand(source, id, typ, correlationKey, data string) record.Record {
	return record.Record{ValueType: record.CloudEvent, Intent: record.Publish, Key: -1, Value: record.Value{
		Source: source, MessageID: id, Name: typ, CorrelationKey: correlationKey,
		Variables: json.RawMessage(data), Event: []byte("encoded " + id),
	}}
}

// countRecords counts records of a value type and intent on every
// partition's log.
func (cl *cluster) countRecords(vt record.ValueType, in record.Intent) int {
	n := 0
	for _, recs := range cl.log {
		for _, r := range recs {
			if r.Kind == record.Event && r.ValueType == vt && r.Intent == in {
				n++
			}
		}
	}
	return n
}

func TestCloudEventIsLoggedOnceWithinTheWindow(t *testing.T) {
	cl := newCluster(t, 2)
	first := cl.run(0, eventCommand("/queue", "e-1", "queue.joined", "", `{"customer":"c-1"}`))
	if first.Rejected() || first.Record.ValueType != record.CloudEvent || first.Record.Intent != record.Published {
		t.Fatalf("first delivery: %+v", first)
	}
	if string(first.Record.Value.Event) != "encoded e-1" || first.Record.Value.Variables != nil {
		t.Fatalf("the logged event must carry the encoded event once and no copy of its data: %+v", first.Record.Value)
	}
	again := cl.run(0, eventCommand("/queue", "e-1", "queue.joined", "", `{"customer":"c-1"}`))
	if again.Rejected() || !again.Record.Value.Duplicate || again.Record.Key != first.Record.Key {
		t.Fatalf("redelivery within the window: %+v, want the first key %d marked duplicate", again.Record, first.Record.Key)
	}
	other := cl.run(0, eventCommand("/other", "e-1", "queue.joined", "", `{}`))
	if other.Record.Value.Duplicate {
		t.Fatal("the same id from another source is another event")
	}
	if n := cl.countRecords(record.CloudEvent, record.Published); n != 2 {
		t.Fatalf("%d events on the log, want 2", n)
	}
	cl.advance(DefaultLimits.EventDedupWindow.Milliseconds() + 1)
	late := cl.run(0, eventCommand("/queue", "e-1", "queue.joined", "", `{}`))
	if late.Record.Value.Duplicate {
		t.Fatal("after the window the same source and id is a new event")
	}
	if w := cl.cores[0].st.events; w.len() != 1 || w.index.len()+len(w.others) != 1 {
		t.Fatalf("expired ids are kept: %d entries, %d indexed", w.len(), w.index.len()+len(w.others))
	}
}

func TestCloudEventStartsAndCorrelates(t *testing.T) {
	cl := newCluster(t, 3)
	cl.deploy("event-start.bpmn", "message.bpmn")
	// An event whose type names a message start event starts an instance
	// with the event's data as variables.
	cl.run(1, eventCommand("/web", "r-1", "tickets.requested", "", `{"seats":2}`))
	jobs := cl.activate(1, "reserve")
	if len(jobs) != 1 || string(jobs[0].Value.Variables) != `{"seats":2}` {
		t.Fatalf("instance started by the event: jobs %+v", jobs)
	}
	// An event with a correlation key is the message of its type for the
	// instance waiting on that key, wherever that instance lives.
	pi := cl.create(0, "order", `{"orderId":"o-9"}`)
	mp := (&Core{partitions: 3}).partitionFor("o-9")
	ev := eventCommand("/payments", "p-1", "paid", "o-9", `{"amount":500}`)
	if r := cl.run(mp, ev); r.Rejected() {
		t.Fatal(r.Reason)
	}
	if done, _ := cl.ended(pi); !done {
		t.Fatal("the instance waiting for o-9 did not complete")
	}
	if got := cl.visited(pi); got[len(got)-1] != "bigEnd" {
		t.Fatalf("instance path %v: the event's data did not become variables", got)
	}
	// An event that binds to nothing is only logged.
	before := cl.countRecords(record.Message, record.Published)
	cl.run(2, eventCommand("/web", "x-1", "page.viewed", "", `{}`))
	if cl.countRecords(record.Message, record.Published) != before {
		t.Fatal("an event no process listens for became a message")
	}
}

// TestCloudEventRedeliveredAfterTheWindowIsOneMessage: a redelivery that
// comes after the duplicate window, while the first delivery's message is
// still buffered, is logged again but does not buffer a second message:
// only one of two instances waiting on the key gets it.
func TestCloudEventRedeliveredAfterTheWindowIsOneMessage(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("message.bpmn")
	mp := (&Core{partitions: 2}).partitionFor("o-1")
	ev := eventCommand("/payments", "p-1", "paid", "o-1", `{"amount":500}`)
	ev.Value.TTL = time.Hour.Milliseconds()
	cl.run(mp, ev)
	cl.advance(DefaultLimits.EventDedupWindow.Milliseconds() + 1)
	if r := cl.run(mp, ev); r.Rejected() || r.Record.Value.Duplicate {
		t.Fatalf("the redelivery after the window: %+v, want it logged anew", r.Record)
	}
	first := cl.create(0, "order", `{"orderId":"o-1"}`)
	second := cl.create(1, "order", `{"orderId":"o-1"}`)
	done := func(pi int64) bool { d, _ := cl.ended(pi); return d }
	if done(first) == done(second) {
		t.Fatalf("instances completed: %v and %v; want one message for the one event, so exactly one", done(first), done(second))
	}
}

func TestCloudEventRejections(t *testing.T) {
	cl := newCluster(t, 1)
	cases := map[string]record.Record{
		"no source":    eventCommand("", "1", "t", "", ""),
		"no id":        eventCommand("/s", "", "t", "", ""),
		"no type":      eventCommand("/s", "1", "", "", ""),
		"not encoded":  {ValueType: record.CloudEvent, Intent: record.Publish, Value: record.Value{Source: "/s", MessageID: "1", Name: "t"}},
		"negative ttl": func() record.Record { r := eventCommand("/s", "1", "t", "k", ""); r.Value.TTL = -1; return r }(),
	}
	for name, cmd := range cases {
		if r := cl.run(0, cmd); !r.Rejected() || r.Rejection != record.InvalidArgument {
			t.Errorf("%s: %+v, want INVALID_ARGUMENT", name, r)
		}
	}
}

func TestEventWindowSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e, store := startEngine(t, dir, 2)
	ctx := t.Context()
	req := EventRequest{Source: "/s", ID: "1", Type: "t", Encoded: []byte("x")}
	first, err := e.PublishEvent(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	store.Close()
	e, store = startEngine(t, dir, 2)
	defer store.Close()
	defer e.Close()
	again, err := e.PublishEvent(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Value.Duplicate || again.Key != first.Key {
		t.Fatalf("after a restart the event was accepted anew: %+v", again)
	}
}

// TestEventWindowIsRecalledFromTheLog: a partition that starts reads its
// window back from the log, events of every partition and after many
// other records, and lets go of the events whose window has passed.
func TestEventWindowIsRecalledFromTheLog(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	// The partitions read the clock while they wait: it moves atomically.
	var nowMs atomic.Int64
	nowMs.Store(1_800_000_000_000)
	clock := func() time.Time { return time.UnixMilli(nowMs.Load()) }
	start := func() (*Engine, *storage.Store) {
		t.Helper()
		store, err := storage.Open(ctx, "pebble", dir, storage.WithPartitions(3), storage.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		epochs := map[int]uint64{}
		for p := range 3 {
			c, err := store.Ownership().ClaimPartition(ctx, p, "test", time.Nanosecond)
			if err != nil {
				t.Fatal(err)
			}
			epochs[p] = c.Epoch
		}
		e, err := Start(ctx, store, Options{Epochs: epochs, Clock: clock, Limits: Limits{EventDedupWindow: time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		return e, store
	}
	publish := func(e *Engine, id string) record.Record {
		t.Helper()
		r, err := e.PublishEvent(ctx, EventRequest{Source: "/s", ID: id, Type: "t", Encoded: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	e, store := start()
	keys := map[string]int64{}
	for i := range 200 {
		id := fmt.Sprint("old-", i)
		keys[id] = publish(e, id).Key
	}
	nowMs.Add(40_000)
	for i := range 200 {
		id := fmt.Sprint("new-", i)
		keys[id] = publish(e, id).Key
	}
	e.Close()
	store.Close()

	nowMs.Add(30_000) // the old ones' minute has passed
	e, store = start()
	defer store.Close()
	defer e.Close()
	for id, key := range keys {
		r := publish(e, id)
		if old := strings.HasPrefix(id, "old-"); r.Value.Duplicate == old || (!old && r.Key != key) {
			t.Fatalf("%s after the restart: duplicate %v, key %d (first %d)", id, r.Value.Duplicate, r.Key, key)
		}
	}
}

// TestOversizedEventIsRefusedAndThePartitionGoesOn: a command whose record
// could not be written is refused up front; the partition keeps working.
func TestOversizedEventIsRefusedAndThePartitionGoesOn(t *testing.T) {
	e, store := startEngine(t, t.TempDir(), 1)
	defer store.Close()
	defer e.Close()
	ctx := t.Context()
	big := make([]byte, maxPayload+1)
	_, err := e.PublishEvent(ctx, EventRequest{Source: "/s", ID: "big", Type: "t", Encoded: big})
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Type != record.ExceededBatchRecordSize {
		t.Fatalf("an event over the limit: %v, want EXCEEDED_BATCH_RECORD_SIZE", err)
	}
	if _, err := e.PublishEvent(ctx, EventRequest{Source: "/s", ID: "small", Type: "t", Encoded: []byte("x")}); err != nil {
		t.Fatalf("the partition stopped after refusing a big event: %v", err)
	}
}

// TestPublishEventAsync: the call returns at once and done is told once per
// event, nil once it is durable (a restart still knows every one of them),
// a refusal as PublishEvent gives it, and a stopped engine's error rather
// than nothing.
func TestPublishEventAsync(t *testing.T) {
	dir := t.TempDir()
	e, store := startEngine(t, dir, 2)
	ctx := t.Context()
	const n = 300
	answers := make(chan error, n+1)
	for i := range n {
		e.PublishEventAsync(ctx, EventRequest{Source: "/s", ID: fmt.Sprint("a-", i), Type: "t", Encoded: []byte("x")}, func(err error) {
			answers <- err
		})
	}
	e.PublishEventAsync(ctx, EventRequest{Source: "/s", ID: "big", Type: "t", Encoded: make([]byte, maxPayload+1)}, func(err error) {
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Type != record.ExceededBatchRecordSize {
			err = fmt.Errorf("an event over the limit: %v, want EXCEEDED_BATCH_RECORD_SIZE", err)
		} else {
			err = nil
		}
		answers <- err
	})
	for range n + 1 {
		if err := <-answers; err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-answers:
		t.Fatalf("an event was answered twice (%v)", err)
	default:
	}
	e.Close()
	store.Close()

	e, store = startEngine(t, dir, 2)
	defer store.Close()
	for i := range n {
		r, err := e.PublishEvent(ctx, EventRequest{Source: "/s", ID: fmt.Sprint("a-", i), Type: "t", Encoded: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Value.Duplicate {
			t.Fatalf("event a-%d, answered, was not on the log after a restart", i)
		}
	}
	e.Close()
	stopped := make(chan error, 1)
	e.PublishEventAsync(ctx, EventRequest{Source: "/s", ID: "late", Type: "t", Encoded: []byte("x")}, func(err error) { stopped <- err })
	if err := <-stopped; err == nil {
		t.Fatal("an event published to a closed engine was answered without an error")
	}
}

// TestPartitionForEventIsStable: an event without keys goes where the
// joined "source\x00id" always went, for a redelivery after an upgrade to
// meet the first delivery's window; the partitions are the FNV-1a ones.
func TestPartitionForEventIsStable(t *testing.T) {
	c := &Core{partitions: 7}
	cases := []struct {
		source, id string
		want       int
	}{
		{"/bench", "1", 1},
		{"/queue", "e-1", 5},
		{"", "", 5},
		{"a\x00b", "c", 6},
	}
	for _, tc := range cases {
		joined := tc.source + "\x00" + tc.id
		if got := c.partitionForEvent(tc.source, tc.id); got != tc.want || got != c.partitionFor(joined) {
			t.Errorf("source %q id %q: partition %d, joined key %d, want %d", tc.source, tc.id, got, c.partitionFor(joined), tc.want)
		}
	}
}

// TestEventWindowIsLetGoWithoutEvents: the duplicate window's entries go
// once they expire even when no event comes after them: the partition is
// due a tick then (with some slack), and the tick drops them.
func TestEventWindowIsLetGoWithoutEvents(t *testing.T) {
	cl := newCluster(t, 1)
	for i := range 3 {
		cl.run(0, eventCommand("/burst", fmt.Sprint("b-", i), "burst", "", `{}`))
	}
	c := cl.cores[0]
	expiry := cl.now + DefaultLimits.EventDedupWindow.Milliseconds()
	due := c.nextDeadline()
	if due != expiry+windowSweepSlack {
		t.Fatalf("next deadline %d, want the window's expiry %d plus the slack", due, expiry)
	}
	cl.advance(expiry - cl.now - 1)
	if n := c.st.events.len(); n != 3 {
		t.Fatalf("%d entries before they expire, want the 3 still there", n)
	}
	cl.advance(due - cl.now)
	if n := c.st.events.len(); n != 0 || c.nextDeadline() != 0 {
		t.Fatalf("%d entries after the deadline and the next deadline is %d: want none", n, c.nextDeadline())
	}
}
