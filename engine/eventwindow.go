package engine

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"time"

	"eddy/record"
	"eddy/storage"
)

// eventWindow remembers the source and id of every CloudEvent a partition
// accepted within the duplicate window, oldest first. It is not written to
// the partition's state: every event it holds is on the partition's log,
// and a partition that starts (or is taken over) reads the log's last
// window back (Core.recallEvents). Writing a row per event, and a
// tombstone a minute later, cost the write path a third of its keys.
// Stores written before kept such rows (eventSeen); they are loaded, and
// deleted as they expire.
//
// Under load it holds a minute of events: over a million. As maps of
// strings and rows of pointers the garbage collector scanned all of it on
// every cycle, which cost the node more than a tenth of its CPU; here
// nothing holds a pointer but a few slices. Ids are indexed by a 64-bit
// hash and the text is kept to compare against, so a collision never
// passes one event off as another: colliding texts go to a map of their
// own.
type eventWindow struct {
	seed   maphash.Seed
	index  map[uint64]uint64 // hash of source and id → sequence number
	others map[string]uint64 // the texts whose hash an older one took

	// Both are rings, so that a window that forgets as fast as it adds
	// copies nothing: as slices re-sliced at the front, every growth
	// copied the whole window (400 bytes per event).
	ring  []windowEntry // a power of two long; oldest at head
	head  int
	count int
	base  uint64 // the oldest entry's sequence number
	text  []byte // the entries' "source\x00id", a power of two long
	// Live text is [textHead, textTail), as offsets that only grow; an
	// entry's text starts at at&(len(text)-1) and never wraps.
	textHead, textTail uint64

	stored  uint64  // entries numbered below have rows in storage (an older store's)
	dropped []int64 // keys of stored rows that expired since the last flush

	hash    func(s []byte) uint64 // the index's hash; tests force collisions
	scratch []byte
}

type windowEntry struct {
	hash     uint64
	key      int64
	deadline int64
	at       uint64 // the text's offset (see textHead)
	n        int
}

func newEventWindow() *eventWindow {
	w := &eventWindow{seed: maphash.MakeSeed(), index: map[uint64]uint64{}, others: map[string]uint64{},
		ring: make([]windowEntry, 64), text: make([]byte, 4<<10)}
	w.hash = func(s []byte) uint64 { return maphash.Bytes(w.seed, s) }
	return w
}

// idText is the text an event is known by: source and id.
func idText(dst []byte, source, id string) []byte {
	dst = append(dst, source...)
	dst = append(dst, 0)
	return append(dst, id...)
}

// nth returns the i-th oldest entry.
func (w *eventWindow) nth(i int) *windowEntry {
	return &w.ring[(w.head+i)&(len(w.ring)-1)]
}

// entry returns the entry numbered seq.
func (w *eventWindow) entry(seq uint64) *windowEntry { return w.nth(int(seq - w.base)) }

// textOf returns entry e's text.
func (w *eventWindow) textOf(e *windowEntry) []byte {
	at := int(e.at & uint64(len(w.text)-1))
	return w.text[at : at+e.n]
}

// key returns the text an event is known by, in the window's scratch
// space, and its hash.
func (w *eventWindow) key(source, id string) ([]byte, uint64) {
	w.scratch = idText(w.scratch[:0], source, id)
	return w.scratch, w.hash(w.scratch)
}

// seen returns the key of the event with this source and id, if the window
// holds it.
func (w *eventWindow) seen(source, id string) (int64, bool) {
	return w.lookup(w.key(source, id))
}

// add remembers an event the window does not hold yet, until deadline.
func (w *eventWindow) add(source, id string, key, deadline int64) {
	text, h := w.key(source, id)
	w.insert(text, h, key, deadline)
}

// remember returns the key of the event with this source and id if the
// window holds it (dup), and otherwise adds it, until deadline, under the
// key newKey gives.
func (w *eventWindow) remember(source, id string, deadline int64, newKey func() int64) (key int64, dup bool) {
	text, h := w.key(source, id)
	if key, dup = w.lookup(text, h); dup {
		return key, true
	}
	key = newKey()
	w.insert(text, h, key, deadline)
	return key, false
}

func (w *eventWindow) lookup(text []byte, h uint64) (int64, bool) {
	if seq, ok := w.index[h]; ok {
		if e := w.entry(seq); string(w.textOf(e)) == string(text) {
			return e.key, true
		}
	}
	if len(w.others) > 0 {
		if seq, ok := w.others[string(text)]; ok {
			return w.entry(seq).key, true
		}
	}
	return 0, false
}

func (w *eventWindow) insert(text []byte, h uint64, key, deadline int64) {
	at := w.place(len(text))
	copy(w.text[at&uint64(len(w.text)-1):], text)
	if w.count == len(w.ring) {
		w.growRing()
	}
	seq := w.base + uint64(w.count)
	if _, taken := w.index[h]; taken {
		w.others[string(text)] = seq
	} else {
		w.index[h] = seq
	}
	*w.nth(w.count) = windowEntry{hash: h, key: key, deadline: deadline, at: at, n: len(text)}
	w.count++
}

// place reserves n bytes of text and returns their offset: after the
// newest text, or at the ring's start when they would wrap.
func (w *eventWindow) place(n int) uint64 {
	size := uint64(len(w.text))
	at := w.textTail
	if at&(size-1)+uint64(n) > size {
		at = (at | (size - 1)) + 1
	}
	if at+uint64(n)-w.textHead > size {
		w.growText(n)
		size, at = uint64(len(w.text)), w.textTail
	}
	w.textTail = at + uint64(n)
	return at
}

