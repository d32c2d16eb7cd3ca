package engine

import (
	"reflect"
	"strings"
	"testing"

	"eddy/record"
)

func TestServiceTasksRunInOrder(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(1, "three", `{"n":1}`)
	for _, typ := range []string{"a", "b", "c"} {
		jobs := cl.activate(1, typ)
		if len(jobs) != 1 {
			t.Fatalf("job %s: got %d jobs", typ, len(jobs))
		}
		if r := cl.complete(jobs[0].Key, `{"`+typ+`":true}`); r.Rejected() {
			t.Fatal(r.Reason)
		}
	}
	if done, ended := cl.ended(pi); !done || !ended {
		t.Fatalf("instance did not complete: %v %v", done, ended)
	}
	want := []string{"start", "a", "b", "c", "end"}
	if got := cl.visited(pi); !reflect.DeepEqual(got, want) {
		t.Fatalf("visited %v, want %v", got, want)
	}
	// The completion record carries the variables.
	var last record.Record
	for _, r := range cl.log[1] {
		if r.Key == pi && r.Intent == record.ElementCompleted {
			last = r
		}
	}
	for _, v := range []string{`"n":1`, `"a":true`, `"c":true`} {
		if !strings.Contains(string(last.Value.Variables), v) {
			t.Errorf("result variables %s lack %s", last.Value.Variables, v)
		}
	}
}

func TestDeploymentIsDistributedAndVersioned(t *testing.T) {
	cl := newCluster(t, 3)
	cl.deploy("start-end.bpmn")
	again := cl.deploy("start-end.bpmn")
	if !again.Record.Value.Processes[0].Duplicate || again.Record.Value.Processes[0].Version != 1 {
		t.Fatalf("redeploying identical content: %+v", again.Record.Value.Processes)
	}
	for p := 0; p < 3; p++ {
		pi := cl.create(p, "quick", "")
		if done, _ := cl.ended(pi); !done {
			t.Fatalf("instance on partition %d did not complete", p)
		}
		if record.PartitionOf(pi) != p {
			t.Fatalf("instance key %d is not of partition %d", pi, p)
		}
	}
}

func TestRejections(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	cases := []struct {
		name string
		cmd  record.Record
		want record.RejectionType
		text string
	}{
		{"unknown process", record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{BpmnProcessID: "nope"}}, record.NotFound, "process ID 'nope'"},
		{"variables not an object", record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{BpmnProcessID: "three", Variables: []byte(`[1]`)}}, record.InvalidArgument, "JSON object"},
		// encoding/json takes such a string; readers got back JSON that is
		// not JSON.
		{"variables not UTF-8", record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{BpmnProcessID: "three", Variables: []byte("{\"a\":\"\xffb\"}")}}, record.InvalidArgument, "not UTF-8 at byte 6"},
		{"message variables not UTF-8", record.Record{ValueType: record.Message, Intent: record.Publish, Value: record.Value{Name: "m", CorrelationKey: "k", Variables: []byte("{\"\xc3\":1}")}}, record.InvalidArgument, "not UTF-8 at byte 2"},
		{"unknown job", record.Record{ValueType: record.Job, Intent: record.Complete, Key: record.Key(0, 999)}, record.NotFound, "no such job"},
		{"bad model", record.Record{ValueType: record.Deployment, Intent: record.Create, Value: record.Value{Resources: []record.Resource{{Name: "x.bpmn", Content: []byte("<bpmn:definitions")}}}}, record.InvalidArgument, "x.bpmn"},
		{"message without name", record.Record{ValueType: record.Message, Intent: record.Publish}, record.InvalidArgument, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cl.run(0, tc.cmd)
			if r.Rejection != tc.want || !strings.Contains(r.Reason, tc.text) {
				t.Fatalf("got %s %q, want %s containing %q", r.Rejection, r.Reason, tc.want, tc.text)
			}
		})
	}
}

func TestMessageCorrelationAcrossPartitions(t *testing.T) {
	cl := newCluster(t, 3)
	cl.deploy("message.bpmn")
	var pis []int64
	for p := 0; p < 3; p++ {
		pis = append(pis, cl.create(p, "order", `{"orderId":"o-`+string(rune('1'+p))+`"}`))
	}
	for p, pi := range pis {
		key := "o-" + string(rune('1'+p))
		amount := `{"amount":50}`
		if p == 1 {
			amount = `{"amount":500}`
		}
		mp := (&Core{partitions: 3}).partitionFor(key)
		r := cl.run(mp, record.Record{ValueType: record.Message, Intent: record.Publish, Value: record.Value{Name: "paid", CorrelationKey: key, Variables: []byte(amount)}})
		if r.Rejected() {
			t.Fatal(r.Reason)
		}
		if done, _ := cl.ended(pi); !done {
			t.Fatalf("instance %d (key %s) did not complete", p, key)
		}
		want := "smallEnd"
		if p == 1 {
			want = "bigEnd"
		}
		if got := cl.visited(pi); got[len(got)-1] != want {
			t.Errorf("instance %d ended at %v, want %s", p, got, want)
		}
	}
}

