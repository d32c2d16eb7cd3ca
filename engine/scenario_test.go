package engine

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"eddy/record"
)

// Scenario helpers over the cluster harness: commands a test sends often,
// and questions it asks of the log and of the state.

func (cl *cluster) publish(name, key, vars string, ttl int64) Response {
	cl.t.Helper()
	p := cl.cores[0].partitionFor(key)
	return cl.run(p, record.Record{ValueType: record.Message, Intent: record.Publish,
		Value: record.Value{Name: name, CorrelationKey: key, TTL: ttl, Variables: []byte(vars)}})
}

func (cl *cluster) broadcast(p int, name, vars string) Response {
	cl.t.Helper()
	return cl.run(p, record.Record{ValueType: record.Signal, Intent: record.Broadcast, Value: record.Value{Name: name, Variables: []byte(vars)}})
}

func (cl *cluster) throwError(jobKey int64, code, message, vars string) Response {
	cl.t.Helper()
	return cl.run(record.PartitionOf(jobKey), record.Record{ValueType: record.Job, Intent: record.ThrowError, Key: jobKey,
		Value: record.Value{ErrorCode: code, ErrorMessage: message, Variables: []byte(vars)}})
}

func (cl *cluster) resolve(incidentKey int64) Response {
	cl.t.Helper()
	return cl.run(record.PartitionOf(incidentKey), record.Record{ValueType: record.Incident, Intent: record.Resolve, Key: incidentKey})
}

func (cl *cluster) setVariables(scope int64, vars string, local bool) Response {
	cl.t.Helper()
	return cl.run(record.PartitionOf(scope), record.Record{ValueType: record.VariableDocument, Intent: record.Update,
		Value: record.Value{ScopeKey: scope, Variables: []byte(vars), Local: local}})
}

func (cl *cluster) cancel(pi int64) Response {
	cl.t.Helper()
	return cl.run(record.PartitionOf(pi), record.Record{ValueType: record.ProcessInstance, Intent: record.Cancel, Key: pi})
}

// mustComplete completes a job and fails the test on a rejection.
func (cl *cluster) mustComplete(key int64, vars string) {
	cl.t.Helper()
	if r := cl.complete(key, vars); r.Rejected() {
		cl.t.Fatalf("complete job %d: %s", key, r.Reason)
	}
}

// jobsOf activates the jobs of type typ on pi's partition and returns
// those of instance pi.
func (cl *cluster) jobsOf(pi int64, typ string) []record.Record {
	cl.t.Helper()
	var out []record.Record
	for _, j := range cl.activate(record.PartitionOf(pi), typ) {
		if j.Value.ProcessInstanceKey == pi {
			out = append(out, j)
		}
	}
	return out
}

// job activates the one job of type typ of instance pi.
func (cl *cluster) job(pi int64, typ string) record.Record {
	cl.t.Helper()
	jobs := cl.jobsOf(pi, typ)
	if len(jobs) != 1 {
		cl.t.Fatalf("instance %d: %d jobs of type %q, want 1", pi, len(jobs), typ)
	}
	return jobs[0]
}

// records returns the records of every partition's log that match.
func (cl *cluster) records(match func(r *record.Record) bool) []record.Record {
	var out []record.Record
	for p := range cl.log {
		for i := range cl.log[p] {
			if match(&cl.log[p][i]) {
				out = append(out, cl.log[p][i])
			}
		}
	}
	return out
}

// events returns the events of value type vt and intent in (0: any) of
// process instance pi.
func (cl *cluster) events(pi int64, vt record.ValueType, in record.Intent) []record.Record {
	return cl.records(func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == vt && (in == 0 || r.Intent == in) && r.Value.ProcessInstanceKey == pi
	})
}

// intents lists the process instance intents of element id in pi, in order.
func (cl *cluster) intents(pi int64, id string) []record.Intent {
	var out []record.Intent
	for _, r := range cl.events(pi, record.ProcessInstance, 0) {
		if r.Value.ElementID == id {
			out = append(out, r.Intent)
		}
	}
	return out
}

// count counts the process instance events of element id in pi with intent in.
func (cl *cluster) count(pi int64, id string, in record.Intent) int {
	n := 0
	for _, x := range cl.intents(pi, id) {
		if x == in {
			n++
		}
	}
	return n
}

// active returns the element instances of element id of pi in the state.
func (cl *cluster) active(pi int64, id string) []*elementInstance {
	var out []*elementInstance
	for _, e := range cl.cores[record.PartitionOf(pi)].st.elements.rows {
		if e.Value.ProcessInstanceKey == pi && e.Value.ElementID == id {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *elementInstance) int { return int(a.Key - b.Key) })
	return out
}

// one returns the single active instance of element id in pi.
func (cl *cluster) one(pi int64, id string) *elementInstance {
	cl.t.Helper()
	a := cl.active(pi, id)
	if len(a) != 1 {
		cl.t.Fatalf("instance %d: %d active instances of %q, want 1", pi, len(a), id)
	}
	return a[0]
}

// openIncidents returns the incidents of pi in the state.
func (cl *cluster) openIncidents(pi int64) []*incident {
	var out []*incident
	for _, in := range cl.cores[record.PartitionOf(pi)].st.incidents.rows {
		if in.Value.ProcessInstanceKey == pi {
			out = append(out, in)
		}
	}
	return out
}

