package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"eddy/cloudevents"
	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

const (
	// workerName is the worker the broker activates jobs as.
	workerName = "eddy-broker"
	// DefaultJobTimeout is how long a job is locked while it is emitted:
	// shorter than the engine's dedup window, so that a job emitted again
	// after a crash is taken for the same event.
	DefaultJobTimeout = 30 * time.Second
	// failBackoff is the wait before a job whose emission failed is tried
	// again.
	failBackoff = 5 * time.Second
)

// failingReminder is how often a failure to activate jobs that goes on is
// warned of again.
const failingReminder = 30 * time.Second

// jobWorker serves jobs of type "cloudevents" inside the node: no external
// worker is needed.
type jobWorker struct {
	b   *Broker
	sem chan struct{}
	wg  sync.WaitGroup
}

func newJobWorker(b *Broker) *jobWorker {
	return &jobWorker{b: b, sem: make(chan struct{}, b.o.jobWorkers)}
}

// run activates jobs until ctx ends, handling each on its own goroutine.
func (w *jobWorker) run(ctx context.Context) {
	defer w.wg.Wait()
	eng := w.b.eng
	// While a partition has no reachable owner (a failover), activation
	// fails every second: the warning is given once, then again only
	// after failingReminder if it goes on, and the recovery is told.
	var failingSince, warned time.Time
	for ctx.Err() == nil {
		// Wait for a free slot, then ask for as many jobs as slots are free.
		select {
		case w.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		free := cap(w.sem) - len(w.sem) + 1
		jobs, err := eng.ActivateJobs(ctx, engine.ActivateRequest{
			Type: JobType, Worker: workerName, Timeout: w.b.o.jobTimeout, MaxJobs: free, RequestTimeout: w.b.o.jobPollInterval,
		})
		<-w.sem
		if err != nil {
			// A request cancelled by the node (an engine switch, a stop)
			// is not a failure worth a warning.
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				now := time.Now()
				if failingSince.IsZero() {
					failingSince = now
				}
				if now.Sub(warned) >= failingReminder {
					w.b.o.logger.Warn("broker: activating cloudevents jobs failed; trying again every second", "error", err, "failingFor", now.Sub(failingSince).Round(time.Second))
					warned = now
				}
				sleep(ctx, time.Second)
			}
			continue
		}
		if !failingSince.IsZero() {
			w.b.o.logger.Info("broker: activating cloudevents jobs works again", "failedFor", time.Since(failingSince).Round(time.Second))
			failingSince, warned = time.Time{}, time.Time{}
		}
		for i := range jobs {
			select {
			case w.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			w.wg.Add(1)
			go func(job record.Record) {
				defer func() { <-w.sem; w.wg.Done() }()
				w.handle(ctx, &job)
			}(jobs[i])
		}
	}
}

// handle emits one job's event and completes the job or arms its wait.
// A job that cannot describe an event fails with no retries left (an
// incident says why); a failed emission is retried after a backoff.
func (w *jobWorker) handle(ctx context.Context, job *record.Record) {
	// The job is this worker's until its deadline, and a failure must be
	// told before then: a job that times out comes back with its retries
	// untouched, so an emission that kept failing late (a store stalled
	// past the deadline) would be tried for ever. A fifth of the lock is
	// kept for the telling.
	work := ctx
	if job.Value.Deadline > 0 {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, time.UnixMilli(job.Value.Deadline).Add(-w.b.o.jobTimeout/5))
		defer cancel()
	}
	h, err := parseJobHeaders(job.Value.CustomHeaders)
	if err != nil {
		w.fail(ctx, job, 0, err)
		return
	}
	ev := jobEvent(job, h.Type, w.b.o.now())
	if err := ev.Validate(); err != nil {
		w.fail(ctx, job, 0, fmt.Errorf("the event to emit (type %q, from task header Type) is not a valid CloudEvent: %w", h.Type, err))
		return
	}
	if h.Mode == ModeWaitForCloudEvent {
		if err := w.b.waits.arm(work, job, h.WaitType, &ev); err != nil {
			w.fail(ctx, job, retriesAfter(job, err), err)
		}
		return
	}
	if _, err := w.b.publish(work, []cloudevents.Event{ev}, true); err != nil {
		w.fail(ctx, job, retriesAfter(job, err), fmt.Errorf("emitting %s: %w", h.Type, err))
		return
	}
	if err := w.b.eng.CompleteJob(ctx, job.Key, nil); err != nil && !isGone(err) && ctx.Err() == nil {
		// The job times out and is emitted again: the same event id, so
		// the broker takes it for a duplicate within its window.
		w.b.o.logger.Warn("broker: completing an emitted cloudevents job failed", "job", job.Key, "error", err)
	}
}

