package engine

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
)

// collidingWindow is a window whose hash sends every text to one of n
// buckets, so that most of them collide.
func collidingWindow(n uint64) *eventWindow {
	w := newEventWindow()
	w.hash = func(s []byte) uint64 {
		var h uint64
		for _, b := range s {
			h = h*31 + uint64(b)
		}
		return h % n
	}
	return w
}

func TestEventWindowSeenAndForget(t *testing.T) {
	for _, buckets := range []uint64{1, 3, 1 << 62} {
		t.Run(fmt.Sprintf("%d buckets", buckets), func(t *testing.T) {
			w := collidingWindow(buckets)
			for i := range 100 {
				src, id := fmt.Sprintf("/s%d", i%7), fmt.Sprint(i)
				if _, ok := w.seen(src, id); ok {
					t.Fatalf("%s %s seen before it was added", src, id)
				}
				w.add(src, id, int64(1000+i), int64(i))
			}
			for i := range 100 {
				k, ok := w.seen(fmt.Sprintf("/s%d", i%7), fmt.Sprint(i))
				if !ok || k != int64(1000+i) {
					t.Fatalf("event %d: key %d, %v", i, k, ok)
				}
			}
			// The same id from another source, and the joined text split
			// elsewhere, are other events.
			if _, ok := w.seen("/s1", "0"); ok {
				t.Fatal("an id was taken for another source's")
			}
			if _, ok := w.seen("/s0\x000", ""); ok {
				t.Fatal("source and id were not told apart")
			}
			w.forget(49)
			if w.len() != 50 {
				t.Fatalf("%d entries after forgetting deadlines up to 49, want 50", w.len())
			}
			for i := range 100 {
				_, ok := w.seen(fmt.Sprintf("/s%d", i%7), fmt.Sprint(i))
				if ok != (i >= 50) {
					t.Fatalf("event %d seen = %v after forgetting deadlines up to 49", i, ok)
				}
			}
			w.forget(1 << 40)
			if w.len() != 0 || w.index.len() != 0 || len(w.others) != 0 || heldText(w) != 0 {
				t.Fatalf("an emptied window holds %d entries, %d indexed, %d other, %d bytes", w.len(), w.index.len(), len(w.others), heldText(w))
			}
		})
	}
}

// seen returns the key of the event with this source and id, if the window
// holds it.
func (w *eventWindow) seen(source, id string) (int64, bool) {
	text, h := w.key(source, id)
	slot, taken := w.index.find(h)
	return w.lookup(text, slot, taken)
}

// len is how many events the window holds.
func (w *eventWindow) len() int { return w.count }

// heldText is how many bytes of text the window's blocks hold.
func heldText(w *eventWindow) int {
	n := 0
	for _, b := range w.texts {
		n += len(b)
	}
	return n
}

// TestEventWindowRemember: a new event takes the key newKey gives, once;
// the same source and id again get that key back and take none.
func TestEventWindowRemember(t *testing.T) {
	w := newEventWindow()
	keys := 0
	newKey := func() int64 { keys++; return int64(100 + keys) }
	if k, dup := w.remember("/s", "1", 10, newKey); dup || k != 101 {
		t.Fatalf("first: key %d, dup %v", k, dup)
	}
	if k, dup := w.remember("/s", "1", 10, newKey); !dup || k != 101 {
		t.Fatalf("again: key %d, dup %v", k, dup)
	}
	if k, dup := w.remember("/t", "1", 10, newKey); dup || k != 102 {
		t.Fatalf("another source: key %d, dup %v", k, dup)
	}
	if keys != 2 {
		t.Fatalf("%d keys taken, want 2", keys)
	}
}

