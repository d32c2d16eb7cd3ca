package processor_test

import (
	"testing"

	"eddy/processor"
)

func TestHandlesEveryEventOnceInKeyOrder(t *testing.T) {
	modes := []struct {
		name string
		opts []processor.Opt
	}{
		{"pooled", []processor.Opt{processor.WithInitialSegments(4), processor.WithBatchSize(7)}},
		{"pooled-2-workers", []processor.Opt{processor.WithInitialSegments(8), processor.WithWorkers(2)}},
		{"tracking", []processor.Opt{processor.WithMode(processor.Tracking), processor.WithInitialSegments(4), processor.WithThreads(4), processor.WithBatchSize(5)}},
	}
	forEachBackend(t, func(t *testing.T, b backend) {
		for _, m := range modes {
			t.Run(m.name, func(t *testing.T) {
				st := b.fresh(t)
				w := newLogWriter(st)
				ks := keys(10)
				w.write(t, ks, 10)
				rec := newRecorder()
				src := logSource(st)
				p := newProcessor(t, "proc", st, src, rec, m.opts...)
				start(t, p)
				waitFor(t, "the first 100 events", func() bool { return rec.distinct() == 100 })
				w.write(t, ks, 5)
				waitFor(t, "150 events", func() bool { return rec.distinct() == 150 })
				stop(t, p)
				rec.checkExactlyOnce(t, 150)
				rec.checkKeyOrder(t)
			})
		}
	})
}
