package processor_test

import (
	"context"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/internal/fakeclock"
	"eddy/storage"
)

// A processor starts at its initial token the first time it runs.
func TestInitialToken(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	src := processor.NewMemorySource(1, clock.Now)
	for _, d := range []string{"a", "b", "c"} {
		src.Append(0, processor.Event{Key: "k", Data: []byte(d)})
	}
	clock.Advance(time.Minute)
	for _, d := range []string{"d", "e", "f"} {
		src.Append(0, processor.Event{Key: "k", Data: []byte(d)})
	}
	tests := []struct {
		name string
		opt  []processor.Opt
		want string
	}{
		{"default is the tail", nil, "abcdefg"},
		{"tail", []processor.Opt{processor.WithInitialToken(processor.FromTail())}, "abcdefg"},
		{"head", []processor.Opt{processor.WithInitialToken(processor.FromHead())}, "g"},
		{"time", []processor.Opt{processor.WithInitialToken(processor.FromTime(epoch.Add(30 * time.Second)))}, "defg"},
		{"since", []processor.Opt{processor.WithInitialToken(processor.Since(30 * time.Second))}, "defg"},
		{"token", []processor.Opt{processor.WithInitialToken(processor.FromToken(processor.NewToken(processor.Position{Offset: 4})))}, "efg"},
	}
	var ps []*processor.Processor
	var recs []*recorder
	for i, tc := range tests {
		rec := newRecorder()
		p := newProcessor(t, "initial-"+string(rune('a'+i)), st, src, rec, append(tc.opt, processor.WithClock(clock))...)
		start(t, p)
		ps, recs = append(ps, p), append(recs, rec)
	}
	src.Append(0, processor.Event{Key: "k", Data: []byte("g")})
	for i, tc := range tests {
		waitFor(t, tc.name+" to catch up", func() bool { return caughtUp(t, ps[i]) && recs[i].distinct() == len(tc.want) })
		got := ""
		for _, d := range recs[i].snapshot() {
			got += d.data
		}
		if got != tc.want {
			t.Errorf("%s: handled %q, want %q", tc.name, got, tc.want)
		}
	}
}

// caughtUp reports whether every segment p holds is caught up, with no lag.
func caughtUp(t testing.TB, p *processor.Processor) bool {
	sts, err := p.Status(context.Background())
	if err != nil || len(sts) == 0 {
		return false
	}
	for _, s := range sts {
		if !s.CaughtUp || s.Lag != 0 || s.Err != nil {
			return false
		}
	}
	return true
}

// A processor that stops and starts again, or a new instance of it, goes on
// from its tokens: nothing is handled twice or skipped.
func TestRestartResumes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		st := b.fresh(t)
		w := newLogWriter(st)
		ks := keys(8)
		w.write(t, ks, 4)
		rec := newRecorder()
		src := logSource(st)
		opts := []processor.Opt{processor.WithInitialSegments(4), processor.WithBatchSize(3)}
		p := newProcessor(t, "resume", st, src, rec, opts...)
		start(t, p)
		waitFor(t, "32 events", func() bool { return rec.distinct() == 32 })
		stop(t, p)
		w.write(t, ks, 2)
		start(t, p) // the same instance again
		waitFor(t, "48 events", func() bool { return rec.distinct() == 48 })
		stop(t, p)
		w.write(t, ks, 2)
		again := newProcessor(t, "resume", st, src, rec, opts...)
		start(t, again)
		waitFor(t, "64 events", func() bool { return rec.distinct() == 64 })
		stop(t, again)
		rec.checkExactlyOnce(t, 64)
		rec.checkKeyOrder(t)
	})
}

// Status shows each segment's position, lag behind the head and whether it
// is caught up.
func TestStatusLag(t *testing.T) {
	st := backends[0].fresh(t)
	src := processor.NewMemorySource(1, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	h := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		if d.Key == "slow" {
			close(entered)
			<-release
		}
		return nil
	})
	p := newProcessor(t, "status", st, src, h, processor.WithInitialSegments(1))
	start(t, p)
	src.Append(0, processor.Event{Key: "slow"})
	<-entered
	for range 10 {
		src.Append(0, processor.Event{Key: "other"})
	}
	sts, err := p.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 1 || sts[0].CaughtUp || sts[0].Lag != 11 || !sts[0].Claimed || sts[0].Replaying || sts[0].Merging {
		t.Fatalf("status while the handler is stuck on the first of 11 events: %+v, want lag 11, not caught up", sts)
	}
	close(release)
	waitFor(t, "the processor to catch up", func() bool { return caughtUp(t, p) })
	sts, _ = p.Status(t.Context())
	if want := processor.NewToken(processor.Position{Offset: 11}); !sts[0].Position.Equal(want) {
		t.Errorf("position after catching up: %s, want %s", sts[0].Position, want)
	}
}
