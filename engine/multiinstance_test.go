package engine

import (
	"encoding/json"
	"slices"
	"testing"

	"eddy/record"
)

var miModels = []string{"mi-parallel.bpmn", "mi-sequential.bpmn", "mi-completion.bpmn", "mi-stop.bpmn", "mi-boundary.bpmn", "mi-subprocess.bpmn"}

func TestMultiInstanceParallel(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(miModels...)
	pi := cl.create(1, "miParallel", `{"items":["a","b","c"]}`)
	if all := cl.active(pi, "review"); len(all) != 4 || all[0].Value.ElementType != multiInstanceBody {
		t.Fatalf("want the body and three inner instances, got %d", len(all))
	}
	jobs := cl.jobsOf(pi, "review")
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want one per item", len(jobs))
	}
	byItem := map[string]record.Record{}
	for i, j := range jobs {
		v := jobVars(t, j)
		byItem[v["item"]] = j
		if v["loopCounter"] != string(rune('1'+i)) {
			t.Errorf("job %d: loopCounter %s", i, v["loopCounter"])
		}
	}
	// Completed out of order, the results keep the order of the items.
	for _, it := range []string{`"c"`, `"a"`, `"b"`} {
		cl.mustComplete(byItem[it].Key, `{"r":`+it[:2]+`!"}`)
	}
	cl.mustBeCompleted(pi)
	res := cl.result(pi)
	mustEqual(t, "results", res["results"], `["a!","b!","c!"]`)
	for _, k := range []string{"r", "item", "loopCounter"} {
		if _, ok := res[k]; ok {
			t.Errorf("%s leaked out of the inner instances: %v", k, res)
		}
	}
	mustEqual(t, "inner completions", cl.count(pi, "review", record.ElementCompleted), 4) // three inner + the body
}

func TestMultiInstanceSequential(t *testing.T) {
	cl := newCluster(t, 2)
	cl.deploy(miModels...)
	pi := cl.create(0, "miSequential", `{"items":[10,20]}`)
	for i, item := range []string{"10", "20"} {
		jobs := cl.jobsOf(pi, "review")
		if len(jobs) != 1 {
			t.Fatalf("step %d: %d jobs at once, want 1", i, len(jobs))
		}
		v := jobVars(t, jobs[0])
		if v["item"] != item || v["loopCounter"] != string(rune('1'+i)) {
			t.Fatalf("step %d: job variables %v", i, v)
		}
		cl.mustComplete(jobs[0].Key, `{"r":"ok`+item+`"}`)
	}
	cl.mustBeCompleted(pi)
	var results []map[string]any
	if err := json.Unmarshal([]byte(cl.result(pi)["results"]), &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0]["verdict"] != "ok10" || results[1]["verdict"] != "ok20" {
		t.Fatalf("results %v", results)
	}
}

func TestMultiInstanceCompletionCondition(t *testing.T) {
	t.Run("counters", func(t *testing.T) {
		cl := newCluster(t, 1)
		cl.deploy(miModels...)
		pi := cl.create(0, "miCompletion", `{"items":[1,2,3]}`)
		jobs := cl.jobsOf(pi, "review")
		cl.mustComplete(jobs[0].Key, `{"r":"first"}`)
		cl.mustBeActive(pi)
		cl.mustComplete(jobs[2].Key, `{"r":"third"}`)
		cl.mustBeCompleted(pi)
		mustEqual(t, "results", cl.result(pi)["results"], `["first",null,"third"]`)
		mustEqual(t, "terminated inner instances", cl.count(pi, "review", record.ElementTerminated), 1)
		if r := cl.complete(jobs[1].Key, ""); r.Rejection != record.NotFound {
			t.Fatalf("the third job survived: %s", r.Rejection)
		}
	})

	t.Run("output collection", func(t *testing.T) {
		cl := newCluster(t, 1)
		cl.deploy(miModels...)
		pi := cl.create(0, "miStop", `{"items":[1,2,3,4]}`)
		cl.mustComplete(cl.job(pi, "review").Key, `{"r":"go"}`)
		cl.mustComplete(cl.job(pi, "review").Key, `{"r":"stop"}`)
		cl.mustBeCompleted(pi)
		mustEqual(t, "results", cl.result(pi)["results"], `["go","stop",null,null]`)
		mustEqual(t, "inner instances", cl.count(pi, "review", record.ElementActivating), 3) // body + two
	})
}

func TestMultiInstanceEmptyAndInvalidCollections(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy(miModels...)
	pi := cl.create(0, "miParallel", `{"items":[]}`)
	cl.mustBeCompleted(pi)
	mustEqual(t, "results", cl.result(pi)["results"], `[]`)
	mustEqual(t, "jobs", len(cl.events(pi, record.Job, record.Created)), 0)

	pi = cl.create(0, "miParallel", `{"items":"abc"}`)
	inc := cl.incident(pi)
	mustEqual(t, "incident type", inc.Value.ErrorType, "EXTRACT_VALUE_ERROR")
	cl.setVariables(pi, `{"items":[1]}`, false)
	cl.resolve(inc.Key)
	cl.mustComplete(cl.job(pi, "review").Key, `{"r":1}`)
	cl.mustBeCompleted(pi)
	mustEqual(t, "results", cl.result(pi)["results"], `[1]`)
}

func TestMultiInstanceBoundaryEventsBelongToTheBody(t *testing.T) {
	t.Run("timer", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(miModels...)
		pi := cl.create(1, "miBoundary", `{"items":[1,2,3]}`)
		mustEqual(t, "timers", len(cl.events(pi, record.Timer, record.Created)), 1)
		jobs := cl.jobsOf(pi, "review")
		cl.mustComplete(jobs[0].Key, "")
		cl.advance(60_000)
		cl.mustBeCompleted(pi)
		mustEqual(t, "timed out", cl.count(pi, "timedOut", record.ElementCompleted), 1)
		mustEqual(t, "terminated", cl.count(pi, "review", record.ElementTerminated), 3) // two inner + the body
		mustEqual(t, "done", cl.count(pi, "done", record.ElementActivating), 0)
		cl.quiet(pi)
	})

	t.Run("error from one item", func(t *testing.T) {
		cl := newCluster(t, 2)
		cl.deploy(miModels...)
		pi := cl.create(0, "miBoundary", `{"items":[1,2]}`)
		jobs := cl.jobsOf(pi, "review")
		cl.throwError(jobs[1].Key, "BAD", "", "")
		cl.mustBeCompleted(pi)
		mustEqual(t, "gave up", cl.count(pi, "gaveUp", record.ElementCompleted), 1)
		mustEqual(t, "failed activations", cl.count(pi, "failed", record.ElementActivating), 1)
		if r := cl.complete(jobs[0].Key, ""); r.Rejection != record.NotFound {
			t.Fatalf("the other item's job survived: %s", r.Rejection)
		}
		cl.quiet(pi)
	})
}

func TestMultiInstanceSubprocess(t *testing.T) {
	cl := newCluster(t, 1)
	cl.deploy(miModels...)
	pi := cl.create(0, "miSub", `{"lines":[{"qty":2,"unit":5},{"qty":1,"unit":7}]}`)
	cl.mustBeCompleted(pi)
	res := cl.result(pi)
	mustEqual(t, "totals", res["totals"], `[10,7]`)
	if _, ok := res["total"]; ok {
		t.Fatalf("the inner instances' total leaked: %v", res)
	}
	if got := cl.visited(pi); !slices.Contains(got, "price") {
		t.Fatalf("visited %v", got)
	}
}
