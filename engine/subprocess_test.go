package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"eddy/record"
)

// jobVars decodes an activated job's variables.
func jobVars(t *testing.T, j record.Record) map[string]string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(j.Value.Variables, &m); err != nil {
		t.Fatalf("job variables %s: %v", j.Value.Variables, err)
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func TestSubprocessVariableScopes(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("subprocess-variables.bpmn")
	pi := cl.create(1, "subVars", `{"customer":"ann","count":5}`)
	sub := cl.one(pi, "sub")
	if got := cl.local(sub.Key); got["who"] != `"ann"` || got["count"] != "0" {
		t.Fatalf("subprocess locals %v: want who and a local count from the input mappings", got)
	}
	inner := cl.job(pi, "inner")
	if v := jobVars(t, inner); v["who"] != `"ann"` || v["count"] != "0" || v["customer"] != `"ann"` {
		t.Fatalf("job sees %v: the local count must shadow the instance's", v)
	}
	// A job's variables go to the nearest scope that has them, else to the
	// instance.
	cl.mustComplete(inner.Key, `{"who":"bob","count":1,"result":"ok","fresh":true}`)
	after := cl.job(pi, "after")
	v := jobVars(t, after)
	want := map[string]string{"customer": `"ann"`, "count": "5", "result": `"ok"`, "fresh": "true", "outcome": `"ok"`}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("after the subprocess, %s = %s, want %s", k, v[k], w)
		}
	}
	if _, leaked := v["who"]; leaked {
		t.Errorf("the subprocess's local 'who' leaked: %v", v)
	}
	if len(cl.local(sub.Key)) != 0 {
		t.Errorf("the subprocess's variables outlived it: %v", cl.local(sub.Key))
	}
	cl.mustComplete(after.Key, "")
	cl.mustBeCompleted(pi)
}

func TestTaskInputAndOutputMappings(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("task-mappings.bpmn")
	pi := cl.create(0, "taskMappings", `{"order":{"total":21}}`)
	job := cl.job(pi, "work")
	if v := jobVars(t, job); v["double"] != "42" {
		t.Fatalf("job variables %v: want double from the input mapping", v)
	}
	cl.mustComplete(job.Key, `{"status":"shipped","tmp":1}`)
	cl.mustBeCompleted(pi)
	res := cl.result(pi)
	if res["orderStatus"] != `"shipped"` {
		t.Fatalf("result %v lacks the output mapping", res)
	}
	for _, k := range []string{"status", "tmp", "double"} {
		if _, ok := res[k]; ok {
			t.Errorf("%s reached the instance although output mappings decide what leaves the task: %v", k, res)
		}
	}
}

func TestSetVariablesLocalAndPropagated(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("subprocess-variables.bpmn")
	pi := cl.create(0, "subVars", `{"customer":"ann","count":5}`)
	sub := cl.one(pi, "sub")

	if r := cl.setVariables(sub.Key, `{"count":7,"x":1}`, true); r.Rejected() {
		t.Fatal(r.Reason)
	}
	if got := cl.local(sub.Key); got["count"] != "7" || got["x"] != "1" {
		t.Fatalf("local set: subprocess has %v", got)
	}
	if got := cl.local(pi); got["count"] != "5" || got["x"] != "" {
		t.Fatalf("local set reached the instance: %v", got)
	}

	if r := cl.setVariables(sub.Key, `{"customer":"carl","count":8,"y":2}`, false); r.Rejected() {
		t.Fatal(r.Reason)
	}
	if got := cl.local(pi); got["customer"] != `"carl"` || got["y"] != "2" || got["count"] != "5" {
		t.Fatalf("propagated set: instance has %v", got)
	}
	if got := cl.local(sub.Key); got["count"] != "8" || got["y"] != "" {
		t.Fatalf("propagated set: subprocess has %v (count is its own, y is new)", got)
	}
	mustEqual(t, "variable document events", len(cl.events(pi, record.VariableDocument, record.Updated)), 2)

	cases := []struct {
		name  string
		scope int64
		doc   string
		want  record.RejectionType
	}{
		{"unknown scope", record.Key(0, 999_999), `{}`, record.NotFound},
		{"not an object", sub.Key, `[1,2]`, record.InvalidArgument},
		{"not JSON", sub.Key, `{"a":`, record.InvalidArgument},
	}
	for _, tc := range cases {
		if r := cl.setVariables(tc.scope, tc.doc, false); r.Rejection != tc.want {
			t.Errorf("%s: got %s %q, want %s", tc.name, r.Rejection, r.Reason, tc.want)
		}
	}
}

