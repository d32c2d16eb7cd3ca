package processor_test

import (
	"context"
	"testing"

	"eddy/processor"
)

// TestDeleteLeavesNothing: a deleted processor keeps no segment and no
// node slot, and another processor's are untouched.
func TestDeleteLeavesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		st := b.fresh(t)
		w := newLogWriter(st)
		w.write(t, keys(4), 20)
		for _, name := range []string{"gone", "kept"} {
			rec := newRecorder()
			p := newProcessor(t, name, st, logSource(st), rec, processor.WithInitialSegments(2))
			if err := p.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, name+" to read the log", func() bool { return rec.distinct() == w.total() })
			stop(t, p)
		}
		if len(segments(t, st, "gone")) == 0 || len(segments(t, st, "gone#nodes")) == 0 {
			t.Fatal("the processor left no segments or node slots to delete")
		}
		if err := processor.Delete(context.Background(), st, "gone"); err != nil {
			t.Fatal(err)
		}
		if n, m := len(segments(t, st, "gone")), len(segments(t, st, "gone#nodes")); n != 0 || m != 0 {
			t.Errorf("after Delete: %d segments and %d node slots left", n, m)
		}
		if len(segments(t, st, "kept")) != 2 {
			t.Error("Delete of one processor touched another's segments")
		}
	})
}