// retriesAfter is the retries a job keeps after its emission failed with
// err: one fewer, but for a failover (the event's partition has no owner
// this node can reach, or its owner went away before it answered, which the
// ingress answers 503 for), which ends once another node claims the
// partition and is no failure of the job: it is tried again after the
// backoff with its retries untouched, however long the claim timeout. The
// event keeps its id, so one that reached the log is taken once.
func retriesAfter(job *record.Record, err error) int32 {
	if errors.Is(err, engine.ErrNoPartition) || errors.Is(err, storage.ErrOutcomeUnknown) {
		return job.Value.Retries
	}
	return job.Value.Retries - 1
}

func (w *jobWorker) fail(ctx context.Context, job *record.Record, retries int32, cause error) {
	if retries < 0 {
		retries = 0
	}
	if ctx.Err() != nil {
		return // the job times out and comes back
	}
	// The incident (no retries left) or the next try says it too, but an
	// operator following the node's log sees it here first.
	w.b.o.logger.Warn("broker: a cloudevents job failed", "job", job.Key, "process", job.Value.BpmnProcessID,
		"element", job.Value.ElementID, "instance", job.Value.ProcessInstanceKey, "retriesLeft", retries, "cause", cause)
	err := w.b.eng.FailJob(ctx, job.Key, int(retries), cause.Error(), failBackoff, nil)
	if err != nil && !isGone(err) {
		w.b.o.logger.Warn("broker: failing a cloudevents job failed", "job", job.Key, "cause", cause, "error", err)
	}
}

// emittedSourcePrefix begins the source of every event a job emits; the
// process id follows.
const emittedSourcePrefix = "/eddy/processes/"

// jobEvent is the event a job emits: its type from the Type header, the
// job's variables as data, extensions that name the job, and an id made of
// the job key, so that an emission repeated after a failure is the same
// event.
func jobEvent(job *record.Record, typ string, now time.Time) cloudevents.Event {
	v := &job.Value
	data := v.Variables
	if len(data) == 0 {
		data = []byte("{}")
	}
	e := cloudevents.Event{
		ID:              strconv.FormatInt(job.Key, 10),
		Source:          emittedSourcePrefix + v.BpmnProcessID,
		SpecVersion:     cloudevents.SpecVersion,
		Type:            typ,
		DataContentType: "application/json",
		Time:            now.UTC().Format(time.RFC3339Nano),
		Data:            append([]byte(nil), data...),
	}
	e.SetExtension(ExtBpmnActivityID, cloudevents.StringValue(v.ElementID))
	e.SetExtension(ExtBpmnProcessID, cloudevents.StringValue(v.BpmnProcessID))
	e.SetExtension(ExtJobKey, cloudevents.StringValue(strconv.FormatInt(job.Key, 10)))
	e.SetExtension(ExtProcessInstanceKey, cloudevents.StringValue(strconv.FormatInt(v.ProcessInstanceKey, 10)))
	return e
}

// isGone reports an engine answer saying the job is no longer there to
// act on (completed, canceled, or in a state that refuses the command).
func isGone(err error) bool {
	var rej *engine.Rejection
	return errors.As(err, &rej) && (rej.Type == record.NotFound || rej.Type == record.InvalidState)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
