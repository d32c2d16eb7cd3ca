package broker

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"eddy/broker/trigger"
	"eddy/cloudevents"
	"eddy/processor"
	"eddy/processor/deadletter"
)

// An unordered trigger retries a failed delivery without holding up the
// events behind it, as Knative's broker does. Waiting out the back-off in
// the handler would keep the event's segment, a sixteenth of the trigger's
// events, behind it for the whole retry schedule (minutes, with Knative's
// defaults). Instead the handler makes one attempt; one that is to be
// retried fails with a retryLater, which the processor parks in the
// trigger's dead-letter queue (each event of an unordered trigger is a
// sequence of its own, so nothing waits behind it), marked with when it
// is due and how many attempts it had. The trigger's retrier hands it to
// the subscriber again when it is due, one attempt at a time, on whichever
// node takes the letter's lease; the last failure sends it to the
// dead-letter sink, or leaves it parked for an operator's retry, as before.
// The event is durable all along: on the log, then in the queue.
//
// An ordered trigger keeps retrying in the handler: the later events of its
// sequence must wait anyway.

// retryLater is a delivery to try again at due, after attempts attempts.
type retryLater struct {
	reason   string
	attempts int
	due      time.Time
}

func (e *retryLater) Error() string { return e.reason }

// The diagnostics a letter of the retry lane carries.
const (
	// diagRetry is "scheduled" while the retrier is to try the letter
	// again, "exhausted" once its retries are spent (it waits for an
	// operator's retry).
	diagRetry = "eddy.retry"
	// diagRetryDue is when the next attempt is due, RFC 3339.
	diagRetryDue = "eddy.retry.due"
	// diagAttempts counts the attempts of the retrier's schedule (an
	// operator's retry starts it again).
	diagAttempts = "eddy.retry.attempts"
	// diagTried counts every request sent to the subscriber for the
	// letter's event, on any trigger, through every retry.
	diagTried = "eddy.tried"
)

// retrySchedule bounds one retry of a letter: the delivery's whole
// schedule, attempts bounded by timeout and the back-offs between them, as
// an operator's retry of an ordered trigger makes it in place, and then the
// dead-letter sink's, which the last failure goes through. The letter's
// lease is renewed meanwhile (the queue's keeper), so no other node takes
// it up, while a letter a dead node held is free again after the queue's
// claim duration.
func retrySchedule(d *trigger.Delivery, timeout time.Duration) time.Duration {
	const most = 24 * time.Hour // a bound that sums cannot overflow
	attempt := min(timeout+aliveSlack, most)
	schedule := time.Duration(min(d.Retry+1, 1000)) * attempt
	for n := 1; n <= d.Retry && schedule < most; n++ {
		schedule += min(d.Backoff(n), most)
	}
	schedule = min(schedule, most)
	bound := schedule + attempt
	if d.DeadLetterSink != "" {
		bound += schedule
	}
	return min(bound, most)
}

// attemptTimeout bounds each attempt of d: its timeout, or the broker's.
func (b *Broker) attemptTimeout(d *trigger.Delivery) time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return b.o.deliveryTimeout
}

// laneLimit is how many deliveries a trigger keeps waiting for a retry in
// the dead-letter queue before its handler retries in place again, as an
// ordered trigger does: a subscriber that fails everything then holds the
// trigger back, rather than fill the queue with every event it is sent.
const laneLimit = 512

// retryWorkers bounds the retries a trigger's retrier makes at once on a
// node: one that hangs until its timeout does not hold up the others.
const retryWorkers = 8

// retrierScan is how often a retrier reads the whole queue, to find the
// letters other nodes parked (or that it parked before a restart); its own
// it knows of at once.
const retrierScan = 5 * time.Second

// retrier hands an unordered trigger's parked deliveries to the subscriber
// again when they are due.
type retrier struct {
	h *triggerHandler
	q *deadletter.Queue

	mu   sync.Mutex
	due  map[string]time.Time // sequence → when its head is due
	busy map[string]bool      // sequences being retried here
	// queued is how many sequences the queue held at the last scan,
	// parked ones included: the queue's bound counts them all.
	queued int
	wake   chan struct{}

	workers chan struct{} // a slot per retry in hand
	cancel  context.CancelFunc
	done    chan struct{}
	wg      sync.WaitGroup
}

func newRetrier(h *triggerHandler, q *deadletter.Queue) *retrier {
	return &retrier{h: h, q: q, due: map[string]time.Time{}, busy: map[string]bool{}, wake: make(chan struct{}, 1),
		workers: make(chan struct{}, retryWorkers)}
}

// crowded says the lane holds laneLimit deliveries: new failures are
// retried in place.
func (r *retrier) crowded() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return max(len(r.due)+len(r.busy), r.queued) >= laneLimit
}

