package processor_test

import (
	"testing"

	"eddy/processor"
)

// A node claims no more segments than its mode allows: WithThreads for
// Tracking, WithMaxClaimedSegments for Pooled.
func TestSegmentLimits(t *testing.T) {
	tests := []struct {
		name string
		opts []processor.Opt
		want int
	}{
		{"pooled claims all by default", nil, 4},
		{"pooled max claimed", []processor.Opt{processor.WithMaxClaimedSegments(2)}, 2},
		{"tracking one thread by default", []processor.Opt{processor.WithMode(processor.Tracking)}, 1},
		{"tracking threads", []processor.Opt{processor.WithMode(processor.Tracking), processor.WithThreads(3)}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := backends[0].fresh(t)
			p := newProcessor(t, "limits", st, processor.NewMemorySource(1, nil), newRecorder(),
				append(tc.opts, processor.WithInitialSegments(4), processor.WithNodeID("n"))...)
			start(t, p)
			waitFor(t, "the claims", func() bool { return ownership(t, st, "limits")["n"] == tc.want })
			infos, err := processor.Inspect(t.Context(), st, "limits")
			if err != nil {
				t.Fatal(err)
			}
			claimed := 0
			for _, in := range infos {
				if in.Owner == "n" {
					claimed++
				}
			}
			if len(infos) != 4 || claimed != tc.want {
				t.Fatalf("Inspect: %d segments, %d claimed by n; want 4 and %d", len(infos), claimed, tc.want)
			}
		})
	}
}

// A processor over a multi-source handles every source's events and keeps
// a position per source in its token.
func TestProcessorOverMultiSource(t *testing.T) {
	st := backends[0].fresh(t)
	w := newLogWriter(st)
	w.write(t, keys(4), 5)
	mem := processor.NewMemorySource(1, nil)
	for i := range 5 {
		mem.Append(0, processor.Event{Key: "m", Data: record("m", i+1)})
	}
	multi, err := processor.NewMultiSource([]processor.NamedSource{
		processor.Named("log", logSource(st)),
		processor.Named("mem", mem),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	p := newProcessor(t, "multi", st, multi, rec, processor.WithInitialSegments(2))
	start(t, p)
	waitFor(t, "25 events from both sources", func() bool { return rec.distinct() == 25 && caughtUp(t, p) })
	mem.Append(0, processor.Event{Key: "m", Data: record("m", 6)})
	w.write(t, keys(4), 1)
	waitFor(t, "30 events", func() bool { return rec.distinct() == 30 })
	stop(t, p)
	rec.checkExactlyOnce(t, 30)
	rec.checkKeyOrder(t)
	infos, err := processor.Inspect(t.Context(), st, "multi")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if got := in.Position.Offset("mem", 0); got != 6 {
			t.Errorf("segment %d's token %s is at %d in source mem, want 6", in.Segment, in.Position, got)
		}
		if in.Position.Offset("log", 0)+in.Position.Offset("log", 1)+in.Position.Offset("log", 2) != 24 {
			t.Errorf("segment %d's token %s does not cover the 24 log records", in.Segment, in.Position)
		}
	}
}