func TestBufferedMessageAndDuplicateID(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("message.bpmn")
	mp := (&Core{partitions: 2}).partitionFor("k")
	pub := record.Record{ValueType: record.Message, Intent: record.Publish, Value: record.Value{Name: "paid", CorrelationKey: "k", MessageID: "m1", TTL: 60_000, Variables: []byte(`{"amount":1}`)}}
	if r := cl.run(mp, pub); r.Rejected() {
		t.Fatal(r.Reason)
	}
	if r := cl.run(mp, pub); r.Rejection != record.AlreadyExists {
		t.Fatalf("duplicate message id: got %s %s", r.Rejection, r.Reason)
	}
	pi := cl.create(1, "order", `{"orderId":"k"}`)
	if done, _ := cl.ended(pi); !done {
		t.Fatal("a buffered message did not correlate to a new instance")
	}
	// It correlates only once per process.
	pi2 := cl.create(0, "order", `{"orderId":"k"}`)
	if _, ended := cl.ended(pi2); ended {
		t.Fatal("a message correlated twice to the same process")
	}
	// After the TTL, the id can be used again.
	cl.advance(60_001)
	if r := cl.run(mp, pub); r.Rejected() {
		t.Fatalf("after expiry: %s", r.Reason)
	}
	if done, _ := cl.ended(pi2); !done {
		t.Fatal("second instance did not get the new message")
	}
}

func TestJobFailureIncidentAndResolve(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(0, "three", "")
	job := cl.activate(0, "a")[0]
	r := cl.run(0, record.Record{ValueType: record.Job, Intent: record.Fail, Key: job.Key, Value: record.Value{Retries: 0, ErrorMessage: "boom"}})
	if r.Rejected() {
		t.Fatal(r.Reason)
	}
	var inc record.Record
	for _, rec := range cl.log[0] {
		if rec.ValueType == record.Incident && rec.Intent == record.Created {
			inc = rec
		}
	}
	if inc.Value.ErrorType != "JOB_NO_RETRIES" || inc.Value.ErrorMessage != "boom" {
		t.Fatalf("incident: %+v", inc.Value)
	}
	if r := cl.run(0, record.Record{ValueType: record.Incident, Intent: record.Resolve, Key: inc.Key}); r.Rejection != record.InvalidState {
		t.Fatalf("resolving before retries are updated: %s %s", r.Rejection, r.Reason)
	}
	cl.run(0, record.Record{ValueType: record.Job, Intent: record.UpdateRetries, Key: job.Key, Value: record.Value{Retries: 1}})
	if r := cl.run(0, record.Record{ValueType: record.Incident, Intent: record.Resolve, Key: inc.Key}); r.Rejected() {
		t.Fatal(r.Reason)
	}
	again := cl.activate(0, "a")
	if len(again) != 1 || again[0].Key != job.Key {
		t.Fatalf("job not activatable after resolve: %v", again)
	}
	for _, typ := range []string{"a", "b", "c"} {
		jobs := again
		if typ != "a" {
			jobs = cl.activate(0, typ)
		}
		cl.complete(jobs[0].Key, "")
	}
	if done, _ := cl.ended(pi); !done {
		t.Fatal("instance did not complete after the incident was resolved")
	}
}

func TestJobTimeoutMakesJobActivatableAgain(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	cl.create(0, "three", "")
	first := cl.activate(0, "a")
	if len(cl.activate(0, "a")) != 0 {
		t.Fatal("an activated job was handed out twice")
	}
	cl.advance(59_999)
	if len(cl.activate(0, "a")) != 0 {
		t.Fatal("job timed out early")
	}
	cl.advance(1)
	again := cl.activate(0, "a")
	if len(again) != 1 || again[0].Key != first[0].Key {
		t.Fatalf("timed-out job not activatable again: %v", again)
	}
}

func TestCancelTerminatesEverything(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(0, "three", "")
	job := cl.activate(0, "a")[0]
	if r := cl.run(0, record.Record{ValueType: record.ProcessInstance, Intent: record.Cancel, Key: pi}); r.Rejected() {
		t.Fatal(r.Reason)
	}
	if done, ended := cl.ended(pi); done || !ended {
		t.Fatal("cancelled instance did not terminate")
	}
	if r := cl.complete(job.Key, ""); r.Rejection != record.NotFound {
		t.Fatalf("completing a cancelled instance's job: %s", r.Rejection)
	}
	if n := len(cl.cores[0].st.elements.rows); n != 0 {
		t.Fatalf("%d element instances left after cancel", n)
	}
}