// policy is the trigger's dead-letter policy: a delivery to retry is parked
// as scheduled (and the retrier told); any other failure as exhausted.
func (r *retrier) policy(l deadletter.Letter, err error) deadletter.Decision {
	var later *retryLater
	if !errors.As(err, &later) {
		diag := map[string]string{diagRetry: "exhausted"}
		if de, ok := errors.AsType[*DeliveryError](err); ok && de.Attempts > 0 {
			diag[diagTried] = strconv.Itoa(triedSoFar(l) + de.Attempts)
		}
		return deadletter.Enqueue(diag)
	}
	r.schedule(l.SequenceID, later.due)
	return deadletter.Enqueue(map[string]string{
		diagRetry:    "scheduled",
		diagRetryDue: later.due.UTC().Format(time.RFC3339Nano),
		diagAttempts: strconv.Itoa(later.attempts),
		diagTried:    strconv.Itoa(triedSoFar(l) + 1), // a retryLater is one request's
	})
}

// triedSoFar is how many requests l's earlier handlings sent: none for an
// event failing for the first time, what its letter says for one being
// retried (by the retrier, or an operator's retry of any trigger). A
// letter parked before diagTried was kept says it in diagAttempts.
func triedSoFar(l deadletter.Letter) int {
	if !l.Queued() {
		return 0
	}
	return letterTried(l)
}

// letterTried is how many requests were sent for l's event, as its
// diagnostics say.
func letterTried(l deadletter.Letter) int {
	s, ok := l.Diagnostics[diagTried]
	if !ok {
		s = l.Diagnostics[diagAttempts]
	}
	n, _ := strconv.Atoi(s)
	return n
}

func (r *retrier) schedule(seq string, due time.Time) {
	r.mu.Lock()
	r.due[seq] = due
	r.mu.Unlock()
	r.poke()
}

// poke wakes the retrier's loop to look at its schedule again.
func (r *retrier) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *retrier) start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go r.run(ctx)
}

// stop ends the retrier and waits for the attempt in hand: a letter whose
// attempt is cut short stays as it was, to be tried again.
func (r *retrier) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	<-r.done
	r.wg.Wait()
}

func (r *retrier) run(ctx context.Context) {
	defer close(r.done)
	var scanned time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-r.wake:
		}
		if time.Since(scanned) >= retrierScan {
			r.scan(ctx)
			scanned = time.Now()
		}
		next := scanned.Add(retrierScan)
		for _, seq := range r.takeDue(time.Now()) {
			select {
			case r.workers <- struct{}{}:
			case <-ctx.Done():
				return
			}
			r.wg.Add(1)
			go func() {
				defer func() { <-r.workers; r.wg.Done(); r.finish(seq) }()
				r.retrySequence(ctx, seq)
			}()
		}
		r.mu.Lock()
		for seq, due := range r.due {
			if due.Before(next) && !r.busy[seq] { // a busy one wakes the loop as it ends
				next = due
			}
		}
		r.mu.Unlock()
		timer.Reset(max(time.Until(next), time.Millisecond))
	}
}

// takeDue removes and returns the sequences due by now, marked busy, the
// longest due first: they wait for a worker in that order, so a retry
// that fell due early is not left behind later ones while slow attempts
// hold the workers.
func (r *retrier) takeDue(now time.Time) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	type dueSeq struct {
		seq string
		due time.Time
	}
	var taken []dueSeq
	for seq, due := range r.due {
		if !due.After(now) && !r.busy[seq] {
			taken = append(taken, dueSeq{seq, due})
			delete(r.due, seq)
			r.busy[seq] = true
		}
	}
	slices.SortFunc(taken, func(a, b dueSeq) int { return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.seq, b.seq)) })
	out := make([]string, len(taken))
	for i, t := range taken {
		out[i] = t.seq
	}
	return out
}

func (r *retrier) finish(seq string) {
	r.mu.Lock()
	delete(r.busy, seq)
	_, again := r.due[seq]
	r.mu.Unlock()
	if again {
		r.poke()
	}
}

// retrySequence makes the next attempt of seq's letter, if it is still
// scheduled and due as stored: another node may have retried it since this
// one learnt of it, and set it a later time, or exhausted it. A letter not
// due is left as it is (the handler ends the call's context, which the
// queue takes for an attempt cut short) and kept for its time.
func (r *retrier) retrySequence(ctx context.Context, seq string) {
	bound := retrySchedule(&r.h.r.Delivery, r.h.b.attemptTimeout(&r.h.r.Delivery))
	actx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var later time.Time
	handle := func(hctx context.Context, l deadletter.Letter) error {
		if l.Diagnostics[diagRetry] != "scheduled" {
			cancel()
			return hctx.Err()
		}
		if due, err := time.Parse(time.RFC3339Nano, l.Diagnostics[diagRetryDue]); err == nil && due.After(time.Now()) {
			later = due
			cancel()
			return hctx.Err()
		}
		return r.retry(hctx, l)
	}
	_, err := r.q.ProcessSequence(actx, seq, handle, r.policy)
	switch {
	case !later.IsZero():
		r.schedule(seq, later)
	case ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded):
		r.h.b.o.logger.Warn("broker: a retry outlasted its delivery schedule and was cut short: the delivery is tried again", "trigger", r.h.r.Namespace+"/"+r.h.r.Name, "schedule", bound)
	case err == nil, errors.Is(err, deadletter.ErrBusy), ctx.Err() != nil, actx.Err() != nil:
	case errors.Is(err, deadletter.ErrClaimLost):
		r.h.b.o.logger.Info("broker: another node took a retry over; it delivers the event", "trigger", r.h.r.Namespace+"/"+r.h.r.Name, "error", err)
	default:
		r.h.b.o.logger.Warn("broker: retrying a delivery failed", "trigger", r.h.r.Namespace+"/"+r.h.r.Name, "error", err)
	}
}

