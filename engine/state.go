package engine

import (
	"container/heap"
	"encoding/json"

	"eddy/record"
)

// The entities of a partition's state. The hot tables are stored in the
// binary row form of rows.go, the others as JSON; the records on the log
// are the public form.

type definition struct {
	Key           int64
	BpmnProcessID string
	Version       int32
	ResourceName  string
	Resource      []byte
	Checksum      []byte
	DeploymentKey int64
}

// elementInstance is an active element: a process instance (its root), a
// subprocess, a task, a waiting event or gateway.
type elementInstance struct {
	Key   int64
	State record.Intent // ElementActivating ... ElementTerminating
	Value record.Value  // as on its ProcessInstance records
	// Active counts the active child element instances of a scope;
	// Tokens counts flows taken towards joining gateways not yet activated,
	// per target flow index, so that a scope never completes while a join
	// still waits.
	Active int32
	Joins  map[int32]int32 `json:",omitempty"`
	JobKey int64           `json:",omitempty"`
	// Interrupted marks a scope an interrupting event subprocess took over.
	Interrupted bool `json:",omitempty"`
	// Pending holds what to do once the element finishes terminating: the
	// element (boundary event or event subprocess) to activate then.
	Pending *pendingActivation `json:",omitempty"`
	// Multi-instance bookkeeping of a multi-instance body.
	Loop      int32             `json:",omitempty"`
	Completed int32             `json:",omitempty"`
	Items     json.RawMessage   `json:",omitempty"`
	Results   []json.RawMessage `json:",omitempty"`
	// Called is the child process instance of a call activity.
	Called int64 `json:",omitempty"`
	// IncidentKey is the open incident on this element, if any.
	IncidentKey int64 `json:",omitempty"`
	// Payload holds variables that arrived with the element's trigger (a
	// completed job, a correlated message) until its completion maps them.
	Payload json.RawMessage `json:",omitempty"`
	// Triggered marks an event reached through an event-based gateway: what
	// it waited for has happened already.
	Triggered bool `json:",omitempty"`
	// Flows are the outgoing flows a gateway chose on activation.
	Flows []int32 `json:",omitempty"`
}

type pendingActivation struct {
	Element   int32
	Variables json.RawMessage `json:",omitempty"`
}

// job states.
const (
	jobActivatable = iota + 1
	jobActivated
	jobFailed // out of retries: an incident waits
	jobBackoff
)

type job struct {
	Key   int64
	State int
	Value record.Value
}

type timerRow struct {
	Key                int64
	ElementInstanceKey int64 // 0 for a start timer
	ProcessInstanceKey int64
	Definition         int64
	Element            int32 // the timer event's element
	Due                int64
	Repetitions        int32  // remaining; -1 unbounded
	Cycle              string `json:",omitempty"`
}

type message struct {
	Key            int64
	Name           string
	CorrelationKey string
	MessageID      string `json:",omitempty"`
	Variables      json.RawMessage
	Deadline       int64
	// Correlated lists the process ids it has been correlated to: a
	// message correlates at most once per process.
	Correlated []string `json:",omitempty"`
}

// messageSubscription lives on the message's partition and stands for a
// waiting element on some partition.
type messageSubscription struct {
	Key                int64
	Name               string
	CorrelationKey     string
	Partition          int
	ProcessInstanceKey int64
	ElementInstanceKey int64
	BpmnProcessID      string
	Interrupting       bool
	// Correlating is the message being delivered, 0 when idle.
	Correlating int64 `json:",omitempty"`
}

// processSubscription lives with the waiting element instance.
type processSubscription struct {
	Key                int64
	ElementInstanceKey int64
	ProcessInstanceKey int64
	Element            int32 // the catching element (event, boundary, task)
	Name               string
	CorrelationKey     string
	Interrupting       bool
}

type signalSubscription struct {
	Key                int64
	Name               string
	ElementInstanceKey int64 // 0 for a start event
	ProcessInstanceKey int64
	Definition         int64
	Element            int32
}

