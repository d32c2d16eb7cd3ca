package deadletter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"weak"

	"eddy/storage"
)

func TestOrderWithinSequence(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		q := openQueue(t, b.open(t), "orders")
		seqs := []string{"a", "b", "a/b", "ab"} // ids that prefix one another
		want := map[string][]uint64{}
		for pos := uint64(1); pos <= 20; pos++ {
			seq := seqs[(pos*7)%uint64(len(seqs))]
			mustEnqueue(t, q, letter(seq, pos))
			want[seq] = append(want[seq], pos)
		}
		for _, seq := range seqs {
			if got := positions(mustLetters(t, q, seq)); !slices.Equal(got, want[seq]) {
				t.Errorf("sequence %q: positions %v, want %v", seq, got, want[seq])
			}
		}
		infos, err := q.Sequences(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Size != len(want[info.ID]) {
				t.Errorf("sequence %q: size %d, want %d", info.ID, info.Size, len(want[info.ID]))
			}
		}
		if len(infos) != len(want) {
			t.Errorf("%d sequences listed, want %d", len(infos), len(want))
		}
		if n := mustSize(t, q); n != 20 {
			t.Errorf("size %d, want 20", n)
		}
	})
}

func TestLetterFieldsSurvive(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		clock := newFakeClock()
		q := openQueue(t, b.open(t), "orders", WithClock(clock.now))
		in := letter("s", 42)
		in.ID = "ignored: the queue assigns ids"
		in.Event.Time = time.Date(2026, 2, 1, 0, 0, 0, 5, time.UTC)
		in.Diagnostics = map[string]string{"node": "n1"}
		mustEnqueue(t, q, in)
		in.Event.Payload[0] = 'X' // the queue must have copied it
		got := mustLetters(t, q, "s")
		if len(got) != 1 {
			t.Fatalf("%d letters, want 1", len(got))
		}
		want := letter("s", 42)
		want.Event.Time = in.Event.Time
		want.Diagnostics = map[string]string{"node": "n1"}
		want.ID, want.EnqueuedAt, want.LastTouched = got[0].ID, clock.now(), clock.now()
		checkLetter(t, got[0], want)
		if got[0].ID == in.ID || got[0].ID == "" {
			t.Errorf("letter id %q was not assigned by the queue", got[0].ID)
		}
	})
}

// checkLetter compares letters field by field, times by instant.
func checkLetter(t *testing.T, got, want Letter) {
	t.Helper()
	gotTimes := []time.Time{got.Event.Time, got.EnqueuedAt, got.LastTouched}
	wantTimes := []time.Time{want.Event.Time, want.EnqueuedAt, want.LastTouched}
	for i := range gotTimes {
		if !gotTimes[i].Equal(wantTimes[i]) {
			t.Errorf("letter %s: time %d is %v, want %v", got.ID, i, gotTimes[i], wantTimes[i])
		}
	}
	got.Event.Time, got.EnqueuedAt, got.LastTouched = time.Time{}, time.Time{}, time.Time{}
	want.Event.Time, want.EnqueuedAt, want.LastTouched = time.Time{}, time.Time{}, time.Time{}
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Errorf("letter:\n got %s\nwant %s", g, w)
	}
}

func TestParking(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		q := openQueue(t, b.open(t), "orders")
		mustEnqueue(t, q, letter("blocked", 1))
		tests := []struct {
			seq        string
			wantParked bool
		}{
			{"blocked", true},
			{"flowing", false},
			{"blocked", true},
		}
		for i, tt := range tests {
			called := false
			pos := uint64(10 + i)
			parked, err := q.EnqueueIfPresent(context.Background(), tt.seq, func() Letter {
				called = true
				l := letter("other", pos) // the sequence argument wins
				l.Cause = Cause{}
				return l
			})
			if err != nil {
				t.Fatal(err)
			}
			if parked != tt.wantParked || called != tt.wantParked {
				t.Errorf("EnqueueIfPresent(%q): parked %v, builder called %v; want %v", tt.seq, parked, called, tt.wantParked)
			}
		}
		got := mustLetters(t, q, "blocked")
		if ps := positions(got); !slices.Equal(ps, []uint64{1, 10, 12}) {
			t.Errorf("blocked sequence holds positions %v, want [1 10 12]", ps)
		}
		if !got[1].Cause.IsZero() || got[1].SequenceID != "blocked" {
			t.Errorf("parked letter: cause %v, sequence %q; want no cause, sequence blocked", got[1].Cause, got[1].SequenceID)
		}
		if contains(t, q, "flowing") || len(mustLetters(t, q, "flowing")) != 0 {
			t.Error("a sequence that was never dead-lettered got letters")
		}
	})
}

