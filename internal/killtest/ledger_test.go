package killtest

import (
	"fmt"
	"sort"
	"sync"

	"eddy/api/rest"
	"eddy/record"
)

// The two processes of testdata/ and the names their elements answer to.
const (
	taskProcess = "killtest-task"
	paidProcess = "killtest-paid"
	messageName = "killtest-paid"
)

// stage is where an instance waits: the id of the element it is at.
type stage string

const (
	atWork   stage = "work"   // killtest-task: its first job
	atFinish stage = "finish" // killtest-task: its second job
	atCatch  stage = "catch"  // killtest-paid: waiting for its message
	atShip   stage = "ship"   // killtest-paid: message taken, its job
	ended    stage = "ended"  // its last job completed
)

// next is where an instance goes when the job of a stage completes or, at
// atCatch, when its message arrives.
var next = map[stage]stage{atWork: atFinish, atFinish: ended, atCatch: atShip, atShip: ended}

// jobType is the job type of the task at a stage.
var jobType = map[stage]string{atWork: "killtest-work", atFinish: "killtest-finish", atShip: "killtest-ship"}

// instance is what the ledger knows of one process instance.
type instance struct {
	key     rest.Key
	process string
	orderID string // killtest-paid: its correlation key
	// stage is where acknowledged work has put it.
	stage stage
	// adopted: its create's answer was lost, but a job of it was handed
	// out, so it exists.
	adopted bool
	// tried: the job of stage was completed with no answer (the kill cut
	// it), so the instance may have moved on.
	tried bool
	// movedIn is the life (see ledger.life) in which acknowledged work last
	// moved it on.
	movedIn int
}

// message is what the ledger knows of the message of one order.
type message struct {
	orderID string
	// acked: a publish with its message id was acknowledged, or refused as
	// a duplicate; it must stay buffered for its whole TTL.
	acked bool
	// tried: a publish was sent with no answer.
	tried bool
}

// counts are acknowledgements of one cycle.
type counts struct{ creates, completions, publishes int }

// ledger writes down every acknowledged request: what Eddy promised. It is
// shared by the load's goroutines.
type ledger struct {
	mu        sync.Mutex
	instances map[rest.Key]*instance
	messages  map[string]*message // by order id
	orders    []string            // order ids in the order they were made
	// keys holds every acknowledged key and what it is the key of.
	keys map[rest.Key]string
	// floor is, per partition, the highest key counter acknowledged before
	// the last restart: later keys must be above it.
	floor []uint64
	acks  counts
	// life counts restarts: the eddy process that answers now.
	life  int
	found *findings
}

func newLedger(partitions int, found *findings) *ledger {
	return &ledger{instances: map[rest.Key]*instance{}, messages: map[string]*message{}, keys: map[rest.Key]string{},
		floor: make([]uint64, partitions), found: found}
}

// newKey checks the acknowledged key of a new entity: not the key of
// anything acknowledged before, and above every key acknowledged before the
// last restart. Callers hold mu.
func (l *ledger) newKey(key rest.Key, what string) {
	if prev, ok := l.keys[key]; ok {
		l.found.add("key reused", "%s got key %d, already the key of %s", what, key, prev)
	}
	if p := record.PartitionOf(int64(key)); p >= 0 && p < len(l.floor) && record.KeyCounter(int64(key)) <= l.floor[p] {
		l.found.add("key went back", "%s got key %d (partition %d, counter %d), but counter %d was acknowledged before the restart",
			what, key, p, record.KeyCounter(int64(key)), l.floor[p])
	}
	l.keys[key] = what
}

// created notes an acknowledged create.
func (l *ledger) created(key rest.Key, process, orderID string, at stage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acks.creates++
	if in := l.instances[key]; in != nil && in.adopted && in.process == process {
		// A worker saw its job before the create's answer arrived.
		in.adopted, in.orderID = false, orderID
		return
	}
	l.newKey(key, "process instance of "+process)
	l.instances[key] = &instance{key: key, process: process, orderID: orderID, stage: at}
}

