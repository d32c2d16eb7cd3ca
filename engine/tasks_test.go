package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"eddy/record"
)

func TestUserTaskIsAJobAsInZeebe83(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("user-task.bpmn")
	pi := cl.create(1, "userTask", `{"owner":"carol"}`)
	job := cl.job(pi, UserTaskJobType)
	mustEqual(t, "job type", job.Value.JobType, "io.camunda.zeebe:userTask")
	mustEqual(t, "retries", job.Value.Retries, int32(1))
	var headers map[string]string
	if err := json.Unmarshal(job.Value.CustomHeaders, &headers); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"io.camunda.zeebe:assignee":        "carol",
		"io.camunda.zeebe:candidateGroups": `["sales","support"]`,
		"io.camunda.zeebe:candidateUsers":  `["ann","bob"]`,
		"io.camunda.zeebe:formKey":         "camunda-forms:bpmn:approveForm",
		"priority":                         "high",
	}
	for k, w := range want {
		if headers[k] != w {
			t.Errorf("header %s = %q, want %q", k, headers[k], w)
		}
	}
	cl.mustComplete(job.Key, `{"approved":true}`)
	cl.mustBeCompleted(pi)
	mustEqual(t, "approved", cl.result(pi)["approved"], "true")
}

func TestJobWorkerTasksCreateJobs(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("job-tasks.bpmn")
	pi := cl.create(0, "jobTasks", `{"ruleType":"rules"}`)
	send := cl.job(pi, "send")
	mustEqual(t, "send retries", send.Value.Retries, int32(5))
	mustEqual(t, "send element", send.Value.ElementID, "send")
	cl.mustComplete(send.Key, "")
	for _, typ := range []string{"rules", "script-job", "notify"} {
		cl.mustComplete(cl.job(pi, typ).Key, "")
	}
	cl.mustBeCompleted(pi)
	want := []string{"start", "send", "rule", "scriptJob", "notify", "end"}
	if got := cl.visited(pi); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("visited %v, want %v", got, want)
	}
}

func TestScriptTask(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy("script.bpmn")
	pi := cl.create(0, "script", `{"a":1,"b":2,"limit":10}`)
	cl.mustBeCompleted(pi)
	res := cl.result(pi)
	if res["sum"] != "3" || res["withinLimit"] != "true" {
		t.Fatalf("result %v", res)
	}

	// A failing expression is an incident that names it and says why;
	// with the variable set, resolving evaluates it again.
	pi = cl.create(1, "script", `{"a":1,"b":2}`)
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "EXTRACT_VALUE_ERROR")
	mustEqual(t, "incident element", inc.Value.ElementID, "check")
	for _, want := range []string{`assert(limit, limit != null, "limit is required") >= sum`, "limit is required"} {
		if !strings.Contains(inc.Value.ErrorMessage, want) {
			t.Errorf("incident message %q lacks %q", inc.Value.ErrorMessage, want)
		}
	}
	if r := cl.resolve(inc.Key); r.Rejected() {
		t.Fatal(r.Reason)
	}
	again := cl.incident(pi) // nothing changed: the same failure
	cl.setVariables(pi, `{"limit":2}`, false)
	cl.resolve(again.Key)
	cl.mustBeCompleted(pi)
	if res := cl.result(pi); res["withinLimit"] != "false" || res["sum"] != "3" {
		t.Fatalf("result %v", res)
	}
	mustEqual(t, "calc ran once", cl.count(pi, "calc", record.ElementCompleted), 1)
}