func TestRequeueAndEvictByID(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		clock := newFakeClock()
		q := openQueue(t, b.open(t), "orders", WithClock(clock.now))
		for pos := uint64(1); pos <= 4; pos++ {
			mustEnqueue(t, q, letter("s", pos))
			clock.advance(time.Second)
		}
		ls := mustLetters(t, q, "s")

		// Requeue of the head: stays first, new cause, one retry, touched.
		touched := clock.advance(time.Minute)
		if err := q.Requeue(ctx, ls[0].ID, Cause{Type: "T", Message: "again"}); err != nil {
			t.Fatal(err)
		}
		// Requeue of a later letter with a zero cause keeps its cause.
		if err := q.Requeue(ctx, ls[2].ID, Cause{}); err != nil {
			t.Fatal(err)
		}
		got := mustLetters(t, q, "s")
		if ps := positions(got); !slices.Equal(ps, []uint64{1, 2, 3, 4}) {
			t.Fatalf("after requeue positions %v, want [1 2 3 4]", ps)
		}
		if got[0].Retries != 1 || got[0].Cause.Message != "again" || !got[0].LastTouched.Equal(touched) {
			t.Errorf("requeued head: retries %d, cause %v, touched %v; want 1, again, %v", got[0].Retries, got[0].Cause, got[0].LastTouched, touched)
		}
		if got[2].Retries != 1 || got[2].Cause != ls[2].Cause {
			t.Errorf("requeued third letter: retries %d, cause %v; want 1, %v", got[2].Retries, got[2].Cause, ls[2].Cause)
		}
		checkHead(t, q, "s", 4, touched)

		// Evict from the middle, then the head: the next letter leads, and
		// the sequence is as old as its new head's last touch.
		mustEvict(t, q, ls[1].ID)
		// The letters after one, over the gap the eviction left.
		for _, c := range []struct {
			after string
			stop  int // fn returns false at this letter (from 1)
			want  []uint64
		}{
			{ls[0].ID, 0, []uint64{3, 4}},
			{ls[0].ID, 1, []uint64{3}},
			{ls[2].ID, 0, []uint64{4}},
			{ls[3].ID, 0, nil},
		} {
			var got []uint64
			seq, err := q.EachLetterAfter(ctx, c.after, func(l Letter) bool {
				got = append(got, l.Event.Position)
				return len(got) != c.stop
			})
			if err != nil || seq != "s" || !slices.Equal(got, c.want) {
				t.Errorf("EachLetterAfter(%q) stopping at %d: %v in sequence %q, %v; want %v in s", c.after, c.stop, got, seq, err, c.want)
			}
		}
		mustEvict(t, q, ls[0].ID)
		if ps := positions(mustLetters(t, q, "s")); !slices.Equal(ps, []uint64{3, 4}) {
			t.Fatalf("after evictions positions %v, want [3 4]", ps)
		}
		checkHead(t, q, "s", 2, touched) // the third letter was requeued at touched
		mustEvict(t, q, ls[2].ID)
		checkHead(t, q, "s", 1, ls[3].LastTouched)

		for _, id := range []string{ls[0].ID, "no-such-letter", ""} {
			if err := q.Evict(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Evict(%q): %v, want ErrNotFound", id, err)
			}
			if err := q.Requeue(ctx, id, Cause{}); !errors.Is(err, ErrNotFound) {
				t.Errorf("Requeue(%q): %v, want ErrNotFound", id, err)
			}
			if _, err := q.EvictUnheld(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("EvictUnheld(%q): %v, want ErrNotFound", id, err)
			}
			if _, err := q.EachLetterAfter(ctx, id, func(Letter) bool { return true }); !errors.Is(err, ErrNotFound) {
				t.Errorf("EachLetterAfter(%q): %v, want ErrNotFound", id, err)
			}
		}
		// An operator's eviction of a letter no Process call holds.
		if l, err := q.EvictUnheld(ctx, ls[3].ID); err != nil || l.ID != ls[3].ID {
			t.Fatalf("EvictUnheld of the last letter: %v, evicted %q", err, l.ID)
		}
		if contains(t, q, "s") || mustSize(t, q) != 0 {
			t.Error("the emptied sequence is still there")
		}
	})
}