// scan learns the scheduled letters of the whole queue.
func (r *retrier) scan(ctx context.Context) {
	infos, err := r.q.Sequences(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.h.b.o.logger.Warn("broker: reading the deliveries to retry", "trigger", r.h.r.Namespace+"/"+r.h.r.Name, "error", err)
		}
		return
	}
	present := make(map[string]bool, len(infos))
	for _, info := range infos {
		present[info.ID] = true
	}
	r.mu.Lock()
	r.queued = len(infos)
	for seq := range r.due {
		if !present[seq] && !r.busy[seq] {
			delete(r.due, seq) // delivered or dropped elsewhere
		}
	}
	r.mu.Unlock()
	for _, info := range infos {
		if info.Size != 1 {
			continue // an ordered trigger's sequence, parked behind its head
		}
		r.mu.Lock()
		_, known := r.due[info.ID]
		known = known || r.busy[info.ID]
		r.mu.Unlock()
		if known {
			continue
		}
		head, ok := scheduledHead(ctx, r.q, info.ID)
		if !ok {
			continue
		}
		due, err := time.Parse(time.RFC3339Nano, head.Diagnostics[diagRetryDue])
		if err != nil {
			due = info.LastTouched
		}
		r.mu.Lock()
		if _, known := r.due[info.ID]; !known && !r.busy[info.ID] {
			r.due[info.ID] = due
		}
		r.mu.Unlock()
	}
}

// retry makes the next attempt of a parked delivery; one the trigger's
// filter no longer matches is dropped, as an operator's retry drops it.
func (r *retrier) retry(ctx context.Context, l deadletter.Letter) error {
	e := processor.LetterEvent(l)
	d := processor.Delivery{Event: &e, Segment: -1}
	ev, err := r.h.eventOf(d)
	if ev == nil {
		return err
	}
	attempts, _ := strconv.Atoi(l.Diagnostics[diagAttempts])
	return r.h.attempt(ctx, d, ev, max(attempts, 1)+1)
}

// attempt makes attempt n of delivering ev, once. Delivered, it goes on as
// any delivery does (the reply published); failed with a retry left, it is
// a retryLater; failed for good, it goes to the dead-letter sink, if any.
func (h *triggerHandler) attempt(ctx context.Context, d processor.Delivery, ev *cloudevents.Event, n int) error {
	r := h.r
	timeout := h.b.attemptTimeout(&r.Delivery)
	d.KeepAlive(time.Now().Add(timeout + aliveSlack))
	a := h.b.send(ctx, target{url: r.Subscriber, replies: true}, ev, r.Delivery.Format, timeout)
	a.tries = 1
	if a.ok() {
		h.stats.accepted()
		if a.Reply == nil {
			return nil
		}
		return h.publishReply(ctx, d, ev, a.Reply, a.tries)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	reason := a.describe(r.Subscriber)
	if retry, wait := r.Delivery.Next(n-1, a.Status, a.RetryAfter, time.Now()); retry && !a.badReply {
		h.stats.retried(reason)
		return &retryLater{reason: reason, attempts: n, due: time.Now().Add(wait)}
	}
	h.stats.failed(reason)
	return h.deadLetter(ctx, d, ev, a, reason)
}

// parkedAndRetrying counts the letters of q: those parked for an operator,
// and those the retrier is to try again. A queue that cannot be read counts
// nothing.
func parkedAndRetrying(ctx context.Context, q *deadletter.Queue) (parked, retrying int) {
	infos, err := q.Sequences(ctx)
	if err != nil {
		return 0, 0
	}
	for _, info := range infos {
		parked += info.Size
		if info.Size != 1 {
			continue // an ordered trigger's sequence: parked behind its head
		}
		if _, ok := scheduledHead(ctx, q, info.ID); ok {
			parked--
			retrying++
		}
	}
	return parked, retrying
}

// scheduledHead reads the letter of a single-letter sequence, and says
// whether the retrier is to try it again (false too when it cannot be read).
func scheduledHead(ctx context.Context, q *deadletter.Queue, seq string) (deadletter.Letter, bool) {
	letters, err := q.Letters(ctx, seq)
	if err != nil || len(letters) != 1 || letters[0].Diagnostics[diagRetry] != "scheduled" {
		return deadletter.Letter{}, false
	}
	return letters[0], true
}