func TestVariableDocumentSizeLimit(t *testing.T) {
	cl := newCluster(t, 2)
	for _, c := range cl.cores {
		c.limits.MaxVariablesSize = 64
	}
	cl.deploy("three-tasks.bpmn", "message.bpmn")
	big := `{"blob":"` + strings.Repeat("x", 100) + `"}`
	pi := cl.create(0, "three", `{"small":1}`)
	job := cl.job(pi, "a")
	cases := []struct {
		name string
		run  func() Response
	}{
		{"create instance", func() Response {
			return cl.run(0, record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{BpmnProcessID: "three", Variables: []byte(big)}})
		}},
		{"complete job", func() Response { return cl.complete(job.Key, big) }},
		{"throw error", func() Response { return cl.throwError(job.Key, "E", "", big) }},
		{"set variables", func() Response { return cl.setVariables(pi, big, false) }},
		{"publish message", func() Response { return cl.publish("paid", "k", big, 0) }},
		{"broadcast signal", func() Response { return cl.broadcast(1, "s", big) }},
	}
	for _, tc := range cases {
		r := tc.run()
		if r.Rejection != record.InvalidArgument || !strings.Contains(r.Reason, "at most 64 bytes") || !strings.Contains(r.Reason, "111 bytes") {
			t.Errorf("%s: got %s %q, want a clear size rejection", tc.name, r.Rejection, r.Reason)
		}
	}
	// The job was left alone by the refused commands.
	cl.mustComplete(job.Key, `{"ok":1}`)
}

func TestEventSubprocessWithMessages(t *testing.T) {
	cl := newCluster(t, 3)
	cl.deploy("event-subprocess-message.bpmn")

	t.Run("non-interrupting, twice", func(t *testing.T) {
		pi := cl.create(0, "espMessage", `{"id":"c-1"}`)
		cl.publish("note", "c-1", `{"text":"one"}`, 0)
		cl.publish("note", "c-1", `{"text":"two"}`, 0)
		mustEqual(t, "event subprocess instances", cl.count(pi, "onNote", record.ElementActivated), 2)
		notes := cl.jobsOf(pi, "note")
		if len(notes) != 2 {
			t.Fatalf("%d note jobs, want 2", len(notes))
		}
		mustEqual(t, "work still active", len(cl.active(pi, "work")), 1)
		for _, j := range notes {
			cl.mustComplete(j.Key, "")
		}
		cl.mustBeActive(pi)
		cl.mustComplete(cl.job(pi, "work").Key, "")
		cl.mustBeCompleted(pi)
		cl.quiet(pi)
	})

	t.Run("interrupting", func(t *testing.T) {
		pi := cl.create(1, "espMessage", `{"id":"c-2"}`)
		work := cl.job(pi, "work")
		cl.publish("note", "c-2", "", 0)
		note := cl.job(pi, "note")
		cl.publish("cancel", "c-2", `{"reason":"customer"}`, 0)
		cl.mustBeCompleted(pi)
		for _, id := range []string{"work", "noteTask", "onNote"} {
			if got := cl.intents(pi, id); got[len(got)-1] != record.ElementTerminated {
				t.Errorf("%s: %v, want terminated", id, got)
			}
		}
		mustEqual(t, "cancelled", cl.count(pi, "cancelled", record.ElementCompleted), 1)
		if res := cl.result(pi); res["reason"] != `"customer"` {
			t.Fatalf("result %v lacks the message's variables", res)
		}
		for _, k := range []int64{work.Key, note.Key} {
			if r := cl.complete(k, ""); r.Rejection != record.NotFound {
				t.Errorf("job %d survived the interruption: %s", k, r.Rejection)
			}
		}
		cl.quiet(pi)
		// A second cancel finds no one.
		cl.publish("cancel", "c-2", "", 0)
		mustEqual(t, "cancel correlations", cl.count(pi, "onCancel", record.ElementActivating), 1)
	})
}

func TestEventSubprocessWithTimers(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("event-subprocess-timer.bpmn")
	pi := cl.create(1, "espTimer", "")
	for i := 1; i <= 5; i++ {
		cl.advance(60_000)
		mustEqual(t, "ticks", cl.count(pi, "ticked", record.ElementCompleted), i)
	}
	mustEqual(t, "work still active", len(cl.active(pi, "work")), 1)
	cl.advance(29_999)
	mustEqual(t, "deadline early", cl.count(pi, "deadline", record.ElementActivating), 0)
	cl.advance(1)
	mustEqual(t, "work", cl.intents(pi, "work")[len(cl.intents(pi, "work"))-1], record.ElementTerminated)
	mustEqual(t, "gave up", cl.count(pi, "gaveUp", record.ElementCompleted), 1)
	// The interrupted subprocess completes once its event subprocess has:
	// the flow goes on after it.
	mustEqual(t, "sub", cl.intents(pi, "sub")[len(cl.intents(pi, "sub"))-1], record.ElementCompleted)
	cl.advance(600_000)
	mustEqual(t, "ticks after the interruption", cl.count(pi, "ticked", record.ElementCompleted), 5)
	cl.mustComplete(cl.job(pi, "after").Key, "")
	cl.mustBeCompleted(pi)
	cl.quiet(pi)
}