func mustEvict(t *testing.T, q *Queue, id string) {
	t.Helper()
	if err := q.Evict(context.Background(), id); err != nil {
		t.Fatalf("evict %s: %v", id, err)
	}
}

// checkHead checks the listed size and last touch of seq.
func checkHead(t *testing.T, q *Queue, seq string, size int, touched time.Time) {
	t.Helper()
	infos, err := q.Sequences(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.ID == seq {
			if info.Size != size || !info.LastTouched.Equal(touched) {
				t.Errorf("sequence %s: size %d touched %v, want %d and %v", seq, info.Size, info.LastTouched, size, touched)
			}
			return
		}
	}
	t.Errorf("sequence %s is not listed", seq)
}

func TestLimits(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		store := b.open(t)
		tests := []struct {
			name     string
			opts     []Opt
			fill     []string // sequences enqueued successfully, in order
			overflow string   // the sequence whose next enqueue overflows
			limit    string   // named by the error
		}{
			{"sequences", []Opt{WithMaxSequences(2)}, []string{"a", "b", "a"}, "c", "WithMaxSequences"},
			{"sequence size", []Opt{WithMaxSequenceSize(3)}, []string{"a", "a", "a", "b"}, "a", "WithMaxSequenceSize"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := openQueue(t, store, "limits-"+strings.ReplaceAll(tt.name, " ", "-"), tt.opts...)
				for i, seq := range tt.fill {
					mustEnqueue(t, q, letter(seq, uint64(i+1)))
				}
				err := q.Enqueue(ctx, letter(tt.overflow, 100))
				if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), tt.limit) {
					t.Fatalf("overflowing enqueue: %v, want ErrFull naming %s", err, tt.limit)
				}
				if tt.overflow == "a" {
					_, err := q.EnqueueIfPresent(ctx, "a", func() Letter { return letter("a", 101) })
					if !errors.Is(err, ErrFull) {
						t.Errorf("overflowing park: %v, want ErrFull", err)
					}
				}
				if n := mustSize(t, q); n != len(tt.fill) {
					t.Errorf("size %d after the refusals, want %d", n, len(tt.fill))
				}
				// Room again once a letter of the full sequence goes.
				head := mustLetters(t, q, "a")[0]
				if err := q.Evict(ctx, head.ID); err != nil {
					t.Fatal(err)
				}
				if tt.overflow != "a" {
					mustEvict(t, q, mustLetters(t, q, "a")[0].ID)
				}
				mustEnqueue(t, q, letter(tt.overflow, 102))
			})
		}
	})
}

