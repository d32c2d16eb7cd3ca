package processor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/internal/fakeclock"
	"eddy/storage"
)

var errBroken = errors.New("handler broken")

// failing fails the first `times` deliveries of key, counting attempts.
type failing struct {
	key   string
	times int
	mu    sync.Mutex
	tries int
	inner processor.Handler
}

func (f *failing) Handle(ctx context.Context, d processor.Delivery) error {
	if d.Key == f.key {
		f.mu.Lock()
		f.tries++
		fail := f.tries <= f.times
		f.mu.Unlock()
		if fail {
			return errBroken
		}
	}
	return f.inner.Handle(ctx, d)
}

func (f *failing) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

func quiet() processor.Opt {
	return processor.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// segmentErr returns segment id's status error and whether this node holds
// it.
func segmentErr(t testing.TB, p *processor.Processor, id int) (error, bool) {
	sts, _ := p.Status(context.Background())
	for _, s := range sts {
		if s.Segment == id {
			return s.Err, s.Claimed
		}
	}
	return nil, false
}

// A Tracking processor retries a failed segment after 1 s, 2 s, 4 s, ...
// and meanwhile leaves its claim free; status shows the error until a batch
// succeeds.
func TestTrackingRetryBackoff(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	src := processor.NewMemorySource(1, clock.Now)
	rec := newRecorder()
	h := &failing{key: "bad", times: 3, inner: rec}
	step := 100 * time.Millisecond
	p := newProcessor(t, "tracking", st, src, h, quiet(), processor.WithMode(processor.Tracking), processor.WithClock(clock),
		processor.WithNodeID("n"), processor.WithClaimInterval(step), processor.WithClaimExtensionThreshold(time.Second))
	start(t, p)
	src.Append(0, processor.Event{Key: "ok", Data: []byte("ok/1")}, processor.Event{Key: "bad", Data: []byte("bad/1")}, processor.Event{Key: "ok", Data: []byte("ok/2")})

	for attempt, backoff := 1, time.Second; attempt <= 3; attempt, backoff = attempt+1, 2*backoff {
		waitFor(t, fmt.Sprintf("attempt %d to fail and free the segment", attempt), func() bool {
			err, claimed := segmentErr(t, p, 0)
			return h.attempts() == attempt && !claimed && errors.Is(err, errBroken) && owner(t, st, "tracking", 0) == ""
		})
		for waited := step; waited < backoff; waited += step {
			advance(t, clock, step, 1)
			if o := owner(t, st, "tracking", 0); o != "" || h.attempts() != attempt {
				t.Fatalf("%v into a back-off of %v after attempt %d: segment owned by %q, %d attempts", waited, backoff, attempt, o, h.attempts())
			}
		}
		advance(t, clock, step, 1)
	}
	waitFor(t, "the fourth attempt to succeed and ok/2 to follow", func() bool { return rec.distinct() == 3 })
	waitFor(t, "the error to clear", func() bool {
		err, claimed := segmentErr(t, p, 0)
		return err == nil && claimed
	})
	rec.checkExactlyOnce(t, 3)
	rec.checkKeyOrder(t)
}

// A Pooled processor gives a failed segment up, lets the others go on, and
// claims it again after the claim interval.
func TestPooledAbortsFailedSegment(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	src := processor.NewMemorySource(1, clock.Now)
	rec := newRecorder()
	bad := keyForSegment(t, "bad", 1, 1)
	good := keyForSegment(t, "good", 0, 1)
	h := &failing{key: bad, times: 1, inner: rec}
	p := newProcessor(t, "pooled", st, src, h, append(fakeClaims(clock, "n"), quiet(), processor.WithInitialSegments(2))...)
	start(t, p)
	src.Append(0, processor.Event{Key: bad, Data: []byte(bad + "/1")}, processor.Event{Key: good, Data: []byte(good + "/1")})
	waitFor(t, "segment 1 to fail and be given up while segment 0 goes on", func() bool {
		err, claimed := segmentErr(t, p, 1)
		var herr *processor.HandlerError
		return errors.As(err, &herr) && herr.Segment == 1 && !claimed && rec.distinct() == 1 && owner(t, st, "pooled", 1) == ""
	})
	src.Append(0, processor.Event{Key: good, Data: []byte(good + "/2")})
	waitFor(t, "segment 0 to go on", func() bool { return rec.distinct() == 2 })
	advance(t, clock, testClaimInterval, 1)
	waitFor(t, "segment 1 to be claimed again and succeed", func() bool { return rec.distinct() == 3 })
	waitFor(t, "the error to clear", func() bool {
		err, claimed := segmentErr(t, p, 1)
		return err == nil && claimed
	})
	rec.checkExactlyOnce(t, 3)
	rec.checkKeyOrder(t)
}

// An error handler that returns nil skips the failed event; its writes are
// dropped, the others' kept.
func TestErrorHandlerSkips(t *testing.T) {
	st := backends[0].fresh(t)
	src := processor.NewMemorySource(1, nil)
	h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		d.Tx.Put([]byte("seen/"+string(d.Data)), []byte("yes"))
		if d.Key == "bad" {
			return errBroken
		}
		return nil
	})
	var mu sync.Mutex
	var reported []error
	eh := func(ctx context.Context, d processor.Delivery, err error) error {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
		return nil
	}
	p := newProcessor(t, "skip", st, src, h, processor.WithInitialSegments(1), processor.WithErrorHandler(eh))
	start(t, p)
	src.Append(0, processor.Event{Key: "a", Data: []byte("1")}, processor.Event{Key: "bad", Data: []byte("2")}, processor.Event{Key: "a", Data: []byte("3")})
	waitFor(t, "the processor to catch up", func() bool {
		sts, _ := p.Status(t.Context())
		return len(sts) == 1 && sts[0].CaughtUp && sts[0].Lag == 0
	})
	stop(t, p)
	for data, want := range map[string]bool{"1": true, "2": false, "3": true} {
		_, err := st.Get(t.Context(), 0, []byte("seen/"+data))
		if got := err == nil; got != want {
			t.Errorf("write of event %s committed: %v, want %v (%v)", data, got, want, err)
		}
	}
	var herr *processor.HandlerError
	if len(reported) != 1 || !errors.As(reported[0], &herr) || !errors.Is(herr, errBroken) || herr.Position.Offset != 2 {
		t.Errorf("error handler got %v, want one HandlerError at offset 2 wrapping the handler's error", reported)
	}
}

