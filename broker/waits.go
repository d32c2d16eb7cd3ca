package broker

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"eddy/cloudevents"
	"eddy/engine"
	"eddy/processor"
	"eddy/record"
	"eddy/storage"
)

// A WAIT_FOR_CLOUD_EVENT job is armed before its event is emitted: a row
// in the store names the job, the event type it waits for and its process
// instance. Because the row is durable before the emission, any reply comes
// after it on the log; a processor over the log (waitsProcessor) matches
// each event against the rows and completes the first job waiting for it,
// deleting the row in the same commit as its token. So a wait outlives a
// restart: the rows and the processor's token are in the store, and the
// job stays activated. When the job's activation times out (after the wait
// timeout) the engine hands it out again; the worker then finds the row,
// emits nothing new, and only extends the activation: it re-arms.

// waitsProcessor is the name of the processor that completes waits.
const waitsProcessor = "broker/cloudevents-waits"

var waitPrefix = []byte("broker/wait/")

// waitRow is one armed wait.
type waitRow struct {
	Job      int64  `json:"job"`
	Instance int64  `json:"instance"`
	WaitType string `json:"waitType"`
	// Source and ID are the emitted event's: it does not answer itself
	// when its type is the awaited one.
	Source  string `json:"source"`
	ID      string `json:"id"`
	Emitted bool   `json:"emitted"`
	// Reply holds the variables of the awaited event when it came while
	// the job could not be completed (failed and waiting out a backoff, or
	// an incident): the job is completed with them when it is handed out
	// again, instead of losing the event.
	Reply json.RawMessage `json:"reply,omitempty"`
}

// waitKeyPrefix is the prefix of the rows of one event type and instance:
// the type, length-prefixed, then the instance key big-endian; the job key
// follows, so the rows of an instance come in the order their jobs were
// made.
func waitKeyPrefix(typ string, instance int64) []byte {
	k := append([]byte(nil), waitPrefix...)
	k = binary.AppendUvarint(k, uint64(len(typ)))
	k = append(k, typ...)
	return binary.BigEndian.AppendUint64(k, uint64(instance))
}

func waitKey(typ string, instance, job int64) []byte {
	return binary.BigEndian.AppendUint64(waitKeyPrefix(typ, instance), uint64(job))
}

type waits struct {
	b     *Broker
	state *stateWriter
	proc  *processor.Processor
}

func newWaits(b *Broker) (*waits, error) {
	w := &waits{b: b, state: b.state}
	src := processor.NewLogSource(b.store, processor.WithDecoder(decodeForWaits))
	p, err := processor.New(waitsProcessor, b.store, src, processor.HandlerFunc(w.handle),
		processor.WithMode(processor.Tracking),
		processor.WithInitialToken(processor.FromHead()),
		processor.WithStatePartition(b.o.statePartition),
		processor.WithNodeID(b.o.nodeID),
		processor.WithClaimInterval(b.o.claimInterval),
		processor.WithRetryBackoff(100*time.Millisecond, 10*time.Second),
		processor.WithLogger(b.o.logger),
	)
	if err != nil {
		return nil, err
	}
	w.proc = p
	return w, nil
}

// decodeForWaits decodes the entries the waits care about: CloudEvents that
// name a process instance, and the ends of cloudevents jobs (canceled,
// completed by anyone, an error thrown), whose waits then go. Others are left out, so
// that the waits processor passes over an ingress-only load without
// committing its token after every read.
func decodeForWaits(p int, e storage.Entry) (processor.Event, error) {
	switch {
	case isCloudEventEntry(e.Data):
		// Only an event that names a process instance can answer a wait,
		// and the extension's name is in the entry's bytes when it has
		// one: most events are passed over without decoding.
		if !bytes.Contains(e.Data, []byte(ExtProcessInstanceKey)) {
			return processor.Event{}, processor.ErrSkipEntry
		}
		ev, err := decodeCloudEvent(p, e)
		if err != nil {
			return processor.Event{}, err
		}
		return processor.Event{Type: ev.Type, Value: ev}, nil
	case isJobEndedEntry(e.Data) && bytes.Contains(e.Data, []byte(JobType)):
		var r record.Record
		if err := record.Unmarshal(e.Data, &r); err != nil {
			return processor.Event{}, fmt.Errorf("log partition %d position %d: %w", p, e.Position, err)
		}
		return processor.Event{Value: &r}, nil
	}
	return processor.Event{}, processor.ErrSkipEntry
}

