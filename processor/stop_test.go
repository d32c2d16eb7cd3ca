package processor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"eddy/processor"
)

// TestStopFinishesOnlyTheEventInHand: a processor stopping while its
// handler is slow finishes the event in hand and commits after it; the
// events queued behind it are not handled first (they would hold the stop
// for as long as the handler takes over them all), and the next start
// delivers them, each once.
func TestStopFinishesOnlyTheEventInHand(t *testing.T) {
	st := backends[0].fresh(t)
	src := processor.NewMemorySource(1, nil)
	const n = 20
	for i := range n {
		src.Append(0, processor.Event{Key: "k", Data: record("k", i+1)})
	}
	rec := newRecorder()
	inHand := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	slow := processor.HandlerFunc(func(ctx context.Context, d processor.Delivery) error {
		once.Do(func() {
			close(inHand)
			<-release
		})
		return rec.Handle(ctx, d)
	})
	opts := []processor.Opt{processor.WithInitialSegments(1)}
	p := newProcessor(t, "draining", st, src, slow, opts...)
	if err := p.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-inHand
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		stopped <- p.Stop(ctx)
	}()
	waitFor(t, "the segment to be told to stop", func() bool {
		st, _ := p.Status(t.Context())
		return len(st) == 1 && st[0].Stopping
	})
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if got := rec.distinct(); got != 1 {
		t.Fatalf("%d events handled by the stop, want the one in hand", got)
	}
	again := newProcessor(t, "draining", st, src, rec, opts...)
	start(t, again)
	waitFor(t, "the rest to be delivered after the restart", func() bool { return rec.distinct() == n })
	rec.checkExactlyOnce(t, n)
}
