package engine

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"eddy/record"
)

// TestSeedTicketModels deploys every model of the tickets example and runs
// one instance of each to an end: jobs are completed, messages published to
// whatever waits, and the clock advanced when nothing else moves.
func TestSeedTicketModels(t *testing.T) {
	files, _ := filepath.Glob("testdata/seed-tickets/*.bpmn")
	if len(files) < 4 {
		t.Fatalf("seed models missing: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, tickets := range []int{2, 12} {
				cl := newCluster(t, 2)
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				dep := cl.run(0, record.Record{ValueType: record.Deployment, Intent: record.Create, Value: record.Value{Resources: []record.Resource{{Name: filepath.Base(f), Content: data}}}})
				if dep.Rejected() {
					t.Fatalf("deploy: %s", dep.Reason)
				}
				vars := `{"sessionId":"s1","reservationId":"r1","myVarId":"v1","paymentId":"p1","tickets":` + strconv.Itoa(tickets) + `,"ticketsQuantity":` + strconv.Itoa(tickets) + `}`
				pi := startSeedInstance(t, cl, dep, vars)
				driveToEnd(t, cl, pi, vars)
				if filepath.Base(f) == "tickets-v4.bpmn" {
					// v4's gateway sends ten tickets or more another way.
					large := false
					for _, id := range cl.visited(pi) {
						large = large || id == "Activity_0penvj4"
					}
					if large != (tickets >= 10) {
						t.Errorf("%d tickets: visited %v", tickets, cl.visited(pi))
					}
				}
			}
		})
	}
}

// startSeedInstance starts the model by its none start event or, failing
// that, by publishing the message of its message start event.
func startSeedInstance(t *testing.T, cl *cluster, dep Response, vars string) int64 {
	t.Helper()
	meta := dep.Record.Value.Processes[0]
	proc := cl.cores[0].model(meta.ProcessDefinitionKey)
	if proc.NoneStart >= 0 {
		return cl.create(0, meta.BpmnProcessID, vars)
	}
	if len(proc.MessageStarts) == 0 {
		t.Fatalf("process %s has neither a none nor a message start event", meta.BpmnProcessID)
	}
	name := proc.Element(proc.MessageStarts[0]).Message.Name.Source
	p := cl.cores[0].partitionFor("s1")
	r := cl.run(p, record.Record{ValueType: record.Message, Intent: record.Publish, Value: record.Value{Name: name, CorrelationKey: "s1", Variables: []byte(vars)}})
	if r.Rejected() {
		t.Fatal(r.Reason)
	}
	for _, rec := range cl.log[p] {
		if rec.ValueType == record.MessageStartEventSubscription && rec.Intent == record.Correlated {
			return rec.Value.ProcessInstanceKey
		}
	}
	t.Fatalf("message %q started no instance", name)
	return 0
}

func driveToEnd(t *testing.T, cl *cluster, pi int64, vars string) {
	t.Helper()
	for step := 0; step < 100; step++ {
		if _, ended := cl.ended(pi); ended {
			if n := cl.open(pi); n != 0 {
				t.Fatalf("instance ended with %d element instances left", n)
			}
			return
		}
		moved := false
		for p, c := range cl.cores {
			var types []string
			for typ := range c.st.activatable {
				types = append(types, typ)
			}
			sort.Strings(types)
			for _, typ := range types {
				for _, j := range cl.activate(p, typ) {
					if r := cl.complete(j.Key, vars); r.Rejected() {
						t.Fatal(r.Reason)
					}
					moved = true
				}
			}
		}
		for p, c := range cl.cores {
			var subs []*messageSubscription
			for _, s := range c.st.msgSubs.rows {
				subs = append(subs, s)
			}
			sort.Slice(subs, func(i, j int) bool { return subs[i].Key < subs[j].Key })
			for _, s := range subs {
				if s.ProcessInstanceKey != pi || s.Correlating != 0 {
					continue
				}
				cl.run(p, record.Record{ValueType: record.Message, Intent: record.Publish, Value: record.Value{Name: s.Name, CorrelationKey: s.CorrelationKey, Variables: []byte(vars)}})
				moved = true
				break
			}
		}
		for _, c := range cl.cores {
			for _, in := range c.st.incidents.rows {
				t.Fatalf("incident: %s %s at %s", in.Value.ErrorType, in.Value.ErrorMessage, in.Value.ElementID)
			}
		}
		if !moved {
			cl.advance(3_600_000)
		}
	}
	t.Fatalf("instance did not end; visited %v", cl.visited(pi))
}

// open counts the element instances of process instance pi still in state.
func (cl *cluster) open(pi int64) int {
	n := 0
	for _, r := range cl.cores[record.PartitionOf(pi)].st.elements.rows {
		if r.Value.ProcessInstanceKey == pi {
			n++
		}
	}
	return n
}