// Handlers whose effects go through Tx count every event exactly once,
// though batches fail half-way and are retried.
func TestExactlyOnceThroughTx(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clock := fakeclock.New(epoch)
		st := b.fresh(t, storage.WithClock(clock.Now))
		w := newLogWriter(st)
		ks := keys(6)
		w.write(t, ks, 20)
		var mu sync.Mutex
		tried := map[string]bool{}
		h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
			key := []byte("count/" + d.Key)
			n := 0
			if v, err := d.Tx.Get(ctx, key); err == nil {
				n, _ = strconv.Atoi(string(v))
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			d.Tx.Put(key, []byte(strconv.Itoa(n+1)))
			// Every fifth record fails on its first try, after writing.
			mu.Lock()
			defer mu.Unlock()
			if recordNumber(t, d.Data)%5 == 0 && !tried[string(d.Data)] {
				tried[string(d.Data)] = true
				return errBroken
			}
			return nil
		})
		src := logSource(st)
		p := newProcessor(t, "counts", st, src, h, append(fakeClaims(clock, "n"), quiet(), processor.WithInitialSegments(4), processor.WithBatchSize(7))...)
		start(t, p)
		done := func() bool {
			for _, k := range ks {
				v, err := st.Get(t.Context(), 0, []byte("count/"+k))
				if err != nil || string(v) != "20" {
					return false
				}
			}
			return true
		}
		deadline := time.Now().Add(time.Minute)
		for !done() {
			if time.Now().After(deadline) {
				t.Fatal("timed out waiting for every count to reach 20")
			}
			advance(t, clock, testClaimInterval, 1)
		}
		stop(t, p)
		for _, k := range ks {
			if v, _ := st.Get(t.Context(), 0, []byte("count/"+k)); string(v) != "20" {
				t.Errorf("count of %s is %s after stopping, want 20", k, v)
			}
		}
	})
}

// A source that fails (here a record the decoder rejects) stops the stream
// at the bad record, and status says where and why.
func TestStreamErrorInStatus(t *testing.T) {
	st := backends[0].fresh(t, storage.WithPartitions(1))
	mustAppend(t, st, 0, "a/1", "no key here", "a/2")
	rec := newRecorder()
	p := newProcessor(t, "bad-record", st, logSource(st), rec, quiet(), processor.WithInitialSegments(1))
	start(t, p)
	waitFor(t, "the decode error in status, after a/1", func() bool {
		err, _ := segmentErr(t, p, 0)
		return err != nil && strings.Contains(err.Error(), "log partition 0 position 2") && strings.Contains(err.Error(), "has no key") &&
			rec.distinct() == 1
	})
	if got := rec.snapshot(); len(got) != 1 || got[0].data != "a/1" {
		t.Fatalf("handled %+v, want only a/1, before the bad record", got)
	}
}

// A segment that failed and waits unclaimed shows where it is stuck: its
// mask, its stored position and its lag, not the tail and no lag, which
// read as a segment with nothing left to do.
func TestFailedSegmentStatusShowsWhereItIsStuck(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	src := processor.NewMemorySource(1, clock.Now)
	rec := newRecorder()
	bad := keyForSegment(t, "bad", 1, 1)
	good := keyForSegment(t, "good", 1, 1)
	h := &failing{key: bad, times: 1000, inner: rec}
	p := newProcessor(t, "stuck", st, src, h, append(fakeClaims(clock, "n"), quiet(), processor.WithInitialSegments(2))...)
	start(t, p)
	src.Append(0, processor.Event{Key: good, Data: []byte(good + "/1")})
	waitFor(t, "segment 1 to handle good/1", func() bool { return rec.distinct() == 1 })
	src.Append(0, processor.Event{Key: bad, Data: []byte(bad + "/1")}, processor.Event{Key: good, Data: []byte(good + "/2")})
	waitFor(t, "segment 1 to fail on bad/1 and be given up", func() bool {
		err, claimed := segmentErr(t, p, 1)
		return err != nil && !claimed && owner(t, st, "stuck", 1) == ""
	})
	sts, err := p.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sts {
		if s.Segment != 1 {
			continue
		}
		want := processor.NewToken(processor.Position{Partition: 0, Offset: 1})
		if s.Claimed || s.Mask != 1 || !s.Position.Equal(want) || s.Lag != 2 {
			t.Fatalf("failed segment 1: claimed %v, mask %d, position %s, lag %d; want unclaimed, mask 1, position %s, lag 2",
				s.Claimed, s.Mask, s.Position, s.Lag, want)
		}
		return
	}
	t.Fatalf("status %+v has no segment 1", sts)
}
