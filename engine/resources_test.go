package engine

import (
	"strings"
	"testing"

	"eddy/record"
)

// deployAs deploys testdata file under another resource name, as a new
// version of the same file would be.
func (cl *cluster) deployAs(name, file string) record.ProcessMeta {
	cl.t.Helper()
	r := cl.run(0, record.Record{ValueType: record.Deployment, Intent: record.Create,
		Value: record.Value{Resources: []record.Resource{{Name: name, Content: mustRead(cl.t, file)}}}})
	if r.Rejected() {
		cl.t.Fatalf("deploy %s: %s", file, r.Reason)
	}
	return r.Record.Value.Processes[0]
}

func (cl *cluster) deleteResource(key int64) Response {
	cl.t.Helper()
	return cl.run(0, record.Record{ValueType: record.ResourceDeletion, Intent: record.Delete, Key: key})
}

func TestDeleteResource(t *testing.T) {
	cl := newCluster(t, 3)
	v1 := cl.deployAs("orders.bpmn", "message-start.bpmn")
	v2 := cl.deployAs("orders.bpmn", "message-start-v2.bpmn")
	mustEqual(t, "v2 version", v2.Version, int32(2))

	// An instance of v2 runs on the message's partition, not the one that
	// receives the deletion: it runs to its end (v2 drains).
	cl.publish("order-placed-v2", "a", "", 0)
	running := cl.started("msgStart")
	mustEqual(t, "instances of v2", len(running), 1)
	if record.PartitionOf(running[0]) == 0 {
		t.Fatal("pick another key: the instance should not run on the deleting partition")
	}
	job := cl.job(running[0], "handle")
	if r := cl.deleteResource(v2.ProcessDefinitionKey); r.Rejected() {
		t.Fatal(r.Reason)
	}
	cl.restart()
	cl.mustComplete(job.Key, "")
	cl.mustBeCompleted(running[0])
	if d := cl.cores[record.PartitionOf(running[0])].st.definitions.get(v2.ProcessDefinitionKey); d == nil || d.Resource != nil {
		t.Fatalf("v2 was not dropped once its last instance ended: %+v", d)
	}
	for p := range cl.cores {
		deleted := cl.records(func(x *record.Record) bool {
			return x.Partition == p && x.ValueType == record.Process && x.Intent == record.Deleted && x.Key == v2.ProcessDefinitionKey
		})
		mustEqual(t, "PROCESS DELETED on every partition", len(deleted), 1)
		r := cl.run(p, record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{BpmnProcessID: "msgStart", Version: 2}})
		if r.Rejection != record.NotFound {
			t.Fatalf("partition %d: creating an instance of deleted v2: %s", p, r.Rejection)
		}
	}
	// v1 is the latest again: its message start event is back, v2's gone.
	cl.publish("order-placed-v2", "b", "", 0)
	mustEqual(t, "instances after v2's message", len(cl.started("msgStart")), 1)
	cl.publish("order-placed", "c", "", 0)
	all := cl.started("msgStart")
	mustEqual(t, "instances after v1's message", len(all), 2)
	mustEqual(t, "version started", cl.events(all[1], record.ProcessInstance, record.ElementActivated)[0].Value.Version, v1.Version)

	for _, key := range []int64{record.Key(0, 999_999), v2.ProcessDefinitionKey} {
		if r := cl.deleteResource(key); r.Rejection != record.NotFound {
			t.Fatalf("deleting an unknown or deleted resource: %s", r.Rejection)
		}
	}
	// A version number is never given again.
	v3 := cl.deployAs("orders.bpmn", "message-start-v2.bpmn")
	mustEqual(t, "version after deleting v2", v3.Version, int32(3))
}

func TestDeletingTheOnlyVersion(t *testing.T) {
	cl := newCluster(t, 2)
	meta := cl.deploy("timer-start.bpmn").Record.Value.Processes[0]
	if r := cl.deleteResource(meta.ProcessDefinitionKey); r.Rejected() {
		t.Fatal(r.Reason)
	}
	mustEqual(t, "timers cancelled", len(cl.records(func(x *record.Record) bool {
		return x.ValueType == record.Timer && x.Intent == record.Canceled
	})), 1)
	cl.advance(600_000)
	mustEqual(t, "instances after deletion", len(cl.started("ticker")), 0)
	for p := range cl.cores {
		r := cl.run(p, record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{BpmnProcessID: "ticker"}})
		if r.Rejection != record.NotFound {
			t.Fatalf("partition %d: creating an instance of a deleted process: %s", p, r.Rejection)
		}
	}
	// Deploying it again starts over at a new version.
	again := cl.deploy("timer-start.bpmn").Record.Value.Processes[0]
	if again.Duplicate || again.Version != 2 { // versions are never reused
		t.Fatalf("redeployed: %+v", again)
	}
}

