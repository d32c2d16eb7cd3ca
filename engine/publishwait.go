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
// instance's key. A correlation that came before the wait, while no engine
// of this node could hand it over, is looked for on every partition's log
// from since (less clockMargin): the correlation is written on the
// instance's partition, which the message does not tell.
func (e *Engine) AwaitCorrelation(ctx context.Context, messageKey int64, since time.Time, timeout time.Duration) (int64, error) {
	key, ch, came := e.outcomes.correlations.register(messageKey)
	if came {
		return key, nil
	}
	for p := 0; p < e.store.Partitions() && !came; p++ {
		r, found, err := e.outcomes.scan(ctx, p, 0, since,
			func(h record.Header) bool { return h.ValueType != record.ProcessInstance },
			func(r *record.Record) bool { return r.Value.MessageKey == messageKey })
		if err != nil {
			e.outcomes.correlations.unregister(messageKey)
			return 0, fmt.Errorf("looking for the correlation of message %d: %w", messageKey, err)
		}
		key, came = r.Value.ProcessInstanceKey, found
	}
	if came {
		e.outcomes.correlations.unregister(messageKey)
		return key, nil
	}
	key, came, err := e.outcomes.correlations.wait(ctx, messageKey, ch, timeout)
	if err != nil {
		return 0, err
	}
	if !came {
		return 0, fmt.Errorf("%w: message %d was not correlated within %v", ErrTimeout, messageKey, timeout)
	}
	return key, nil
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
			instanceKey, err = e.AwaitCorrelation(reqCtx, messageKey, since, time.Until(since.Add(timeout)))
			out.ProcessInstanceKey = instanceKey
		}
		if err == nil {
			out, err = e.AwaitInstance(reqCtx, record.Record{Key: instanceKey}, since, fetch, time.Until(since.Add(timeout)))
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
