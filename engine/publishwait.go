package engine

import (
	"context"
	"fmt"
	"time"

	"eddy/record"
)

// A publish-with-result waits twice: for the message's correlation (which
// names the instance), then for that instance's end. An engine switch can
// cut either wait short; the next engine finds what came meanwhile on the
// logs, as AwaitInstance does for the end.

// AwaitCorrelation waits until message messageKey, published at since, is
// correlated to (or starts) a process instance, and returns that
// instance's key; the wait ends at since+timeout (the request's timeout,
// which its error names). A correlation that came before the wait, while
// no engine of this node could hand it over, is looked for on the logs
// from since (less clockMargin): the correlation is written on the
// instance's partition, which the message does not tell. It answers as an
// uncut wait would have, with the first correlation: a start event's,
// written on the message's partition with the publication, else the
// earliest on the others. ErrNotCorrelated if the message expired
// uncorrelated.
func (e *Engine) AwaitCorrelation(ctx context.Context, messageKey int64, since time.Time, timeout time.Duration) (int64, error) {
	key, came, err := e.outcomes.awaitCorrelation(ctx, messageKey, time.Until(since.Add(timeout)),
		func() (int64, bool, error) { return e.firstCorrelation(ctx, messageKey, since) })
	switch {
	case err != nil:
		return 0, err
	case !came:
		return 0, correlationTimeout(messageKey, timeout)
	case key == notCorrelated:
		return 0, notCorrelatedError(messageKey)
	}
	return key, nil
}

// awaitCorrelation waits until message key is correlated (its instance's
// key) or expires uncorrelated (notCorrelated), timeout at most; came is
// false when neither came in time. look, if not nil, is asked once the
// waits are set up, for what came before them (a log's records).
func (o *outcomes) awaitCorrelation(ctx context.Context, key int64, timeout time.Duration, look func() (int64, bool, error)) (int64, bool, error) {
	inst, correlated, came := o.correlations.register(key)
	if came {
		return inst, true, nil
	}
	defer o.correlations.unregister(key, correlated)
	_, expired, came := o.expiries.register(key)
	if came {
		return notCorrelated, true, nil
	}
	defer o.expiries.unregister(key, expired)
	if look != nil {
		if inst, found, err := look(); err != nil || found {
			return inst, found, err
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case inst := <-correlated:
		return inst, true, nil
	case <-expired:
		return notCorrelated, true, nil
	case <-t.C:
	case <-ctx.Done():
	}
	select { // what came as the wait ended
	case inst := <-correlated:
		return inst, true, nil
	case <-expired:
		return notCorrelated, true, nil
	default:
	}
	return 0, false, ctx.Err()
}

// firstCorrelation reads the logs from since (less clockMargin) for the
// first correlation of message messageKey: on the message's own partition,
// else the one stamped earliest on the others. A message its partition's
// log shows expired uncorrelated is notCorrelated.
func (e *Engine) firstCorrelation(ctx context.Context, messageKey int64, since time.Time) (int64, bool, error) {
	home := record.PartitionOf(messageKey)
	r, ok, err := e.outcomes.scan(ctx, home, 0, since,
		func(h record.Header) bool { return h.ValueType != record.ProcessInstance },
		func(r *record.Record) bool {
			if r.ValueType == record.Message {
				return r.Key == messageKey && r.Value.Uncorrelated
			}
			return r.Value.MessageKey == messageKey
		})
	switch {
	case err != nil:
		return 0, false, fmt.Errorf("looking for the correlation of message %d on partition %d: %w", messageKey, home, err)
	case ok && r.ValueType == record.Message:
		return notCorrelated, true, nil
	case ok:
		return r.Value.ProcessInstanceKey, true, nil
	}
	var first record.Record
	found := false
	for p := range e.store.Partitions() {
		if p == home {
			continue
		}
		r, ok, err := e.outcomes.scan(ctx, p, 0, since, isCorrelation,
			func(r *record.Record) bool { return r.Value.MessageKey == messageKey })
		if err != nil {
			return 0, false, fmt.Errorf("looking for the correlation of message %d on partition %d: %w", messageKey, p, err)
		}
		if ok && (!found || r.Timestamp < first.Timestamp) {
			first, found = r, true
		}
	}
	return first.Value.ProcessInstanceKey, found, nil
}

// AwaitPublishedAcross finishes a publish-with-result that a replacement
// of its engine cut short, on the engines acquire hands out (tries in all,
// until since+timeout): it waits for message messageKey's correlation
// unless instanceKey already names the instance, then for the instance's
// end. The outcome names the instance once known, also with an error.
func AwaitPublishedAcross(ctx context.Context, acquire Acquire, messageKey, instanceKey int64, since time.Time, fetch []string, timeout time.Duration, tries int) (Outcome, error) {
	for try := 1; ; try++ {
		e, reqCtx, release := acquire(ctx)
		out, err := Outcome{ProcessInstanceKey: instanceKey}, error(nil)
		if instanceKey == 0 {
			instanceKey, err = e.AwaitCorrelation(reqCtx, messageKey, since, timeout)
			out.ProcessInstanceKey = instanceKey
		}
		if err == nil {
			out, err = e.AwaitInstance(reqCtx, record.Record{Key: instanceKey}, since, fetch, timeout)
			if err != nil {
				out = Outcome{ProcessInstanceKey: instanceKey}
			}
		}
		again := err != nil && reqCtx.Err() != nil && ctx.Err() == nil
		release()
		if !again || try >= tries {
			return out, err
		}
	}
}