type incident struct {
	Key   int64
	Value record.Value
}

type meta struct {
	NextKey uint64
	// Inbox is, per other partition, the next position of its log to read
	// commands addressed to this partition from.
	Inbox map[int]uint64 `json:",omitempty"`
}

type variables struct {
	Vars map[string]json.RawMessage
}

// State is one partition's state: tables written through to storage, and
// in-memory indexes rebuilt when the state is loaded.
type State struct {
	meta        meta
	metaDirty   bool
	definitions *table[definition]
	elements    *table[elementInstance]
	vars        *table[variables]
	jobs        *table[job]
	timers      *table[timerRow]
	messages    *table[message]
	msgSubs     *table[messageSubscription]
	procSubs    *table[processSubscription]
	signalSubs  *table[signalSubscription]
	incidents   *table[incident]
	events      *eventWindow

	// Indexes.
	latest      map[string]int64           // bpmn process id → definition key
	versions    map[string]map[int32]int64 // bpmn process id → version → key
	children    map[int64]map[int64]struct{}
	activatable map[string][]int64 // job type → job keys, FIFO, checked lazily
	deadlines   deadlineHeap
	byName      map[string][]int64 // message name+key → message keys
	messageIDs  map[string]int64
	subsByName  map[string][]int64 // message subscriptions by name+key
	subsOf      map[int64][]int64  // element instance → process subscriptions
	signalsOf   map[string][]int64 // signal name → signal subscriptions
	timersOf    map[int64][]int64  // element instance → timers
	sigOf       map[int64][]int64  // element instance → signal subscriptions
	startTimers map[int64][]int64  // definition → start timers
	startedBy   map[string]int64   // process id + correlation key → root a message started
}

func newState() *State {
	return &State{
		definitions: newTable[definition]('d', nil),
		elements:    newTable('e', elementCodec),
		vars:        newTable('v', variablesCodec),
		jobs:        newTable('j', jobCodec),
		timers:      newTable[timerRow]('t', nil),
		messages:    newTable[message]('g', nil),
		msgSubs:     newTable[messageSubscription]('s', nil),
		procSubs:    newTable[processSubscription]('p', nil),
		signalSubs:  newTable[signalSubscription]('n', nil),
		incidents:   newTable('i', incidentCodec),
		events:      newEventWindow(),
		latest:      map[string]int64{},
		versions:    map[string]map[int32]int64{},
		children:    map[int64]map[int64]struct{}{},
		activatable: map[string][]int64{},
		byName:      map[string][]int64{},
		messageIDs:  map[string]int64{},
		subsByName:  map[string][]int64{},
		subsOf:      map[int64][]int64{},
		signalsOf:   map[string][]int64{},
		timersOf:    map[int64][]int64{},
		sigOf:       map[int64][]int64{},
		startTimers: map[int64][]int64{},
		startedBy:   map[string]int64{},
	}
}

// deadline kinds in the heap.
const (
	dueTimer = iota + 1
	dueJobTimeout
	dueJobBackoff
	dueMessageTTL
)

type deadline struct {
	At   int64
	Kind int
	Key  int64
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int { return len(h) }
func (h deadlineHeap) Less(i, j int) bool {
	if h[i].At != h[j].At {
		return h[i].At < h[j].At
	}
	return h[i].Key < h[j].Key
}
func (h deadlineHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)   { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (s *State) schedule(at int64, kind int, key int64) {
	heap.Push(&s.deadlines, deadline{At: at, Kind: kind, Key: key})
}

func nameKey(name, key string) string { return name + "\x00" + key }

// messageIDKey indexes a buffered message by its id, per name and key.
func messageIDKey(name, key, id string) string { return nameKey(nameKey(name, key), id) }

// unindex removes key from index[k], dropping the entry once it is empty.
func unindex[K comparable](index map[K][]int64, k K, key int64) {
	list := index[k]
	for i, x := range list {
		if x == key {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(index, k)
	} else {
		index[k] = list
	}
}