// incident returns the one open incident of pi.
func (cl *cluster) incident(pi int64) *incident {
	cl.t.Helper()
	in := cl.openIncidents(pi)
	if len(in) != 1 {
		cl.t.Fatalf("instance %d: %d open incidents, want 1", pi, len(in))
	}
	return in[0]
}

// local returns the variables of a scope in the state as JSON texts.
func (cl *cluster) local(scope int64) map[string]string {
	out := map[string]string{}
	if row := cl.cores[record.PartitionOf(scope)].st.vars.get(scope); row != nil {
		for k, v := range row.Vars {
			out[k] = string(v)
		}
	}
	return out
}

// result returns the variables pi completed with, as JSON texts.
func (cl *cluster) result(pi int64) map[string]string {
	cl.t.Helper()
	for _, r := range cl.events(pi, record.ProcessInstance, record.ElementCompleted) {
		if r.Key == pi {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(r.Value.Variables, &m); err != nil {
				cl.t.Fatalf("result of %d: %v", pi, err)
			}
			out := map[string]string{}
			for k, v := range m {
				out[k] = string(v)
			}
			return out
		}
	}
	cl.t.Fatalf("instance %d did not complete; visited %v", pi, cl.visited(pi))
	return nil
}

// mustComplete... state checks.

func (cl *cluster) mustBeCompleted(pi int64) {
	cl.t.Helper()
	if done, ended := cl.ended(pi); !done || !ended {
		cl.t.Fatalf("instance %d: completed %v, ended %v; visited %v", pi, done, ended, cl.visited(pi))
	}
	if n := cl.open(pi); n != 0 {
		cl.t.Fatalf("instance %d completed with %d element instances left", pi, n)
	}
}

func (cl *cluster) mustBeTerminated(pi int64) {
	cl.t.Helper()
	if done, ended := cl.ended(pi); done || !ended {
		cl.t.Fatalf("instance %d: completed %v, ended %v; visited %v", pi, done, ended, cl.visited(pi))
	}
	if n := cl.open(pi); n != 0 {
		cl.t.Fatalf("instance %d terminated with %d element instances left", pi, n)
	}
}

func (cl *cluster) mustBeActive(pi int64) {
	cl.t.Helper()
	if _, ended := cl.ended(pi); ended {
		cl.t.Fatalf("instance %d ended; visited %v", pi, cl.visited(pi))
	}
}

// quiet checks that no partition holds anything of pi any more: timers,
// subscriptions, jobs, variables.
func (cl *cluster) quiet(pi int64) {
	cl.t.Helper()
	for p, c := range cl.cores {
		for _, tm := range c.st.timers.rows {
			if tm.ProcessInstanceKey == pi {
				cl.t.Errorf("partition %d: timer %d of instance %d left", p, tm.Key, pi)
			}
		}
		for _, s := range c.st.procSubs.rows {
			if s.ProcessInstanceKey == pi {
				cl.t.Errorf("partition %d: process message subscription %d of instance %d left", p, s.Key, pi)
			}
		}
		for _, s := range c.st.msgSubs.rows {
			if s.ProcessInstanceKey == pi {
				cl.t.Errorf("partition %d: message subscription %d of instance %d left", p, s.Key, pi)
			}
		}
		for _, s := range c.st.signalSubs.rows {
			if s.ProcessInstanceKey == pi {
				cl.t.Errorf("partition %d: signal subscription %d of instance %d left", p, s.Key, pi)
			}
		}
		for _, j := range c.st.jobs.rows {
			if j.Value.ProcessInstanceKey == pi {
				cl.t.Errorf("partition %d: job %d of instance %d left", p, j.Key, pi)
			}
		}
	}
	if vars := cl.local(pi); len(vars) != 0 {
		cl.t.Errorf("instance %d: variables left %v", pi, vars)
	}
}

func mustEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// restart replaces every core by one over a state decoded from what the
// tables would have written, as a driver does after a crash: the in-memory
// indexes (timers due, subscriptions, activatable jobs) are rebuilt from the
// rows alone.
func (cl *cluster) restart() {
	cl.t.Helper()
	for p, c := range cl.cores {
		st := newState()
		st.meta = c.st.meta
		reload(cl.t, c.st.definitions, st.definitions)
		reload(cl.t, c.st.elements, st.elements)
		reload(cl.t, c.st.vars, st.vars)
		reload(cl.t, c.st.jobs, st.jobs)
		reload(cl.t, c.st.timers, st.timers)
		reload(cl.t, c.st.messages, st.messages)
		reload(cl.t, c.st.msgSubs, st.msgSubs)
		reload(cl.t, c.st.procSubs, st.procSubs)
		reload(cl.t, c.st.signalSubs, st.signalSubs)
		reload(cl.t, c.st.incidents, st.incidents)
		st.reindex()
		cl.cores[p] = NewCore(p, len(cl.cores), st, c.nextPos, c.limits)
	}
}

func reload[T any](t *testing.T, from, to *table[T]) {
	t.Helper()
	for k, v := range from.rows {
		if err := to.load(from.key(k), from.encode(k, v)); err != nil {
			t.Fatal(err)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
