package members

import (
	"context"
	"slices"
	"testing"
	"time"

	"eddy/storage"
	_ "eddy/storage/pebble"
)

// TestGroup follows three nodes of a group through joining, publishing,
// leaving and dying, as each sees the others.
func TestGroup(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// The store stamps claims with its own clock: the test's times are
	// real ones, and a slot lapses by waiting out a short timeout.
	const timeout = time.Second
	now := time.Now()
	a := New(st.Tokens(), "g#nodes", "a", timeout)
	b := New(st.Tokens(), "g#nodes", "b", timeout)
	c := New(st.Tokens(), "g#nodes", "c", timeout)

	look := func(g *Group, at time.Time) View {
		t.Helper()
		v, err := g.Look(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The first beat takes a slot at once, before anyone made the slots.
	first := New(st.Tokens(), "first#nodes", "x", timeout)
	if err := first.Beat(ctx, now, 0); err != nil {
		t.Fatal(err)
	}
	if v := look(New(st.Tokens(), "first#nodes", "y", timeout), now); v.Live != 2 || !slices.Equal(v.Nodes, []string{"x", "y"}) {
		t.Fatalf("after the first beat of a new group: %+v", v)
	}
	// Before anyone beats, a node sees itself alone (and makes the slots).
	if v := look(a, now); v.Live != 1 || !slices.Equal(v.Nodes, []string{"a"}) || v.Wanted != 0 {
		t.Fatalf("alone: %+v", v)
	}
	for _, beat := range []struct {
		g      *Group
		wanted int
	}{{c, 3}, {a, 1}, {b, 0}} {
		if err := beat.g.Beat(ctx, now, beat.wanted); err != nil {
			t.Fatal(err)
		}
	}
	if v := look(b, now); v.Live != 3 || !slices.Equal(v.Nodes, []string{"a", "b", "c"}) || v.Wanted != 4 {
		t.Fatalf("b among three: %+v", v)
	}
	if v := look(c, now); v.Wanted != 1 || v.Published["a"] != 1 || v.Published["b"] != 0 || len(v.Published) != 2 {
		t.Fatalf("c counts what the others want, not its own: %+v", v)
	}
	// A beat renews the slot: its new number replaces the old one.
	if err := c.Beat(ctx, now, 0); err != nil {
		t.Fatal(err)
	}
	if v := look(b, now); v.Wanted != 1 {
		t.Fatalf("after c beat again with 0: %+v", v)
	}
	if live, err := Live(ctx, st.Tokens(), "g#nodes", timeout, now); err != nil || !slices.Equal(live, []string{"a", "b", "c"}) {
		t.Fatalf("Live of three: %q %v", live, err)
	}
	// A node that leaves is gone at once.
	b.Leave(ctx)
	if v := look(a, now); v.Live != 2 || !slices.Equal(v.Nodes, []string{"a", "c"}) {
		t.Fatalf("after b left: %+v", v)
	}
	// One that stops beating is gone after the timeout, for the others; a
	// node counts itself whatever its slot says.
	time.Sleep(timeout + 100*time.Millisecond)
	later := time.Now()
	if err := a.Beat(ctx, later, 0); err != nil {
		t.Fatal(err)
	}
	if v := look(a, later); v.Live != 1 || !slices.Equal(v.Nodes, []string{"a"}) {
		t.Fatalf("after c stopped beating: %+v", v)
	}
	if v := look(c, later); v.Live != 2 || !slices.Equal(v.Nodes, []string{"a", "c"}) {
		t.Fatalf("c, late, still sees a: %+v", v)
	}
	// Nodes come back: b with a new membership, and c, whose slot lapsed,
	// by beating again.
	b2 := New(st.Tokens(), "g#nodes", "b", timeout)
	if err := b2.Beat(ctx, later, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Beat(ctx, later, 2); err != nil {
		t.Fatal(err)
	}
	if v := look(a, later); v.Live != 3 || v.Wanted != 2 {
		t.Fatalf("c back after its slot lapsed: %+v", v)
	}
}

// TestMarks: a node that beats with a mark is seen with it by the others;
// one that beats without is not in Marks, and what it wants still counts.
func TestMarks(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Now()
	a := New(st.Tokens(), "m#nodes", "a", time.Minute)
	b := New(st.Tokens(), "m#nodes", "b", time.Minute)
	c := New(st.Tokens(), "m#nodes", "c", time.Minute)
	if err := a.BeatMarked(ctx, now, 2, 0xfeed); err != nil {
		t.Fatal(err)
	}
	if err := b.Beat(ctx, now, 3); err != nil {
		t.Fatal(err)
	}
	v, err := c.Look(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Marks["a"] != 0xfeed || len(v.Marks) != 1 || v.Wanted != 5 || v.Published["a"] != 2 {
		t.Fatalf("seen from c: %+v; want a's mark, none of b's, 5 wanted", v)
	}
}

// TestLiveMembersKeepTheirSlots: a reader sees each live node's slot and
// what it published after its mark; a node restarted within the timeout
// takes its own slot back, not the first free one, so that an id shown
// from the slot does not move.
func TestLiveMembersKeepTheirSlots(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Now()
	beat := func(g *Group, extra ...uint64) {
		t.Helper()
		if err := g.BeatMarked(ctx, now, 0, 7, extra...); err != nil {
			t.Fatal(err)
		}
	}
	a, b := New(st.Tokens(), "s#nodes", "a", time.Minute), New(st.Tokens(), "s#nodes", "b", time.Minute)
	beat(a, 26500)
	beat(b, 26501, 9)
	a.Leave(ctx) // slot 0 is free again
	restarted := New(st.Tokens(), "s#nodes", "b", time.Minute)
	beat(restarted, 26501, 9)
	beat(a) // a comes back without extra: it takes the free slot 0
	got, err := LiveMembers(ctx, st.Tokens(), "s#nodes", time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{{Name: "a", Slot: 0}, {Name: "b", Slot: 1, Extra: []uint64{26501, 9}}}
	if !slices.EqualFunc(got, want, func(x, y Member) bool {
		return x.Name == y.Name && x.Slot == y.Slot && slices.Equal(x.Extra, y.Extra)
	}) {
		t.Fatalf("live members %+v, want %+v", got, want)
	}
	names, err := Live(ctx, st.Tokens(), "s#nodes", time.Minute, now)
	if err != nil || !slices.Equal(names, []string{"a", "b"}) {
		t.Fatalf("live names %v, %v", names, err)
	}
}

// openStore opens an embedded store for the test.
func openStore(t *testing.T) *storage.Store {
	t.Helper()
	st, err := storage.Open(context.Background(), "pebble", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
