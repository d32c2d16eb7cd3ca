package engine

import (
	"os"
	"testing"

	"eddy/record"
)

// cluster drives the cores of every partition by hand: commands addressed
// to another partition are delivered as that partition's log would, and
// time moves only when the test says so.
type cluster struct {
	t     *testing.T
	cores []*Core
	now   int64
	log   [][]record.Record
}

func newCluster(t *testing.T, partitions int) *cluster {
	cl := &cluster{t: t, now: 1_700_000_000_000, log: make([][]record.Record, partitions)}
	for p := 0; p < partitions; p++ {
		cl.cores = append(cl.cores, NewCore(p, partitions, newState(), 1, DefaultLimits))
	}
	return cl
}

// run sends cmd to partition p and delivers follow-up commands until the
// cluster is quiet.
func (cl *cluster) run(p int, cmd record.Record) Response {
	cl.t.Helper()
	cmd.Kind, cmd.Partition, cmd.Target = record.Command, p, p
	resp := cl.cores[p].Handle(&cmd, cl.now, false)
	cl.settle()
	return resp
}

func (cl *cluster) settle() {
	for moved := true; moved; {
		moved = false
		for p, c := range cl.cores {
			r := c.Ready()
			recs := append([]record.Record(nil), r.Records...)
			c.Advance()
			cl.log[p] = append(cl.log[p], recs...)
			for i := range recs {
				if recs[i].Kind == record.Command && recs[i].Target != p {
					cmd := recs[i]
					cl.cores[cmd.Target].Handle(&cmd, cl.now, true)
					moved = true
				}
			}
		}
	}
}

// advance moves the clock by ms and lets every partition act on it.
func (cl *cluster) advance(ms int64) {
	cl.now += ms
	for _, c := range cl.cores {
		c.Tick(cl.now)
	}
	cl.settle()
}

func (cl *cluster) deploy(files ...string) Response {
	cl.t.Helper()
	var res []record.Resource
	for _, f := range files {
		data, err := os.ReadFile("testdata/" + f)
		if err != nil {
			cl.t.Fatal(err)
		}
		res = append(res, record.Resource{Name: f, Content: data})
	}
	r := cl.run(0, record.Record{ValueType: record.Deployment, Intent: record.Create, Value: record.Value{Resources: res}})
	if r.Rejected() {
		cl.t.Fatalf("deploy %v: %s", files, r.Reason)
	}
	return r
}

func (cl *cluster) create(p int, id string, vars string) int64 {
	cl.t.Helper()
	r := cl.run(p, record.Record{ValueType: record.ProcessInstanceCreation, Intent: record.Create, Value: record.Value{BpmnProcessID: id, Variables: []byte(vars)}})
	if r.Rejected() {
		cl.t.Fatalf("create %s: %s", id, r.Reason)
	}
	return r.Record.Key
}

func (cl *cluster) activate(p int, jobType string) []record.Record {
	r := cl.run(p, record.Record{ValueType: record.Job, Intent: record.Activate, Value: record.Value{JobType: jobType, Worker: "w", Timeout: 60_000, MaxJobs: 10}})
	if r.Rejected() {
		cl.t.Fatalf("activate %s: %s", jobType, r.Reason)
	}
	return r.Jobs
}

func (cl *cluster) complete(key int64, vars string) Response {
	return cl.run(record.PartitionOf(key), record.Record{ValueType: record.Job, Intent: record.Complete, Key: key, Value: record.Value{Variables: []byte(vars)}})
}

// ended reports whether the log shows process instance key completed
// (true), terminated (false), and whether it ended at all.
func (cl *cluster) ended(key int64) (completed, ended bool) {
	for _, r := range cl.log[record.PartitionOf(key)] {
		if r.Key == key && r.ValueType == record.ProcessInstance && r.Value.ElementType == "PROCESS" {
			switch r.Intent {
			case record.ElementCompleted:
				return true, true
			case record.ElementTerminated:
				return false, true
			}
		}
	}
	return false, false
}

// visited lists the element ids of instance key that completed, in order.
func (cl *cluster) visited(key int64) []string {
	var ids []string
	for _, r := range cl.log[record.PartitionOf(key)] {
		if r.ValueType == record.ProcessInstance && r.Intent == record.ElementCompleted && r.Value.ProcessInstanceKey == key && r.Value.ElementType != "PROCESS" {
			ids = append(ids, r.Value.ElementID)
		}
	}
	return ids
}
