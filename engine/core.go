package engine

import (
	"fmt"
	"time"

	"eddy/bpmn"
	"eddy/record"
	"eddy/storage"
)

// Core is the deterministic state machine of one partition. It is not safe
// for concurrent use: its driver calls it from one goroutine.
type Core struct {
	partition  int
	partitions int
	st         *State
	models     map[int64]*bpmn.Process
	startIdx   *startIndex // nil: to be built
	limits     Limits

	now     int64  // Unix ms of the command being processed
	nextPos uint64 // position the next record will get
	cmdPos  uint64 // position of the command being processed

	out    []record.Record
	writes writeSet
	queue  []action
	qi     int // next action of queue to run
}

// Limits bound what a command may carry.
type Limits struct {
	// MaxVariablesSize is the largest JSON document of variables accepted.
	MaxVariablesSize int
	// MaxActivateJobs caps one activation's job count.
	MaxActivateJobs int
	// EventDedupWindow is how long a CloudEvent's source and id are
	// remembered: the same event arriving again within it is accepted
	// once.
	EventDedupWindow time.Duration
}

// DefaultLimits are the limits of a new engine.
var DefaultLimits = Limits{MaxVariablesSize: 4 << 20, MaxActivateJobs: 1000, EventDedupWindow: time.Minute}

// NewCore returns the core of partition p of a cluster of n partitions,
// over st (a fresh state or one loaded from storage). next is the position
// the next record written to p's log will have.
func NewCore(p, n int, st *State, next uint64, limits Limits) *Core {
	return &Core{partition: p, partitions: n, st: st, models: map[int64]*bpmn.Process{}, nextPos: next, limits: limits}
}

// Ready is what the core produced since the last Advance: records to append
// to the partition's log and state writes, to commit in one batch.
type Ready struct {
	Records []record.Record
	Writes  writeSet
	// NextDeadline is the earliest time (Unix ms) at which the core has
	// something to do on its own (a timer, a job deadline, a TTL); 0: none.
	NextDeadline int64
}

// Ready returns the pending output. The driver persists it, then calls
// Advance.
func (c *Core) Ready() Ready {
	c.flush()
	return Ready{Records: c.out, Writes: c.writes, NextDeadline: c.nextDeadline()}
}

// Advance forgets the output Ready returned, now durable.
func (c *Core) Advance() {
	c.out = c.out[:0]
	c.writes.reset()
}

func (c *Core) flush() {
	st := c.st
	if st.metaDirty {
		c.writes.put(metaKey, st.meta.appendJSON(make([]byte, 0, 64)))
		st.metaDirty = false
	}
	st.definitions.flush(&c.writes)
	st.elements.flush(&c.writes)
	st.vars.flush(&c.writes)
	st.jobs.flush(&c.writes)
	st.timers.flush(&c.writes)
	st.messages.flush(&c.writes)
	st.msgSubs.flush(&c.writes)
	st.procSubs.flush(&c.writes)
	st.signalSubs.flush(&c.writes)
	st.incidents.flush(&c.writes)
	st.events.flush(&c.writes)
}

// newKey returns a fresh key of this partition.
func (c *Core) newKey() int64 {
	c.st.meta.NextKey++
	c.st.metaDirty = true
	return record.Key(c.partition, c.st.meta.NextKey)
}

// emit appends a record to the output.
func (c *Core) emit(kind record.Kind, vt record.ValueType, in record.Intent, key int64, v *record.Value) *record.Record {
	c.out = append(c.out, record.Record{
		Position: c.nextPos, Timestamp: c.now, Partition: c.partition, Target: c.partition,
		Kind: kind, ValueType: vt, Intent: in, Key: key, SourcePosition: c.cmdPos, Value: *v,
	})
	c.nextPos++
	return &c.out[len(c.out)-1]
}

func (c *Core) event(vt record.ValueType, in record.Intent, key int64, v *record.Value) *record.Record {
	return c.emit(record.Event, vt, in, key, v)
}

// send writes a command for partition p; when p is this partition it is
// processed right away, in the same batch.
func (c *Core) send(p int, vt record.ValueType, in record.Intent, key int64, v *record.Value) {
	if p == c.partition {
		cmd := record.Record{Partition: p, Target: p, Kind: record.Command, ValueType: vt, Intent: in, Key: key, Value: *v}
		c.queue = append(c.queue, action{kind: actCommand, cmd: &cmd})
		return
	}
	r := c.emit(record.Command, vt, in, key, v)
	r.Target = p
}

// partitionFor returns the partition of a message correlation key.
func (c *Core) partitionFor(correlationKey string) int {
	return int(fnv1a(fnvOffset, correlationKey) % uint32(c.partitions))
}

// partitionForEvent is the partition of a CloudEvent's source and id: that
// of the key "source\x00id", hashed without joining them.
func (c *Core) partitionForEvent(source, id string) int {
	h := fnv1a(fnv1a(fnvOffset, source), "\x00")
	return int(fnv1a(h, id) % uint32(c.partitions))
}

