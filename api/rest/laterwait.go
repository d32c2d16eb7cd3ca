package rest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"eddy/engine"
	"eddy/record"
)

// A create-with-result (or publish-with-result) whose wait an engine
// switch cut short after the instance was created (the message published)
// must wait on the next engine, but only once the request has let the old
// one go: a switch waits for the requests on the old engine to end. So the
// handler leaves the wait to whoever serves the API over switching engines
// (WithLaterWait), which finishes it after.

// laterWait is the wait a handler left to its caller: an instance's end,
// or, when message is set, a published message's instance's end (created
// then holds the instance's key once the message was correlated).
type laterWait struct {
	created record.Record
	message record.Record
	begin   time.Time
	timeout time.Duration
	fetch   []string
}

type laterWaitKey struct{}

// WithLaterWait lets the handlers of a request served with ctx leave a
// create-with-result or publish-with-result that an engine switch cut
// short to the caller: after
// the handler returned and the caller let its engine go, finish waits for
// the instance on the engines acquire gives (again on the next if another
// switch comes, four tries in all), writes the answer and reports true; it
// reports false, having written nothing, when no wait was left.
func WithLaterWait(ctx context.Context) (context.Context, func(ctx context.Context, acquire engine.Acquire, w http.ResponseWriter, r *http.Request) bool) {
	var left *laterWait
	ctx = context.WithValue(ctx, laterWaitKey{}, &left)
	return ctx, func(ctx context.Context, acquire engine.Acquire, w http.ResponseWriter, r *http.Request) bool {
		if left == nil {
			return false
		}
		if left.message.Key != 0 {
			out, err := engine.AwaitPublishedAcross(ctx, acquire, left.message.Key, left.created.Key, left.begin, left.fetch, left.timeout, laterWaitTries)
			if err != nil {
				p := problemFor(err)
				p.MessageKey = Key(left.message.Key)
				p.ProcessInstanceKey = Key(out.ProcessInstanceKey)
				writeProblem(w, r, p)
				return true
			}
			_ = writeJSON(w, http.StatusOK, PublishMessageResponse{MessageKey: Key(left.message.Key), InstanceResult: finishedInstance(out)})
			return true
		}
		out, err := engine.AwaitInstanceAcross(ctx, acquire, left.created, left.begin, left.fetch, left.timeout, laterWaitTries)
		if err != nil {
			p := problemFor(err)
			p.ProcessInstanceKey = Key(left.created.Key)
			writeProblem(w, r, p)
			return true
		}
		_ = writeJSON(w, http.StatusOK, finishedInstance(out))
		return true
	}
}

// leaveWait hands the cut wait to the caller, if it takes such waits.
func leaveWait(ctx context.Context, w laterWait) bool {
	left, ok := ctx.Value(laterWaitKey{}).(**laterWait)
	if !ok {
		return false
	}
	*left = &w
	return true
}

// cutBySwitch reports whether a create-with-result's (publish-with-
// result's) error is its wait cut short, not its creation (publication),
// by the end of its engine.
func cutBySwitch(created record.Record, err error) bool {
	return err != nil && created.Key != 0 && errors.Is(err, context.Canceled)
}

// laterWaitTries bounds the engines a left wait tries: switches follow
// claim rounds, seconds apart.
const laterWaitTries = 4