// TestEventWindowStaysBounded: a window that forgets as fast as it adds
// keeps only the blocks its live entries are in, and takes no new memory.
func TestEventWindowStaysBounded(t *testing.T) {
	w := newEventWindow()
	for i := range 200_000 {
		w.add("/source", fmt.Sprint(i), int64(i), int64(i+1000))
		w.forget(int64(i))
	}
	if w.len() != 1000 {
		t.Fatalf("%d entries, want 1000", w.len())
	}
	// 1,000 entries of at most 14 bytes of text span at most two blocks
	// of each kind.
	if len(w.blocks) > 2 || len(w.texts) > 2 || len(w.spare) > spareBlocks || len(w.spareTexts) > spareBlocks {
		t.Fatalf("the window kept %d entry and %d text blocks, %d and %d spare, for 1000 events", len(w.blocks), len(w.texts), len(w.spare), len(w.spareTexts))
	}
	// 100,000 more events fill 25 entry blocks and 6 text blocks: the
	// spent ones are reused instead.
	entryBlocks, textBlocks := map[*entryBlock]bool{}, map[*byte]bool{}
	for i := 200_000; i < 300_000; i++ {
		w.add("/source", fmt.Sprint(i), int64(i), int64(i+1000))
		w.forget(int64(i))
		for _, b := range w.blocks {
			entryBlocks[b] = true
		}
		for _, b := range w.texts {
			textBlocks[&b[:1][0]] = true
		}
	}
	if len(entryBlocks) > 2+spareBlocks || len(textBlocks) > 2+spareBlocks {
		t.Fatalf("a window at its size went through %d entry and %d text blocks, want its spent ones reused", len(entryBlocks), len(textBlocks))
	}
	for i := 299_000; i < 300_000; i++ {
		if k, ok := w.seen("/source", fmt.Sprint(i)); !ok || k != int64(i) {
			t.Fatalf("event %d: %d, %v", i, k, ok)
		}
	}
	if _, ok := w.seen("/source", "298999"); ok {
		t.Fatal("a forgotten event is seen")
	}
}

// TestEventWindowBlocks: texts of every length, some longer than a block,
// in a window small against all that passes through it, go through many
// blocks of both kinds and stay what was added; the window keeps only the
// blocks its live entries are in.
func TestEventWindowBlocks(t *testing.T) {
	w := newEventWindow()
	const live = 64
	text := func(i int) string {
		n := (i * 7919) % 3000
		if i%1000 == 999 {
			n = textBlockSize + i
		}
		return strings.Repeat(string(rune('a'+i%26)), n) + fmt.Sprint(i)
	}
	maxBlocks, maxTexts := 0, 0
	for i := range 20_000 {
		w.add("/s", text(i), int64(i), int64(i+live))
		w.forget(int64(i))
		maxBlocks, maxTexts = max(maxBlocks, len(w.blocks)), max(maxTexts, len(w.texts))
		if i%97 == 0 {
			for j := max(0, i-live-2); j <= i; j++ {
				k, ok := w.seen("/s", text(j))
				if want := j+live > i; ok != want || (ok && k != int64(j)) {
					t.Fatalf("after %d: event %d seen %v (key %d), want %v", i, j, ok, k, want)
				}
			}
		}
	}
	// 64 live entries span at most two entry blocks; their texts, at most
	// 3,005 bytes each (192 KB) and one longer than a block, four text
	// blocks.
	if maxBlocks > 2 || maxTexts > 4 {
		t.Fatalf("the window kept up to %d entry and %d text blocks for %d events", maxBlocks, maxTexts, live)
	}
}