// activated checks a job handed out: its instance must still be at the
// job's element, which a completion acknowledged before rules out.
func (l *ledger) activated(j rest.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	what := fmt.Sprintf("job %s of process instance %d", j.ElementID, j.ProcessInstanceKey)
	if prev, ok := l.keys[j.Key]; ok && prev != what {
		l.found.add("key reused", "%s has key %d, already the key of %s", what, j.Key, prev)
	}
	l.keys[j.Key] = what
	at := stage(j.ElementID)
	in := l.instances[j.ProcessInstanceKey]
	if in == nil {
		// Its create was cut by a kill after it committed.
		l.keys[j.ProcessInstanceKey] = "process instance of " + j.BpmnProcessID
		l.instances[j.ProcessInstanceKey] = &instance{key: j.ProcessInstanceKey, process: j.BpmnProcessID, stage: at, adopted: true}
		return
	}
	switch {
	case at == in.stage:
	case in.tried && at == next[in.stage]:
		in.stage, in.tried = at, false
	case in.stage == atCatch && at == atShip && l.messageSent(in):
		in.stage = at
	case in.movedIn == l.life:
		// Completed in this life: the job may have timed out at one worker
		// and gone to another just before the first completed it. Only a
		// restart in between proves it came back.
	default:
		l.found.add("job handed out again", "job %d (%s) of process instance %d was activated, but acknowledged work before a restart had put the instance at %s",
			j.Key, j.ElementID, j.ProcessInstanceKey, in.stage)
	}
}

// messageSent reports whether a message for in's order was sent (answered
// or not). Callers hold mu.
func (l *ledger) messageSent(in *instance) bool {
	m := l.messages[in.orderID]
	return in.adopted || m != nil && (m.acked || m.tried)
}

// completed notes the outcome of completing job j: acknowledged, or with no
// answer (acked false).
func (l *ledger) completed(j rest.Job, acked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	in := l.instances[j.ProcessInstanceKey]
	if in == nil || in.stage != stage(j.ElementID) {
		return // activated() reported it
	}
	if !acked {
		in.tried = true
		return
	}
	l.acks.completions++
	in.stage, in.tried, in.movedIn = next[in.stage], false, l.life
}

// order notes a new order, before anything of it is sent.
func (l *ledger) order(orderID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.messages[orderID] = &message{orderID: orderID}
	l.orders = append(l.orders, orderID)
}

// publishing notes a publish about to be sent.
func (l *ledger) publishing(orderID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.messages[orderID].tried = true
}

// published notes an acknowledged publish; key is 0 when it was refused as
// a duplicate.
func (l *ledger) published(orderID string, key rest.Key) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if key != 0 {
		l.acks.publishes++
		l.newKey(key, "message "+orderID)
	}
	m := l.messages[orderID]
	m.acked, m.tried = true, false
}

// cycleAcks returns the current cycle's acknowledgements.
func (l *ledger) cycleAcks() counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acks
}

// restarted notes a restart: it starts counting a cycle's
// acknowledgements and raises the key floor to every key acknowledged so
// far.
func (l *ledger) restarted() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.life++
	l.acks = counts{}
	for k := range l.keys {
		if p := record.PartitionOf(int64(k)); p >= 0 && p < len(l.floor) {
			l.floor[p] = max(l.floor[p], record.KeyCounter(int64(k)))
		}
	}
}

// snapshot returns copies of the instances, ordered by key, and of the
// messages, ordered as made.
func (l *ledger) snapshot() ([]instance, []message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ins := make([]instance, 0, len(l.instances))
	for _, in := range l.instances {
		ins = append(ins, *in)
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].key < ins[j].key })
	msgs := make([]message, 0, len(l.orders))
	for _, id := range l.orders {
		msgs = append(msgs, *l.messages[id])
	}
	return ins, msgs
}

// observed sets what a check found an instance at.
func (l *ledger) observed(key rest.Key, at stage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	in := l.instances[key]
	in.stage, in.tried = at, false
}

// messageOf returns a copy of the message of in's order (zero if none).
func (l *ledger) messageOf(in instance) message {
	l.mu.Lock()
	defer l.mu.Unlock()
	if m := l.messages[in.orderID]; m != nil {
		return *m
	}
	return message{}
}

func (m message) sent() bool { return m.acked || m.tried }

// String names an instance in failures.
func (in instance) String() string {
	return fmt.Sprintf("%s instance %d at %s", in.process, in.key, in.stage)
}

// unfinished returns how many instances have not ended.
func (l *ledger) unfinished() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, in := range l.instances {
		if in.stage != ended {
			n++
		}
	}
	return n
}