func TestEnqueueFailure(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		q := openQueue(t, b.open(t), "orders")
		errBadInput := errors.New("bad input")
		policy := IgnoreWhen(func(err error) bool { return errors.Is(err, errBadInput) }, nil)
		tests := []struct {
			seq       string
			err       error
			policy    Policy
			want      Action
			wantCause string
		}{
			{"ignored", fmt.Errorf("decoding: %w", errBadInput), policy, ActionIgnore, ""},
			{"kept", errors.New("service down"), policy, ActionEnqueue, "service down"},
			{"default", errors.New("timeout"), nil, ActionEnqueue, "timeout"},
			{"evicted", errors.New("x"), func(Letter, error) Decision { return Evict() }, ActionEvict, ""},
			{"renamed", errors.New("secret"), func(Letter, error) Decision {
				return Enqueue(map[string]string{"k": "v"}).WithCause(Cause{Type: "hidden", Message: "redacted"})
			}, ActionEnqueue, "redacted"},
		}
		for i, tt := range tests {
			l := letter(tt.seq, uint64(i))
			l.Cause = Cause{}
			d, err := q.EnqueueFailure(ctx, l, tt.err, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.want {
				t.Errorf("%s: decision %v, want %v", tt.seq, d.Action, tt.want)
			}
			got := mustLetters(t, q, tt.seq)
			if (len(got) == 1) != (tt.wantCause != "") {
				t.Fatalf("%s: %d letters enqueued", tt.seq, len(got))
			}
			if len(got) == 1 && got[0].Cause.Message != tt.wantCause {
				t.Errorf("%s: cause %v, want message %q", tt.seq, got[0].Cause, tt.wantCause)
			}
		}
		if got := mustLetters(t, q, "renamed")[0]; got.Diagnostics["k"] != "v" || got.Cause.Type != "hidden" {
			t.Errorf("renamed: diagnostics %v cause %v", got.Diagnostics, got.Cause)
		}
	})
}

func TestPersistenceAcrossReopen(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		clock := newFakeClock()
		store := b.open(t)
		q := openQueue(t, store, "orders", WithClock(clock.now))
		for pos := uint64(1); pos <= 3; pos++ {
			mustEnqueue(t, q, letter(fmt.Sprint("s", pos%2), pos))
		}
		clock.advance(time.Minute)
		if err := q.Requeue(ctx, mustLetters(t, q, "s1")[0].ID, Cause{Message: "retried"}); err != nil {
			t.Fatal(err)
		}
		before := map[string][]Letter{"s0": mustLetters(t, q, "s0"), "s1": mustLetters(t, q, "s1")}
		if err := store.Close(); err != nil {
			t.Fatal(err)
		}

		q = openQueue(t, b.open(t), "orders", WithClock(clock.now))
		for seq, want := range before {
			if !contains(t, q, seq) {
				t.Errorf("after reopen, sequence %s is not known", seq)
			}
			got := mustLetters(t, q, seq)
			if len(got) != len(want) {
				t.Fatalf("after reopen, %s has %d letters, want %d", seq, len(got), len(want))
			}
			for i := range got {
				checkLetter(t, got[i], want[i])
			}
		}
		// Orders go on after the stored ones.
		mustEnqueue(t, q, letter("s1", 9))
		if ps := positions(mustLetters(t, q, "s1")); !slices.Equal(ps, []uint64{1, 3, 9}) {
			t.Errorf("after reopen and enqueue, positions %v, want [1 3 9]", ps)
		}
	})
}

func TestClear(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		store := b.open(t)
		q := openQueue(t, store, "orders")
		other := openQueue(t, store, "orders2", WithPartition(q.partition))
		for pos := uint64(1); pos <= 30; pos++ {
			mustEnqueue(t, q, letter(fmt.Sprint("s", pos%5), pos))
		}
		mustEnqueue(t, other, letter("s1", 1))
		old := mustLetters(t, q, "s1")[0].ID
		if err := q.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		infos, err := q.Sequences(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) != 0 || mustSize(t, q) != 0 || contains(t, q, "s1") || len(mustLetters(t, q, "s1")) != 0 {
			t.Errorf("after Clear: %d sequences, size %d", len(infos), mustSize(t, q))
		}
		if err := q.Evict(ctx, old); !errors.Is(err, ErrNotFound) {
			t.Errorf("evicting a cleared letter: %v, want ErrNotFound", err)
		}
		var left int
		if err := store.Scan(ctx, q.partition, q.keys.all(), func(_, _ []byte) error { left++; return nil }); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%d keys of the queue left after Clear", left)
		}
		if mustSize(t, other) != 1 {
			t.Error("Clear of one processor's queue touched another's")
		}
		mustEnqueue(t, q, letter("s1", 99))
		if ps := positions(mustLetters(t, q, "s1")); !slices.Equal(ps, []uint64{99}) {
			t.Errorf("after Clear and enqueue: positions %v, want [99]", ps)
		}
	})
}

