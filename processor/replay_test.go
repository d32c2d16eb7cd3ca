package processor_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"eddy/processor"
	"eddy/processor/internal/fakeclock"
	"eddy/storage"
)

// resettable is a recorder that is also a reset handler.
type resettable struct {
	*recorder
	mu     sync.Mutex
	resets []string
	// handledAtReset is how many events were handled when Reset ran.
	handledAtReset []int
}

func (r *resettable) Reset(ctx context.Context, rs processor.Reset) error {
	n := len(r.recorder.snapshot())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resets = append(r.resets, string(rs.Context))
	r.handledAtReset = append(r.handledAtReset, n)
	rs.Tx.Put([]byte("projection/reset"), rs.Context)
	return nil
}

// A reset replays what was handled before, marked as replays with the
// reset's context, after the reset handlers ran; events after the point
// the processor had reached are new again, and the replay marker drops.
func TestResetReplays(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		st := b.fresh(t)
		w := newLogWriter(st)
		ks := keys(10)
		w.write(t, ks, 3)
		replaying := &resettable{recorder: newRecorder()}
		fresh := newRecorder()
		h := processor.Handlers(replaying, processor.SkipReplays(fresh))
		src := logSource(st)
		p := newProcessor(t, "replay", st, src, h, processor.WithInitialSegments(4), processor.WithNodeID("n"))
		start(t, p)
		waitFor(t, "30 events", func() bool { return replaying.distinct() == 30 })
		if err := p.ResetTokens(t.Context()); !errors.Is(err, processor.ErrRunning) {
			t.Fatalf("reset of a running processor: %v, want ErrRunning", err)
		}
		stop(t, p)

		if err := p.ResetTokens(t.Context(), processor.ResetContext([]byte("rebuild"))); err != nil {
			t.Fatal(err)
		}
		if len(replaying.resets) != 1 || replaying.resets[0] != "rebuild" {
			t.Fatalf("reset handler calls: %q, want one with context \"rebuild\"", replaying.resets)
		}
		if v, err := st.Get(t.Context(), 0, []byte("projection/reset")); err != nil || string(v) != "rebuild" {
			t.Fatalf("the reset handler's write: %q, %v; want it committed with the tokens", v, err)
		}
		start(t, p)
		w.write(t, ks, 1)
		waitFor(t, "30 replays and 10 new events", func() bool { return len(replaying.snapshot()) == 70 })
		waitFor(t, "the replay to end", func() bool {
			sts, _ := p.Status(t.Context())
			for _, s := range sts {
				if s.Replaying || !s.CaughtUp {
					return false
				}
			}
			return len(sts) == 4
		})

		all := replaying.snapshot()
		if replaying.handledAtReset[0] != 30 {
			t.Errorf("the reset handler ran after %d events, want before the replay (after the first 30)", replaying.handledAtReset[0])
		}
		times := map[processor.Position]int{}
		old := map[processor.Position]bool{}
		for i, d := range all {
			times[d.pos]++
			old[d.pos] = recordNumber(t, []byte(d.data)) <= 3
			wantReplay := i >= 30 && recordNumber(t, []byte(d.data)) <= 3
			if d.replay != wantReplay {
				t.Errorf("%s (%s), delivery %d: replay %v, want %v", d.pos, d.data, i, d.replay, wantReplay)
			}
			if wantContext := map[bool]string{true: "rebuild"}[wantReplay]; d.context != wantContext {
				t.Errorf("%s: reset context %q, want %q", d.pos, d.context, wantContext)
			}
		}
		for pos, n := range times {
			if want := 1 + btoi(old[pos]); n != want {
				t.Errorf("%s handled %d times, want %d (old events once and replayed once, new ones once)", pos, n, want)
			}
		}
		fresh.checkExactlyOnce(t, 40)
		if len(fresh.snapshot()) != 40 {
			t.Errorf("the handler that skips replays got %d deliveries, want 40", len(fresh.snapshot()))
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Resets go to the head, a time or a token; a reset fails while another
// node holds a segment.
func TestResetTargets(t *testing.T) {
	clock := fakeclock.New(epoch)
	st := backends[0].fresh(t, storage.WithClock(clock.Now))
	src := processor.NewMemorySource(1, clock.Now)
	for i := range 3 {
		src.Append(0, processor.Event{Key: "old", Data: []byte{byte('a' + i)}})
	}
	clock.Advance(time.Minute)
	for i := range 3 {
		src.Append(0, processor.Event{Key: "new", Data: []byte{byte('d' + i)}})
	}
	tests := []struct {
		name       string
		to         processor.InitialToken
		want       string // what is handled after the reset
		wantReplay bool
	}{
		{"head", processor.FromHead(), "", false},
		{"time", processor.FromTime(epoch.Add(30 * time.Second)), "def", true},
		{"since", processor.Since(30 * time.Second), "def", true},
		{"token", processor.FromToken(processor.NewToken(processor.Position{Offset: 4})), "ef", true},
		{"tail", processor.FromTail(), "abcdef", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			name := "reset-" + tc.name
			p := newProcessor(t, name, st, src, rec, processor.WithInitialSegments(1), processor.WithClock(clock))
			start(t, p)
			waitFor(t, "6 events", func() bool { return rec.distinct() == 6 })
			stop(t, p)
			if err := p.ResetTokens(t.Context(), processor.ResetTo(tc.to)); err != nil {
				t.Fatal(err)
			}
			after := newRecorder()
			p2 := newProcessor(t, name, st, src, after, processor.WithInitialSegments(1), processor.WithClock(clock))
			start(t, p2)
			waitFor(t, "the processor to catch up", func() bool {
				sts, _ := p2.Status(t.Context())
				return len(sts) == 1 && sts[0].CaughtUp && sts[0].Lag == 0
			})
			got := ""
			for _, d := range after.snapshot() {
				got += d.data
				if d.replay != tc.wantReplay {
					t.Errorf("%s after a reset to %s: replay %v, want %v", d.data, tc.name, d.replay, tc.wantReplay)
				}
			}
			if got != tc.want {
				t.Errorf("handled %q after a reset to %s, want %q", got, tc.name, tc.want)
			}
		})
	}

	t.Run("held elsewhere", func(t *testing.T) {
		p := newProcessor(t, "reset-head", st, src, newRecorder(), processor.WithInitialSegments(1), processor.WithClock(clock))
		if _, err := st.Tokens().ClaimSegment(t.Context(), "reset-head", 0, "other-node", time.Minute); err != nil {
			t.Fatal(err)
		}
		err := p.ResetTokens(t.Context())
		if !errors.Is(err, processor.ErrRunning) || !strings.Contains(err.Error(), `held by "other-node"`) {
			t.Fatalf("reset while another node holds segment 0: %v, want ErrRunning naming the holder", err)
		}
	})
}
