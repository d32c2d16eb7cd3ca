package broker

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"time"

	"eddy/broker/trigger"
	"eddy/cloudevents"
	"eddy/processor"
)

// The extensions Knative puts on an event it sends to a dead-letter sink:
// where delivery failed, the last HTTP status, and the start of the
// response body (base64).
const (
	ExtErrorDest = "knativeerrordest"
	ExtErrorCode = "knativeerrorcode"
	ExtErrorData = "knativeerrordata"
)

// ExtErrorTrigger, Eddy's own beside Knative's, names the trigger
// ("namespace/name") whose delivery failed: a dead-letter sink that serves
// several triggers tells their letters apart, and a trigger does not take
// its own dead letters back when its sink is the broker.
const ExtErrorTrigger = "eddyerrortrigger"

// maxErrorData bounds knativeerrordata, base64 included, as Knative does,
// so that an error page does not bloat the dead letter: 768 bytes of the
// response body encode to 1,024 characters.
const maxErrorData = 1024

// attempt is the outcome of one HTTP delivery.
type attempt struct {
	// Status is the response's status; 0 when none came (the request
	// failed or timed out).
	Status int
	// Reply is the event a 200 response carried, if any.
	Reply *cloudevents.Event
	// Body is the start of a failed response's body.
	Body []byte
	// RetryAfter is the response's Retry-After header.
	RetryAfter string
	Err        error
	// badReply is set when a 2xx carried an event that cannot be read:
	// Knative takes that for a failed delivery (reported as 502), not
	// retried. A body not meant as an event is no reply at all.
	badReply bool
	// tries counts the requests this handling sent, retries included; 0
	// where none was.
	tries int
}

func (a attempt) ok() bool { return a.Err == nil && trigger.Delivered(a.Status) }

// describe says what went wrong, for status and errors.
func (a attempt) describe(url string) string {
	switch {
	case a.Status == 0:
		return fmt.Sprintf("POST %s: %v", url, a.Err)
	case a.Err != nil:
		return fmt.Sprintf("POST %s: %d: %v", url, a.Status, a.Err)
	}
	body := a.Body
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("POST %s: %d %s: %q", url, a.Status, http.StatusText(a.Status), body)
}

// target is where a delivery goes: a subscriber, whose 2xx may carry a
// reply, or a dead-letter sink, whose answer counts by its status alone
// (Knative sends it no Prefer: reply and reads no event from it).
type target struct {
	url     string
	replies bool
}

// send makes one delivery of e to t. To a target that replies it offers
// to take a reply (Prefer: reply) and reads one from a 2xx response other
// than 202 and 204, which Knative's data plane says carry none.
func (b *Broker) send(ctx context.Context, t target, e *cloudevents.Event, mode cloudevents.Mode, timeout time.Duration) attempt {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if mode == 0 {
		mode = cloudevents.Binary
	}
	if _, ok := e.Extension(ExtBrokerTTL); ok {
		// The hop count is the broker's own: Knative's filter takes it
		// off before it delivers (replyTTL read it already).
		c := e.Clone()
		c.DeleteExtension(ExtBrokerTTL)
		e = &c
	}
	req, err := cloudevents.NewRequest(ctx, t.url, e, mode)
	if err != nil {
		return attempt{Err: err}
	}
	if t.replies {
		req.Header.Set("Prefer", "reply")
	}
	resp, err := b.o.client.Do(req)
	if err != nil {
		return attempt{Err: err}
	}
	a := attempt{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	if t.replies && a.ok() && a.Status != http.StatusAccepted && a.Status != http.StatusNoContent && cloudevents.CarriesEvent(resp.Header) {
		reply, err := cloudevents.ReadResponse(resp, b.o.maxBody)
		if err != nil {
			a.Status, a.badReply = http.StatusBadGateway, true
			a.Err = fmt.Errorf("the subscriber answered %d with a CloudEvent that cannot be read (a reply must be a valid event, or a body without ce- headers and an event format, which is discarded): %w", resp.StatusCode, err)
		}
		a.Reply = reply
		return a
	}
	a.Body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorData))
	// Drain a little more so that the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	return a
}

// deliverWithRetries delivers e to t, retrying as d says (the wait
// before retry n is d's backoff, or a longer Retry-After within
// d.RetryAfterMax). Each attempt is bounded by d.Timeout, or the broker's
// default when d sets none. It returns the last attempt. A context that
// ends stops the retries: the event is delivered again when the trigger
// resumes. alive is told, before each attempt and each wait, when it will
// be over, so that the processor keeps the segment's claim meanwhile.
func (b *Broker) deliverWithRetries(ctx context.Context, t target, e *cloudevents.Event, d *trigger.Delivery, stats *deliveryStats, pd processor.Delivery) (attempt, error) {
	alive := pd.KeepAlive
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = b.o.deliveryTimeout
	}
	for n := 0; ; n++ {
		alive(time.Now().Add(timeout + aliveSlack))
		a := b.send(ctx, t, e, d.Format, timeout)
		a.tries = n + 1
		if a.ok() {
			return a, nil
		}
		if ctx.Err() != nil {
			return a, ctx.Err()
		}
		// A 2xx whose body is no event is a failed delivery that Knative
		// does not retry.
		retry, wait := d.Next(n, a.Status, a.RetryAfter, time.Now())
		if a.badReply || !retry {
			return a, nil
		}
		stats.retried(a.describe(t.url))
		if wait > 0 {
			alive(time.Now().Add(wait + aliveSlack))
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return a, ctx.Err()
			case <-pd.Stopping():
				// A stop does not wait out the back-off: the event is
				// delivered again when the trigger runs again.
				timer.Stop()
				return a, processor.ErrStopping
			}
		}
	}
}

// aliveSlack is added to the end of a wait a delivery announces: the
// answer still has to be read and the next step begun.
const aliveSlack = 5 * time.Second

// deadLetter is e as sent to a dead-letter sink: with the knativeerror*
// extensions saying where and how delivery failed.
func deadLetter(e *cloudevents.Event, trigger, dest string, a attempt) cloudevents.Event {
	dl := e.Clone()
	dl.SetExtension(ExtErrorDest, cloudevents.StringValue(dest))
	dl.SetExtension(ExtErrorTrigger, cloudevents.StringValue(trigger))
	code := a.Status
	if code == 0 {
		// No answer (refused, timed out): Knative's dispatcher says 500.
		code = http.StatusInternalServerError
	}
	dl.SetExtension(ExtErrorCode, cloudevents.IntegerValue(int32(code)))
	data := a.Body
	if len(data) == 0 && a.Err != nil {
		data = []byte(a.Err.Error())
	}
	if n := base64.StdEncoding.DecodedLen(maxErrorData); len(data) > n {
		data = data[:n]
	}
	if len(data) > 0 {
		dl.SetExtension(ExtErrorData, cloudevents.StringValue(base64.StdEncoding.EncodeToString(data)))
	}
	return dl
}

// DeliveryError is a delivery that failed for good: retries exhausted or
// an answer that is not retried, and no dead-letter sink took the event.
type DeliveryError struct {
	Subscriber string
	Status     int
	Reason     string
	// Attempts counts the requests sent to the subscriber in the handling
	// that failed (0 where none was); the dead-letter policy adds those of
	// the letter's earlier handlings (triedSoFar).
	Attempts int
}

func (e *DeliveryError) Error() string { return e.Reason }
