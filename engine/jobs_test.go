package engine

import (
	"testing"

	"eddy/record"
)

func (cl *cluster) fail(key int64, retries int32, backoff int64, message, vars string) Response {
	cl.t.Helper()
	return cl.run(record.PartitionOf(key), record.Record{ValueType: record.Job, Intent: record.Fail, Key: key,
		Value: record.Value{Retries: retries, RetryBackoff: backoff, ErrorMessage: message, Variables: []byte(vars)}})
}

func TestFailJobWithRetriesAndBackoff(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(0, "three", "")
	job := cl.job(pi, "a")

	// Retries left, no back-off: a worker may take it again at once, and
	// sees the variables the failure left on the task.
	if r := cl.fail(job.Key, 2, 0, "flaky", `{"attempt":1}`); r.Rejected() {
		t.Fatal(r.Reason)
	}
	again := cl.job(pi, "a")
	mustEqual(t, "retries", again.Value.Retries, int32(2))
	mustEqual(t, "error message", again.Value.ErrorMessage, "flaky")
	if v := jobVars(t, again); v["attempt"] != "1" {
		t.Fatalf("retried job sees %v", v)
	}
	mustEqual(t, "the failure's variables are the task's", cl.local(again.Value.ElementInstanceKey)["attempt"], "1")

	// With a back-off it comes back when that has passed, never before.
	cl.fail(again.Key, 1, 10_000, "slow down", "")
	cl.advance(9_999)
	if len(cl.jobsOf(pi, "a")) != 0 {
		t.Fatal("the job came back before its back-off passed")
	}
	cl.advance(1)
	mustEqual(t, "recurred after back-off", len(cl.events(pi, record.Job, record.RecurredAfterBackoff)), 1)
	last := cl.job(pi, "a")
	cl.mustComplete(last.Key, "")
	cl.mustComplete(cl.job(pi, "b").Key, "")
	cl.mustComplete(cl.job(pi, "c").Key, "")
	if _, ok := cl.result(pi)["attempt"]; ok {
		t.Fatal("the failure's local variable reached the instance")
	}
}

func TestFailJobRefusals(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(0, "three", "")
	if r := cl.fail(cl.cores[0].st.activatable["a"][0], 1, 0, "", ""); r.Rejection != record.InvalidState {
		t.Fatalf("failing a job nobody activated: %s", r.Rejection)
	}
	job := cl.job(pi, "a")
	if r := cl.fail(job.Key, 1, 0, "", `[1]`); r.Rejection != record.InvalidArgument {
		t.Fatalf("failing with variables that are no object: %s", r.Rejection)
	}
	// The refused failure changed nothing: the job is still the worker's.
	mustEqual(t, "job activations", len(cl.jobsOf(pi, "a")), 0)
	cl.mustComplete(job.Key, "")
}

func TestUpdateJobTimeout(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	pi := cl.create(0, "three", "")
	job := cl.job(pi, "a") // 60 s
	r := cl.run(0, record.Record{ValueType: record.Job, Intent: record.UpdateTimeout, Key: job.Key, Value: record.Value{Timeout: 5_000}})
	if r.Rejected() {
		t.Fatal(r.Reason)
	}
	mustEqual(t, "new deadline", r.Record.Value.Deadline, cl.now+5_000)
	cl.advance(4_999)
	mustEqual(t, "activatable before the new deadline", len(cl.jobsOf(pi, "a")), 0)
	cl.advance(1)
	mustEqual(t, "timed out", len(cl.events(pi, record.Job, record.TimedOut)), 1)
	again := cl.job(pi, "a")
	mustEqual(t, "same job", again.Key, job.Key)
	// The old 60 s deadline does not time the new activation out.
	cl.advance(55_000)
	mustEqual(t, "timeouts", len(cl.events(pi, record.Job, record.TimedOut)), 1)
	cl.mustComplete(again.Key, "")
}

func TestActivateJobsMaxWorkerAndVariables(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy("three-tasks.bpmn")
	var pis []int64
	for i := 0; i < 3; i++ {
		pis = append(pis, cl.create(0, "three", `{"a":1,"b":{"deep":true},"c":"x"}`))
	}
	activate := func(max int32, fetch ...string) Response {
		return cl.run(0, record.Record{ValueType: record.Job, Intent: record.Activate,
			Value: record.Value{JobType: "a", Worker: "billing-7", Timeout: 30_000, MaxJobs: max, FetchVariables: fetch}})
	}
	r := activate(2, "a", "b", "missing")
	if len(r.Jobs) != 2 {
		t.Fatalf("%d jobs, want at most 2", len(r.Jobs))
	}
	for i, j := range r.Jobs {
		mustEqual(t, "oldest first", j.Value.ProcessInstanceKey, pis[i])
		mustEqual(t, "worker", j.Value.Worker, "billing-7")
		mustEqual(t, "deadline", j.Value.Deadline, cl.now+30_000)
		mustEqual(t, "variables", string(j.Value.Variables), `{"a":1,"b":{"deep":true}}`)
	}
	rest := activate(10)
	if len(rest.Jobs) != 1 || rest.Jobs[0].Value.ProcessInstanceKey != pis[2] {
		t.Fatalf("remaining jobs: %+v", rest.Jobs)
	}
	if v := jobVars(t, rest.Jobs[0]); len(v) != 3 {
		t.Fatalf("without variables to fetch, all are given: %v", v)
	}
	for _, bad := range []record.Value{
		{JobType: "", MaxJobs: 1, Timeout: 1},
		{JobType: "a", MaxJobs: 0, Timeout: 1},
		{JobType: "a", MaxJobs: 1, Timeout: 0},
	} {
		if r := cl.run(0, record.Record{ValueType: record.Job, Intent: record.Activate, Value: bad}); r.Rejection != record.InvalidArgument {
			t.Errorf("activation %+v: %s", bad, r.Rejection)
		}
	}
}