// arm records job's wait for an event of waitType, emits ev and keeps the
// job activated for the wait timeout. A job handed out again (its
// activation timed out) is only re-armed: its event was emitted already.
func (w *waits) arm(ctx context.Context, job *record.Record, waitType string, ev *cloudevents.Event) error {
	key := waitKey(waitType, job.Value.ProcessInstanceKey, job.Key)
	row := waitRow{Job: job.Key, Instance: job.Value.ProcessInstanceKey, WaitType: waitType, Source: ev.Source, ID: ev.ID}
	stored, err := w.state.get(ctx, key)
	switch {
	case err == nil:
		if err := json.Unmarshal(stored, &row); err != nil {
			return fmt.Errorf("reading the wait of job %d: %w", job.Key, err)
		}
	case errors.Is(err, storage.ErrNotFound):
		if err := w.put(ctx, key, row); err != nil {
			return fmt.Errorf("recording the wait of job %d for %s: %w", job.Key, waitType, err)
		}
	default:
		return fmt.Errorf("reading the wait of job %d: %w", job.Key, err)
	}
	if row.Reply != nil {
		// Its event came while the job was failed: it completes now.
		if err := w.b.eng.CompleteJob(ctx, job.Key, row.Reply); err != nil {
			return fmt.Errorf("completing job %d with the %s event that came while it was failed: %w", job.Key, waitType, err)
		}
		if err := w.state.delete(ctx, key); err != nil {
			w.b.o.logger.Warn("broker: removing an answered wait failed", "job", job.Key, "error", err)
		}
		return nil
	}
	if !row.Emitted {
		if _, err := w.b.publish(ctx, []cloudevents.Event{*ev}, true); err != nil {
			return fmt.Errorf("emitting %s: %w", ev.Type, err)
		}
		// Marked only while the row is there as it was: a reply may have
		// answered it (deleted) or been kept in it since. The event is out
		// either way; the worst that follows an unmarked row is that a job
		// handed out again emits it again.
		row.Emitted = true
		cur, err := w.state.get(ctx, key)
		var now waitRow
		if err == nil {
			err = json.Unmarshal(cur, &now)
		}
		if err == nil && now.Reply == nil {
			err = w.put(ctx, key, row)
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			w.b.o.logger.Warn("broker: marking a wait emitted failed", "job", job.Key, "error", err)
		}
	}
	if err := w.b.eng.UpdateJobTimeout(ctx, job.Key, w.b.o.waitTimeout); err != nil && !isGone(err) {
		// The job comes back at its activation timeout and is re-armed.
		w.b.o.logger.Warn("broker: extending a waiting job failed", "job", job.Key, "error", err)
	}
	return nil
}

func (w *waits) put(ctx context.Context, key []byte, row waitRow) error {
	b, err := json.Marshal(row)
	if err != nil {
		return err
	}
	return w.state.put(ctx, key, b)
}

// handle completes the first wait an event answers, or drops the wait of
// a job that ended otherwise.
func (w *waits) handle(ctx context.Context, d processor.Delivery) error {
	switch v := d.Value.(type) {
	case *cloudevents.Event:
		return w.answer(ctx, d, v)
	case *record.Record:
		if v.Value.JobType != JobType {
			return nil
		}
		h, err := parseJobHeaders(v.Value.CustomHeaders)
		if err == nil && h.Mode == ModeWaitForCloudEvent {
			d.Tx.Delete(waitKey(h.WaitType, v.Value.ProcessInstanceKey, v.Key))
		}
	}
	return nil
}

func (w *waits) answer(ctx context.Context, d processor.Delivery, e *cloudevents.Event) error {
	pik, ok := e.Extension(ExtProcessInstanceKey)
	if !ok {
		return nil
	}
	instance, err := strconv.ParseInt(pik.Text, 10, 64)
	if err != nil || instance <= 0 {
		return nil // not one of ours: nothing waits on it
	}
	onlyJob := addressedJob(e)
	// The rows are read from the batch (Tx.Get), which sees what earlier
	// events of it did (answered, given a kept reply); the scan only finds
	// their keys.
	var keys [][]byte
	err = w.state.scan(ctx, waitKeyPrefix(e.Type, instance), func(key, _ []byte) error {
		keys = append(keys, append([]byte(nil), key...))
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range keys {
		cur, err := d.Tx.Get(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var row waitRow
		if err := json.Unmarshal(cur, &row); err != nil {
			return fmt.Errorf("the wait row %q: %w", key, err)
		}
		if row.Reply != nil {
			// Answered already, the job waiting out a backoff or an
			// incident: the first answer completes it, and this event
			// may answer the next wait.
			continue
		}
		if (row.Source == e.Source && row.ID == e.ID) || (onlyJob != 0 && onlyJob != row.Job) {
			continue
		}
		vars := eventVariables(e)
		err = w.b.eng.CompleteJob(ctx, row.Job, vars)
		var rej *engine.Rejection
		isRejection := errors.As(err, &rej)
		if !isRejection || rej.Type != record.InvalidState {
			d.Tx.Delete(key)
		}
		switch {
		case err == nil:
			return nil
		case isRejection && rej.Type == record.InvalidState:
			// The job is there but cannot be completed now: failed and
			// waiting out a backoff, or an incident. The event is its
			// answer all the same, kept for when it is handed out again.
			row.Reply = vars
			if row.Reply == nil {
				row.Reply = json.RawMessage("{}")
			}
			b, merr := json.Marshal(row)
			if merr != nil {
				return merr
			}
			d.Tx.Put(key, b)
			return nil
		case isRejection && rej.Type == record.NotFound:
			continue // that job ended otherwise: the next wait may take the event
		case errors.As(err, &rej) && rej.Type == record.InvalidArgument:
			// The data cannot become variables: the job fails with the
			// reason, visible as an incident, rather than wait forever.
			msg := fmt.Sprintf("the awaited %s event (source %q, id %q) cannot complete the job: %s", e.Type, e.Source, e.ID, rej.Reason)
			if ferr := w.b.eng.FailJob(ctx, row.Job, 0, msg, 0, nil); ferr != nil && !isGone(ferr) {
				return ferr
			}
			return nil
		default:
			return fmt.Errorf("completing job %d with the %s event (source %q, id %q): %w", row.Job, e.Type, e.Source, e.ID, err)
		}
	}
	return nil
}

// addressedJob is the job an event answers and no other: the job its
// jobkey extension names, or 0 when any wait of its instance may take it.
// A reply that keeps the extensions of the event it answers names the job
// that emitted that event. The event a job emitted itself (its id is the
// job key, its source Eddy's) names its emitter, not an addressee: it
// answers another task's wait in its instance as any event of the awaited
// type does.
func addressedJob(e *cloudevents.Event) int64 {
	jk, ok := e.Extension(ExtJobKey)
	if !ok {
		return 0
	}
	if jk.Text == e.ID && strings.HasPrefix(e.Source, emittedSourcePrefix) {
		return 0
	}
	job, _ := strconv.ParseInt(jk.Text, 10, 64)
	return job
}