// TestEventWindowFlush: the window writes nothing of its own; the rows an
// older store kept are deleted once each expires, once.
func TestEventWindowFlush(t *testing.T) {
	var loaded loadedEvents
	rows := []eventSeen{{Key: 4, Source: "/b", ID: "4", Deadline: 31}, {Key: 2, Source: "/a", ID: "2", Deadline: 20}}
	for _, r := range rows {
		if err := loaded.load(eventRowKey(r.Key), eventSeenCodec.marshal(nil, &r)); err != nil {
			t.Fatal(err)
		}
	}
	// A row written as JSON, by the first versions.
	if err := loaded.load(eventRowKey(5), []byte(`{"Key":5,"Source":"/old","ID":"5","Deadline":40}`)); err != nil {
		t.Fatal(err)
	}
	w := newEventWindow()
	w.restore(loaded)
	for _, e := range []eventSeen{{Key: 2, Source: "/a", ID: "2"}, {Key: 4, Source: "/b", ID: "4"}, {Key: 5, Source: "/old", ID: "5"}} {
		if k, ok := w.seen(e.Source, e.ID); !ok || k != e.Key {
			t.Fatalf("restored window: %s %s gave %d, %v", e.Source, e.ID, k, ok)
		}
	}
	w.add("/n", "6", 6, 25)
	w.add("/n", "7", 7, 50)
	deleted := func() []int64 {
		var ws writeSet
		w.flush(&ws)
		var keys []int64
		for i, key := range ws.keys {
			if ws.values[i] != nil {
				t.Fatalf("the window wrote row %q", key)
			}
			keys = append(keys, int64(binary.BigEndian.Uint64(key[2:])))
		}
		return keys
	}
	if got := deleted(); len(got) != 0 {
		t.Fatalf("deleted %v before anything expired", got)
	}
	w.forget(31) // 2 and 4 (stored) expire; 6 (not stored) waits behind 5
	if got := fmt.Sprint(deleted()); got != "[2 4]" {
		t.Fatalf("deleted %s, want [2 4]", got)
	}
	w.forget(100)
	if got := fmt.Sprint(deleted()); got != "[5]" {
		t.Fatalf("deleted %s, want [5]", got)
	}
	if got := deleted(); len(got) != 0 {
		t.Fatalf("deleted %v again", got)
	}
}

func TestEventWindowRefusesBadRows(t *testing.T) {
	var l loadedEvents
	for name, c := range map[string]struct{ key, value []byte }{
		"short key":      {[]byte{keyspace, eventRowPrefix}, []byte(`{}`)},
		"bad JSON":       {eventRowKey(1), []byte(`{"Key":`)},
		"unknown format": {eventRowKey(1), []byte{9, 1, 2}},
		"truncated":      {eventRowKey(1), eventSeenCodec.marshal(nil, &eventSeen{Key: 1, Source: "/s", ID: "1"})[:4]},
	} {
		if err := l.load(c.key, c.value); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// BenchmarkEventWindow remembers a new event per iteration in a window that
// holds size events: a small one stays in the cache; a million is a minute
// of the ingress under load, where every look-up misses the cache.
func BenchmarkEventWindow(b *testing.B) {
	ids := make([]string, 1<<21)
	for i := range ids {
		ids[i] = fmt.Sprintf("0b6f2c1e-9d7a-4c3b-8e21-%012d", i)
	}
	for _, size := range []int{1 << 15, 1 << 20} {
		b.Run(fmt.Sprintf("window=%d", size), func(b *testing.B) {
			w := newEventWindow()
			for i := range size {
				w.remember("/bench", ids[i], int64(i+size), func() int64 { return int64(i) })
			}
			b.ReportAllocs()
			for i := size; b.Loop(); i++ {
				w.forget(int64(i))
				w.remember("/bench", ids[i&(len(ids)-1)], int64(i+size), func() int64 { return int64(i) })
			}
		})
	}
}

// BenchmarkEventWindowGrowth fills an empty window with 2M events, as a
// minute of load does, and reports the longest single remember: the
// pause that growing the index puts into a partition's step.
func BenchmarkEventWindowGrowth(b *testing.B) {
	const n = 1 << 21
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("0b6f2c1e-9d7a-4c3b-8e21-%012d", i)
	}
	var longest time.Duration
	for b.Loop() {
		w := newEventWindow()
		for i := range n {
			t0 := time.Now()
			w.remember("/bench", ids[i], int64(i+n), func() int64 { return int64(i) })
			longest = max(longest, time.Since(t0))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
	b.ReportMetric(float64(longest.Microseconds()), "longest-µs")
}
