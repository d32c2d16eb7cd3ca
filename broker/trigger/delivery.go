package trigger

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"eddy/cloudevents"
)

// BackoffPolicy is how the wait between retries grows.
type BackoffPolicy string

// The policies of Knative's delivery spec.
const (
	Linear      BackoffPolicy = "linear"
	Exponential BackoffPolicy = "exponential"
)

// Delivery is how events reach a trigger's subscriber: Knative's
// spec.delivery. As in Knative, a trigger's delivery replaces the broker's
// as a whole for the retries (one that gives no retry has none), but the
// broker's backoff and format fill in what it leaves out (Knative's would
// be no wait at all, which makes a trigger that sets only retry retry at
// once).
type Delivery struct {
	// Retry is the number of retries after the first attempt.
	Retry         int
	BackoffPolicy BackoffPolicy
	BackoffDelay  time.Duration
	// BackoffMax caps the backoff of any retry (Knative's backoffMax); 0
	// leaves it uncapped.
	BackoffMax time.Duration
	// Timeout bounds each attempt; 0 leaves it to the dispatcher.
	Timeout time.Duration
	// RetryAfterMax bounds how long a Retry-After header (on 429 and 503)
	// can make a retry wait; nil ignores Retry-After, as Knative does
	// unless retryAfterMax is set. Zero also ignores it.
	RetryAfterMax *time.Duration
	// DeadLetterSink receives the events whose delivery failed for good,
	// "" when there is none.
	DeadLetterSink string
	// Format is the content mode deliveries use: cloudevents.Binary
	// (Knative's default) or cloudevents.Structured (format: json).
	Format cloudevents.Mode
}

// DefaultDelivery is the delivery of a trigger that says nothing about
// it: Knative's default broker configuration (10 retries, exponential from
// 0.2 s), binary mode, no dead letter sink.
func DefaultDelivery() Delivery {
	return Delivery{Retry: 10, BackoffPolicy: Exponential, BackoffDelay: 200 * time.Millisecond, Format: cloudevents.Binary}
}

// Backoff is the wait before retry n (n >= 1 counts retries, not
// attempts): BackoffDelay*n for linear, BackoffDelay*2^n for exponential,
// as Knative documents them, at most BackoffMax when that is set. It
// saturates instead of overflowing.
func (d *Delivery) Backoff(n int) time.Duration {
	if n < 1 || d.BackoffDelay <= 0 {
		return 0
	}
	factor := float64(n)
	if d.BackoffPolicy != Linear {
		factor = math.Exp2(float64(n))
	}
	w := float64(d.BackoffDelay) * factor
	if d.BackoffMax > 0 && w > float64(d.BackoffMax) {
		return d.BackoffMax
	}
	if w >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(w)
}

// RetryDelay is the wait before retry n after a response with the given
// status and Retry-After header (both may be zero): the backoff, or for a
// 429 or 503 with RetryAfterMax set, the Retry-After time if it is longer,
// capped at RetryAfterMax. now reads HTTP-date Retry-After values.
func (d *Delivery) RetryDelay(n, status int, retryAfter string, now time.Time) time.Duration {
	w := d.Backoff(n)
	if d.RetryAfterMax == nil || *d.RetryAfterMax <= 0 || (status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable) {
		return w
	}
	ra, ok := parseRetryAfter(retryAfter, now)
	if !ok {
		return w
	}
	return max(w, min(ra, *d.RetryAfterMax))
}

// Next decides what follows an attempt that got status (0 for a transport
// error) after retries retries already made: whether to retry, and after
// how long. It does not retry a delivered event (2xx), a status Knative
// does not retry (400 and most 4xx), or once Retry retries are spent; the
// caller then sends the event to the dead letter sink, if any.
func (d *Delivery) Next(retries, status int, retryAfter string, now time.Time) (retry bool, wait time.Duration) {
	if Delivered(status) || !Retryable(status) || retries >= d.Retry {
		return false, 0
	}
	return true, d.RetryDelay(retries+1, status, retryAfter, now)
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an
// HTTP-date (RFC 9110 section 10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 31); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// Retryable reports whether a delivery that got this HTTP status is tried
// again, as Knative's data plane decides: 5xx, 404 (a subscriber still
// starting), 408, 409 and 429 are; 2xx are delivered; every other status
// (400 and the rest) fails for good and goes to the dead letter sink. A
// transport error (no status) is retryable: pass 0.
func Retryable(status int) bool {
	switch {
	case status == 0:
		return true
	case status >= 500:
		return true
	}
	switch status {
	case http.StatusNotFound, http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return false
}

// Delivered reports whether the status means the subscriber took the
// event (any 2xx; a 200 may carry a reply event).
func Delivered(status int) bool { return status >= 200 && status < 300 }