// growText lays the live text out again, from offset 0, in a ring with
// room for n more bytes.
func (w *eventWindow) growText(n int) {
	live := 0
	for i := range w.count {
		live += w.nth(i).n
	}
	size := len(w.text)
	for size < 2*(live+n) {
		size *= 2
	}
	text := make([]byte, size)
	var at uint64
	for i := range w.count {
		e := w.nth(i)
		copy(text[at:], w.textOf(e))
		e.at = at
		at += uint64(e.n)
	}
	w.text, w.textHead, w.textTail = text, 0, at
}

// growRing doubles the entries' ring.
func (w *eventWindow) growRing() {
	ring := make([]windowEntry, 2*len(w.ring))
	for i := range w.count {
		ring[i] = *w.nth(i)
	}
	w.ring, w.head = ring, 0
}

// forget drops the entries whose deadline is at or before now. Entries
// are kept in the order they came, which is the order of their deadlines
// unless the clock went back; a later entry then waits for an earlier one.
func (w *eventWindow) forget(now int64) {
	for w.count > 0 {
		e := w.nth(0)
		if e.deadline > now {
			return
		}
		seq := w.base
		if s, ok := w.index[e.hash]; ok && s == seq {
			delete(w.index, e.hash)
		} else {
			delete(w.others, string(w.textOf(e)))
		}
		if seq < w.stored {
			w.dropped = append(w.dropped, e.key)
		}
		w.textHead = e.at + uint64(e.n)
		*e = windowEntry{}
		w.head = (w.head + 1) & (len(w.ring) - 1)
		w.count--
		w.base++
	}
	w.textHead = w.textTail
}

// len is how many events the window holds.
func (w *eventWindow) len() int { return w.count }

// flush appends the deletions of the stored rows that expired to ws.
func (w *eventWindow) flush(ws *writeSet) {
	for _, k := range w.dropped {
		ws.del(eventRowKey(k))
	}
	w.dropped = w.dropped[:0]
}

// eventRowKey is the storage key of the row of event key k (the former
// events table's).
func eventRowKey(k int64) []byte {
	b := make([]byte, 10)
	b[0], b[1] = keyspace, eventRowPrefix
	binary.BigEndian.PutUint64(b[2:], uint64(k))
	return b
}

const eventRowPrefix = 'c'

// loadedEvents collects the rows read from storage; restore puts them
// back in order.
type loadedEvents []eventSeen

// load decodes one stored row.
func (l *loadedEvents) load(key, value []byte) error {
	if len(key) != 10 {
		return fmt.Errorf("state key %q of the CloudEvent window has the wrong length", key)
	}
	var row eventSeen
	if err := eventSeenCodec.unmarshal(value, &row); err != nil {
		return fmt.Errorf("state row %c/%d: %w", eventRowPrefix, int64(binary.BigEndian.Uint64(key[2:])), err)
	}
	*l = append(*l, row)
	return nil
}

// restore fills an empty window with the rows an older store kept, in the
// order of their deadlines.
func (w *eventWindow) restore(rows loadedEvents) {
	slices.SortFunc(rows, func(a, b eventSeen) int {
		return cmp.Or(cmp.Compare(a.Deadline, b.Deadline), cmp.Compare(a.Key, b.Key))
	})
	for _, r := range rows {
		w.add(r.Source, r.ID, r.Key, r.Deadline)
	}
	w.stored = w.base + uint64(w.count)
}

// recallEvents adds to the window the events the partition's log holds
// whose window has not passed at now (Unix ms).
func (c *Core) recallEvents(ctx context.Context, store *storage.Store, now int64) error {
	window := c.eventWindow().Milliseconds()
	// A chunk is stamped when committed, at or after the records in it;
	// the margin covers a node whose clock ran ahead of the store's.
	from, err := store.SeekTime(ctx, c.partition, time.UnixMilli(now-window).Add(-recallMargin))
	if err != nil {
		return fmt.Errorf("recalling the CloudEvents of partition %d: %w", c.partition, err)
	}
	var r record.Record
	err = store.Read(ctx, c.partition, from, math.MaxInt, func(e storage.Entry) error {
		if h, ok := record.PeekHeader(e.Data); ok && !h.Is(record.Event, record.CloudEvent, record.Published) {
			return nil
		}
		r = record.Record{}
		if err := record.Unmarshal(e.Data, &r); err != nil {
			return fmt.Errorf("position %d: %w", e.Position, err)
		}
		if r.Kind != record.Event || r.ValueType != record.CloudEvent || r.Intent != record.Published {
			return nil
		}
		// The entry's time is its commit's, a little after the one the
		// event was accepted at: the window lasts that much longer.
		v := &r.Value
		if deadline := e.Timestamp + window; deadline > now {
			c.st.events.remember(v.Source, v.MessageID, deadline, func() int64 { return r.Key })
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recalling the CloudEvents of partition %d: %w", c.partition, err)
	}
	return nil
}

// recallMargin is how much earlier than the window the log is read from.
const recallMargin = 5 * time.Second

var eventSeenCodec = &rowCodec[eventSeen]{
	encode: func(w *rowWriter, e *eventSeen) {
		w.int(e.Key)
		w.str(e.Source)
		w.str(e.ID)
		w.int(e.Deadline)
	},
	decode: func(r *rowReader, e *eventSeen) {
		e.Key = r.int()
		e.Source = r.str()
		e.ID = r.str()
		e.Deadline = r.int()
	},
}