func TestCreateInstanceByVersionKeyOrLatest(t *testing.T) {
	cl := newCluster(t, 2)
	v1 := cl.deployAs("orders.bpmn", "three-tasks.bpmn")
	v2 := cl.deployAs("orders.bpmn", "start-end.bpmn") // another process id: a new v1 of it
	mustEqual(t, "another process's version", v2.Version, int32(1))
	v1b := cl.deployAs("orders.bpmn", "three-tasks.bpmn")
	if !v1b.Duplicate || v1b.ProcessDefinitionKey != v1.ProcessDefinitionKey {
		t.Fatalf("identical content deployed again: %+v", v1b)
	}
	create := func(v record.Value) Response {
		return cl.run(1, record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: v})
	}
	cases := []struct {
		name string
		v    record.Value
		key  int64
		rej  record.RejectionType
	}{
		{"latest", record.Value{BpmnProcessID: "three"}, v1.ProcessDefinitionKey, record.NoRejection},
		{"version", record.Value{BpmnProcessID: "three", Version: 1}, v1.ProcessDefinitionKey, record.NoRejection},
		{"key", record.Value{ProcessDefinitionKey: v2.ProcessDefinitionKey}, v2.ProcessDefinitionKey, record.NoRejection},
		{"no such version", record.Value{BpmnProcessID: "three", Version: 7}, 0, record.NotFound},
		{"no such key", record.Value{ProcessDefinitionKey: record.Key(0, 999_999)}, 0, record.NotFound},
		{"nothing named", record.Value{}, 0, record.NotFound},
		{"start instruction", record.Value{BpmnProcessID: "three", ElementID: "c"}, v1.ProcessDefinitionKey, record.NoRejection},
		{"start at a missing element", record.Value{BpmnProcessID: "three", ElementID: "zz"}, 0, record.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := create(tc.v)
			mustEqual(t, "rejection", r.Rejection, tc.rej)
			if tc.rej == record.NoRejection {
				mustEqual(t, "definition", r.Record.Value.ProcessDefinitionKey, tc.key)
			}
		})
	}
	// The start instruction began at c: no job for a or b.
	var started int64
	for _, r := range cl.records(func(x *record.Record) bool {
		return x.ValueType == record.ProcessInstance && x.Intent == record.ElementActivated && x.Value.ElementID == "c"
	}) {
		started = r.Value.ProcessInstanceKey
	}
	mustEqual(t, "a activated", cl.count(started, "a", record.ElementActivating), 0)
	cl.mustComplete(cl.job(started, "c").Key, "")
	cl.mustBeCompleted(started)
}

// TestSeveralStartInstructions: an instance started at two elements runs
// both; it ends when both paths have.
func TestSeveralStartInstructions(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	cmd := createCommand(CreateRequest{BpmnProcessID: "three", StartAt: []string{"b", "c"}})
	r := cl.run(0, cmd)
	if r.Rejected() {
		t.Fatal(r.Reason)
	}
	pi := r.Record.Key
	mustEqual(t, "a activated", cl.count(pi, "a", record.ElementActivating), 0)
	cl.mustComplete(cl.job(pi, "c").Key, "") // c, started directly
	if done, _ := cl.ended(pi); done {
		t.Fatal("the instance ended while b still ran")
	}
	cl.mustComplete(cl.job(pi, "b").Key, "")
	cl.mustComplete(cl.job(pi, "c").Key, "") // c again, after b
	cl.mustBeCompleted(pi)

	bad := createCommand(CreateRequest{BpmnProcessID: "three", StartAt: []string{"b", "nope"}})
	if r := cl.run(0, bad); r.Rejection != record.InvalidArgument || !strings.Contains(r.Reason, "'nope'") {
		t.Fatalf("a start instruction naming a missing element: %+v", r)
	}
}
