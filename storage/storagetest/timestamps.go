package storagetest

import (
	"context"
	"testing"
	"time"

	"eddy/storage"
)

// timestampTests check append times and finding positions by time.
var timestampTests = []test{
	{"FromClock", testTimestampsFromClock},
	{"NeverDecrease", testTimestampsNeverDecrease},
	{"SeekTime", testSeekTime},
}

// timestamps returns the timestamps of partition p's entries from position 1.
func timestamps(t testing.TB, ctx context.Context, st *store, p int) []int64 {
	t.Helper()
	var out []int64
	for _, e := range read(t, ctx, st, p, 1, 0) {
		out = append(out, e.Timestamp)
	}
	return out
}

func testTimestampsFromClock(t *testing.T, s *suite) {
	clock := NewClock(clockStart)
	ctx, st := s.ctx(t), s.fresh(t, storage.WithClock(clock.Now))
	appendAt(t, ctx, st, 0, 1, record(0, 1), record(0, 2))
	clock.Advance(1500 * time.Millisecond)
	appendAt(t, ctx, st, 0, 3, record(0, 3))
	clock.Advance(time.Hour)
	appendAt(t, ctx, st, 1, 1, record(1, 1))

	t0 := clockStart.UnixMilli()
	want := []int64{t0, t0, t0 + 1500}
	got := timestamps(t, ctx, st, 0)
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("partition 0 position %d: timestamps %v, want %v (clock UnixMilli at append)", i+1, got, want)
		}
	}
	if got := timestamps(t, ctx, st, 1); len(got) != 1 || got[0] != t0+1500+time.Hour.Milliseconds() {
		t.Fatalf("partition 1 position 1: timestamps %v, want [%d]", got, t0+1500+time.Hour.Milliseconds())
	}
}

func testTimestampsNeverDecrease(t *testing.T, s *suite) {
	clock := NewClock(clockStart)
	ctx, st := s.ctx(t), s.fresh(t, storage.WithClock(clock.Now))
	steps := []time.Duration{0, time.Second, -10 * time.Second, 500 * time.Millisecond, -time.Hour, 2 * time.Hour, -time.Millisecond}
	for i, d := range steps {
		clock.Advance(d)
		appendAt(t, ctx, st, 0, uint64(2*i+1), record(0, 2*i+1), record(0, 2*i+2))
	}
	got := timestamps(t, ctx, st, 0)
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("partition 0: timestamp at position %d is %d, before %d at position %d (clock went backwards; timestamps must not)",
				i+1, got[i], got[i-1], i)
		}
	}
	if last, now := got[len(got)-1], clock.Now().UnixMilli(); last < now {
		t.Fatalf("partition 0: last timestamp %d is before the clock (%d) at its append", last, now)
	}
}

func testSeekTime(t *testing.T, s *suite) {
	clock := NewClock(clockStart)
	ctx, st := s.ctx(t), s.fresh(t, storage.WithClock(clock.Now))
	ms := time.Millisecond
	// Positions 1..5 at +0, +10, +10, +20, +20 ms; 6..105 at +30 .. +129.
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	clock.Advance(10 * ms)
	appendAt(t, ctx, st, 0, 2, record(0, 2), record(0, 3))
	clock.Advance(10 * ms)
	appendAt(t, ctx, st, 0, 4, record(0, 4))
	appendAt(t, ctx, st, 0, 5, record(0, 5))
	for i := range 100 {
		if i == 0 {
			clock.Advance(10 * ms)
		} else {
			clock.Advance(ms)
		}
		appendAt(t, ctx, st, 0, uint64(6+i), record(0, 6+i))
	}
	at := func(d time.Duration) time.Time { return clockStart.Add(d) }
	cases := []struct {
		name string
		t    time.Time
		want uint64
	}{
		{"long before all", at(-time.Hour), 1},
		{"just before all", at(-ms), 1},
		{"at the first", at(0), 1},
		{"between first and second", at(5 * ms), 2},
		{"at a time two entries share", at(10 * ms), 2},
		{"between", at(15 * ms), 4},
		{"at a time of two batches", at(20 * ms), 4},
		{"inside the run", at(30*ms + 57*ms), 6 + 57},
		{"at the last", at(129 * ms), 105},
		{"after all", at(130 * ms), 106},
		{"long after all", at(time.Hour), 106},
	}
	for _, c := range cases {
		got, err := st.SeekTime(ctx, 0, c.t)
		noErr(t, "seek time "+c.name, err)
		if got != c.want {
			t.Errorf("seek time %s (%v) in partition 0: position %d, want %d", c.name, c.t.Sub(clockStart), got, c.want)
		}
	}
	got, err := st.SeekTime(ctx, 1, clockStart)
	noErr(t, "seek time in an empty partition", err)
	if got != 1 {
		t.Errorf("seek time in empty partition 1: position %d, want 1", got)
	}
}