func TestPartitionChangesOwner(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		store := b.open(t)
		q := openQueue(t, store, "orders", WithPartition(1))
		mustEnqueue(t, q, letter("s", 1))
		// The engine's node claims the partition: its epoch moves on, and
		// the queue must follow it rather than fail.
		for i, owner := range []string{"node-a", "node-b"} {
			if _, err := store.Ownership().ClaimPartition(ctx, 1, owner, time.Nanosecond); err != nil {
				t.Fatal(err)
			}
			mustEnqueue(t, q, letter("s", uint64(2+i)))
		}
		if n := mustSize(t, q); n != 3 {
			t.Errorf("size %d, want 3", n)
		}
	})
}

func TestOpenAndLetterValidation(t *testing.T) {
	b := testBackend{name: "pebble", location: t.TempDir()}
	store := b.open(t)
	ctx := context.Background()
	openTests := []struct {
		name      string
		store     *storage.Store
		processor string
		opts      []Opt
		want      string
	}{
		{"nil store", nil, "p", nil, "nil store"},
		{"empty name", store, "", nil, "empty processor name"},
		{"long name", store, strings.Repeat("p", storage.MaxProcessorName), nil, "processor name of"},
		{"max sequences", store, "p", []Opt{WithMaxSequences(0)}, "WithMaxSequences(0)"},
		{"max size", store, "p", []Opt{WithMaxSequenceSize(-1)}, "WithMaxSequenceSize(-1)"},
		{"claim duration", store, "p", []Opt{WithClaimDuration(0)}, "WithClaimDuration"},
		{"lock timeout", store, "p", []Opt{WithLockTimeout(-time.Second)}, "WithLockTimeout"},
		{"partition", store, "p", []Opt{WithPartition(store.Partitions())}, "WithPartition"},
		{"clock", store, "p", []Opt{WithClock(nil)}, "WithClock(nil)"},
	}
	for _, tt := range openTests {
		if _, err := Open(ctx, tt.store, tt.processor, tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Open error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	q := openQueue(t, store, "p")
	seqTests := []struct{ seq, want string }{
		{"", "empty sequence id"},
		{strings.Repeat("s", MaxSequenceID+1), "sequence id of 1025 bytes"},
	}
	for _, tt := range seqTests {
		if err := q.Enqueue(ctx, letter(tt.seq, 1)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Enqueue(sequence of %d bytes): %v, want %q", len(tt.seq), err, tt.want)
		}
		if _, err := q.Letters(ctx, tt.seq); err == nil {
			t.Errorf("Letters(sequence of %d bytes) accepted it", len(tt.seq))
		}
	}
}

// TestDrop: a dropped queue leaves nothing, not even its locks in the
// token store (which nodes sharing a store take).
func TestDrop(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		store := b.open(t)
		q := openQueue(t, store, "gone")
		mustEnqueue(t, q, letter("s", 1))
		if err := q.Drop(ctx); err != nil {
			t.Fatal(err)
		}
		if n := mustSize(t, q); n != 0 {
			t.Errorf("%d letters left after Drop", n)
		}
		segs, err := store.Tokens().Segments(ctx, lockProcessor("gone"))
		if err != nil || len(segs) != 0 {
			t.Errorf("after Drop the locks keep %d segments (%v)", len(segs), err)
		}
		statesMu.Lock()
		_, kept := states[stateKey{store: weak.Make(store), processor: "gone", partition: q.partition}]
		statesMu.Unlock()
		if kept {
			t.Error("after Drop the process keeps the queue's shared state")
		}
	})
}