// fnv1a goes on hashing h with s: FNV-1a, stable across versions and
// machines.
func fnv1a(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

const fnvOffset = uint32(2166136261)

// Response is the core's answer to a command.
type Response struct {
	// Rejection is set when the command was refused, with Reason.
	Rejection record.RejectionType
	Reason    string
	// Record is the main event the command produced (the created instance,
	// the completed job, ...).
	Record record.Record
	// Jobs are the jobs an activation handed out.
	Jobs []record.Record
}

// Rejected reports whether the command was refused.
func (r *Response) Rejected() bool { return r.Rejection != record.NoRejection }

func (c *Core) reject(cmd *record.Record, t record.RejectionType, reason string) Response {
	r := c.emit(record.Rejection, cmd.ValueType, cmd.Intent, cmd.Key, &cmd.Value)
	r.Rejection, r.Reason = t, reason
	return Response{Rejection: t, Reason: reason, Record: *r}
}

// maxPayload bounds what a command carries in documents and resources,
// leaving room under the log's entry limit for the rest of its record.
const maxPayload = storage.MaxEntrySize - 64<<10

// payloadSize sums the variable-length parts of a command's value.
func payloadSize(v *record.Value) int {
	n := len(v.Variables) + len(v.Event) + len(v.CustomHeaders) + len(v.JSONValue)
	for i := range v.Resources {
		n += len(v.Resources[i].Content) + len(v.Resources[i].Name)
	}
	for i := range v.Instructions {
		n += len(v.Instructions[i].Variables)
	}
	return n
}

// Handle processes one command at time now (Unix ms). A client's command is
// written to the log before its events; a command read from another
// partition's log (fromLog) is not written again.
func (c *Core) Handle(cmd *record.Record, now int64, fromLog bool) Response {
	c.now = now
	c.cmdPos = 0
	if !fromLog && payloadSize(&cmd.Value) > maxPayload {
		// Its record could not be written: refuse it before anything changes.
		return c.reject(&record.Record{ValueType: cmd.ValueType, Intent: cmd.Intent, Key: cmd.Key}, record.ExceededBatchRecordSize,
			fmt.Sprintf("Expected the command to carry at most %d bytes of documents and resources, but it carries %d", maxPayload, payloadSize(&cmd.Value)))
	}
	if !fromLog && !(cmd.ValueType == record.Job && cmd.Intent == record.Activate) && cmd.ValueType != record.CloudEvent {
		// Job activations are not logged as commands: a worker's poll that
		// finds nothing must cost no write. A CloudEvent's command is not
		// either: its event carries it whole, once.
		c.cmdPos = c.nextPos
		r := c.emit(record.Command, cmd.ValueType, cmd.Intent, cmd.Key, &cmd.Value)
		r.SourcePosition = 0
	} else {
		c.cmdPos = cmd.Position
	}
	resp := c.dispatch(cmd)
	c.drain()
	return resp
}

// Tick acts on everything due at now: timers, job deadlines and back-offs,
// message TTLs.
func (c *Core) Tick(now int64) {
	c.now = now
	c.cmdPos = 0
	c.st.events.forget(now)
	c.fireDue()
	c.drain()
}

// windowSweepSlack is how long an expired entry of the duplicate window may
// outlive its deadline when no event comes to drop it: the ticks that drop
// it then come at most this often, not at every entry's millisecond.
const windowSweepSlack = 1000 // ms

// nextDeadline is when Tick has something to do: the first timer, job or
// message deadline, or, with some slack, the duplicate window's oldest
// expiry, so that a window filled by a burst is let go when the events
// stop, not when the next one comes.
func (c *Core) nextDeadline() int64 {
	d := c.nextTimedDeadline()
	if e := c.st.events.oldestDeadline(); e > 0 && (d == 0 || e+windowSweepSlack < d) {
		return e + windowSweepSlack
	}
	return d
}

func (c *Core) nextTimedDeadline() int64 {
	for len(c.st.deadlines) > 0 {
		d := c.st.deadlines[0]
		if c.deadlineLive(d) {
			return d.At
		}
		popDeadline(c.st)
	}
	return 0
}

func (c *Core) dispatch(cmd *record.Record) Response {
	switch cmd.ValueType {
	case record.Deployment:
		return c.deploy(cmd)
	case record.ProcessInstanceCreation:
		return c.createInstance(cmd)
	case record.ProcessInstance:
		return c.processInstanceCommand(cmd)
	case record.Job:
		return c.jobCommand(cmd)
	case record.Message:
		return c.messageCommand(cmd)
	case record.CloudEvent:
		return c.cloudEventCommand(cmd)
	case record.MessageSubscription:
		return c.messageSubscriptionCommand(cmd)
	case record.ProcessMessageSubscription:
		return c.processSubscriptionCommand(cmd)
	case record.VariableDocument:
		return c.setVariables(cmd)
	case record.Incident:
		return c.resolveIncident(cmd)
	case record.Signal:
		return c.broadcastSignal(cmd)
	case record.ProcessInstanceModification:
		return c.modifyInstance(cmd)
	case record.ResourceDeletion:
		return c.deleteResource(cmd)
	}
	return c.reject(cmd, record.InvalidArgument, "unknown command "+cmd.ValueType.String()+" "+cmd.Intent.String())
}