// TestSequenceHoldsAnEventOnce: an event read from a position is held once
// by its sequence, however often it is enqueued or parked (a processor
// reset reads it again); once it has left, it can come back; letters with
// no position are never taken for each other.
func TestSequenceHoldsAnEventOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		q := openQueue(t, b.open(t), "orders")
		mustEnqueue(t, q, letter("s", 1))
		mustEnqueue(t, q, letter("s", 1))
		if parked, err := q.EnqueueIfPresent(ctx, "s", func() Letter { return letter("s", 1) }); !parked || err != nil {
			t.Fatalf("parking an event the sequence holds: parked %v, %v; want it reported held", parked, err)
		}
		if parked, err := q.EnqueueIfPresent(ctx, "s", func() Letter { return letter("s", 2) }); !parked || err != nil {
			t.Fatalf("parking a new event: parked %v, %v", parked, err)
		}
		other := letter("s", 2)
		other.Event.Partition = 2
		mustEnqueue(t, q, other)
		if ps := positions(mustLetters(t, q, "s")); !slices.Equal(ps, []uint64{1, 2, 2}) {
			t.Fatalf("positions %v, want [1 2 2]: each event once (2 of partitions 1 and 2)", ps)
		}
		first := mustLetters(t, q, "s")[0]
		if err := q.Evict(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, q, letter("s", 1))
		if ps := positions(mustLetters(t, q, "s")); !slices.Equal(ps, []uint64{2, 2, 1}) {
			t.Fatalf("after evicting 1 and enqueuing it again: positions %v, want [2 2 1]", ps)
		}
		unplaced := Letter{SequenceID: "n", Event: Event{Type: "t", Payload: []byte("{}")}}
		mustEnqueue(t, q, unplaced)
		mustEnqueue(t, q, unplaced)
		if n := len(mustLetters(t, q, "n")); n != 2 {
			t.Fatalf("%d letters with no position, want both kept", n)
		}
		if err := q.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, q, letter("s", 2))
		if n := mustSize(t, q); n != 1 {
			t.Fatalf("size %d after Clear and one enqueue, want 1", n)
		}

		// A letter stored before position keys existed has none: a copy
		// of its event is enqueued once more, and owns the key, which
		// removing the old letter leaves to it.
		mustEnqueue(t, q, letter("old", 7))
		batch := storage.NewBatch(q.partition, 0)
		batch.Delete(q.keys.position("old", letter("old", 7).Event))
		if err := q.commit(ctx, batch); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, q, letter("old", 7))
		if err := q.Evict(ctx, mustLetters(t, q, "old")[0].ID); err != nil {
			t.Fatal(err)
		}
		mustEnqueue(t, q, letter("old", 7))
		if ps := positions(mustLetters(t, q, "old")); !slices.Equal(ps, []uint64{7}) {
			t.Fatalf("a stored letter without a position key, a copy, the old one evicted, enqueued again: positions %v, want [7]", ps)
		}
	})
}

// EachLetterAfter reads the first letters after one one by one and the
// rest in a scan: both give every letter after it once, in order, over
// the gaps evictions leave, and stop where fn does.
func TestEachLetterAfterALongSequence(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testBackend) {
		ctx := context.Background()
		q := openQueue(t, b.open(t), "orders")
		const n = 3 * getsBeforeScan
		for pos := uint64(1); pos <= n; pos++ {
			mustEnqueue(t, q, letter("s", pos))
		}
		ls := mustLetters(t, q, "s")
		// Gaps among the letters read one by one, and among the scanned.
		for _, i := range []int{3, getsBeforeScan + 5, 2 * getsBeforeScan} {
			mustEvict(t, q, ls[i].ID)
		}
		var kept []uint64
		for _, l := range mustLetters(t, q, "s") {
			kept = append(kept, l.Event.Position)
		}
		for _, c := range []struct {
			after int // the index of the letter after which to read
			stop  int // fn returns false at this letter (from 1); 0: never
		}{
			{0, 0}, {0, getsBeforeScan + 3}, {1, 2}, {getsBeforeScan, 0}, {n - 2, 0}, {n - 1, 0},
		} {
			var want []uint64
			for _, p := range kept {
				if p > ls[c.after].Event.Position && (c.stop == 0 || len(want) < c.stop) {
					want = append(want, p)
				}
			}
			var got []uint64
			seq, err := q.EachLetterAfter(ctx, ls[c.after].ID, func(l Letter) bool {
				got = append(got, l.Event.Position)
				return len(got) != c.stop
			})
			if err != nil || seq != "s" || !slices.Equal(got, want) {
				t.Errorf("after letter %d, stopping at %d: %v in %q, %v; want %v", c.after, c.stop, got, seq, err, want)
			}
		}
	})
}
