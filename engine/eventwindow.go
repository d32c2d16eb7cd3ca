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
	index  windowIndex       // hash of source and id → sequence number
	others map[string]uint64 // the texts whose hash an older one took

	// Entries and their texts are kept in blocks, oldest first. A window
	// grows by a block at a time without copying what it holds (as one
	// slice doubled, the first minute of load copied and touched twice
	// the memory it kept: a page fault per page in this node's hottest
	// path), and a block whose entries have all expired is reused for new
	// ones, or let go when the window shrinks.
	blocks     []*entryBlock // blocks[i] holds the sequence numbers from (firstBlock+i)<<entryBits
	firstBlock uint64
	base       uint64 // the oldest entry's sequence number
	count      int
	texts      [][]byte // the entries' "source\x00id"; texts[i] is text block firstText+i
	firstText  uint64
	spare      []*entryBlock // emptied blocks kept for reuse
	spareTexts [][]byte

	stored  uint64  // entries numbered below have rows in storage (an older store's)
	dropped []int64 // keys of stored rows that expired since the last flush

	hash    func(s []byte) uint64 // the index's hash; tests force collisions
	scratch []byte
}

const (
	entryBits     = 12 // 4,096 entries (160 KB) to a block
	entryBlockLen = 1 << entryBits
	// textBlockSize is a text block's room; a longer text gets a block of
	// its own size, which is not reused.
	textBlockSize = 256 << 10
	// spareBlocks is how many emptied blocks of each kind are kept: under
	// a steady load one expires as the next fills.
	spareBlocks = 2
)

type entryBlock [entryBlockLen]windowEntry

type windowEntry struct {
	hash     uint64
	key      int64
	deadline int64
	block    uint64 // the text block the text is in
	off, n   uint32 // and where in it
}

func newEventWindow() *eventWindow {
	w := &eventWindow{seed: maphash.MakeSeed(), others: map[string]uint64{}}
	w.hash = func(s []byte) uint64 { return maphash.Bytes(w.seed, s) }
	return w
}

// idText is the text an event is known by: source and id.
func idText(dst []byte, source, id string) []byte {
	dst = append(dst, source...)
	dst = append(dst, 0)
	return append(dst, id...)
}

// entry returns the entry numbered seq.
func (w *eventWindow) entry(seq uint64) *windowEntry {
	return &w.blocks[seq>>entryBits-w.firstBlock][seq&(entryBlockLen-1)]
}

// nth returns the i-th oldest entry.
func (w *eventWindow) nth(i int) *windowEntry { return w.entry(w.base + uint64(i)) }

// textOf returns entry e's text.
func (w *eventWindow) textOf(e *windowEntry) []byte {
	return w.texts[e.block-w.firstText][e.off : e.off+e.n]
}

// key returns the text an event is known by, in the window's scratch
// space, and its hash.
func (w *eventWindow) key(source, id string) ([]byte, uint64) {
	w.scratch = idText(w.scratch[:0], source, id)
	return w.scratch, w.hash(w.scratch)
}

// add remembers an event the window does not hold yet, until deadline.
func (w *eventWindow) add(source, id string, key, deadline int64) {
	text, h := w.key(source, id)
	slot, taken := w.index.find(h)
	w.insert(text, h, slot, taken, key, deadline)
}

// remember returns the key of the event with this source and id if the
// window holds it (dup), and otherwise adds it, until deadline, under the
// key newKey gives.
func (w *eventWindow) remember(source, id string, deadline int64, newKey func() int64) (key int64, dup bool) {
	text, h := w.key(source, id)
	slot, taken := w.index.find(h)
	if key, dup = w.lookup(text, slot, taken); dup {
		return key, true
	}
	key = newKey()
	w.insert(text, h, slot, taken, key, deadline)
	return key, false
}

// lookup finds text, whose hash find placed at slot (taken: held by an
// entry with the same hash).
func (w *eventWindow) lookup(text []byte, slot uint64, taken bool) (int64, bool) {
	if taken {
		if e := w.entry(w.index.slots[slot].seq - 1); string(w.textOf(e)) == string(text) {
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

// insert adds an entry for text, whose hash h find placed at slot (taken:
// by an older entry, so that the text goes to others).
func (w *eventWindow) insert(text []byte, h, slot uint64, taken bool, key, deadline int64) {
	block, off := w.place(text)
	seq := w.base + uint64(w.count)
	if seq>>entryBits-w.firstBlock == uint64(len(w.blocks)) {
		var b *entryBlock
		if n := len(w.spare); n > 0 {
			b, w.spare = w.spare[n-1], w.spare[:n-1]
		} else {
			b = new(entryBlock)
		}
		w.blocks = append(w.blocks, b)
	}
	if taken {
		w.others[string(text)] = seq
	} else {
		w.index.putAt(slot, h, seq)
	}
	*w.entry(seq) = windowEntry{hash: h, key: key, deadline: deadline, block: block, off: off, n: uint32(len(text))}
	w.count++
}

// place copies text after the newest text, or into a new block when it
// does not fit, and returns where it is.
func (w *eventWindow) place(text []byte) (block uint64, off uint32) {
	if n := len(w.texts); n > 0 {
		if b := w.texts[n-1]; len(b)+len(text) <= cap(b) {
			w.texts[n-1] = append(b, text...)
			return w.firstText + uint64(n-1), uint32(len(b))
		}
	}
	var b []byte
	switch n := len(w.spareTexts); {
	case len(text) > textBlockSize:
		b = make([]byte, 0, len(text))
	case n > 0:
		b, w.spareTexts = w.spareTexts[n-1], w.spareTexts[:n-1]
	default:
		b = make([]byte, 0, textBlockSize)
	}
	w.texts = append(w.texts, append(b, text...))
	return w.firstText + uint64(len(w.texts)-1), 0
}

// oldestDeadline is the deadline of the oldest entry, 0 when there is none.
func (w *eventWindow) oldestDeadline() int64 {
	if w.count == 0 {
		return 0
	}
	return w.nth(0).deadline
}

// forget drops the entries whose deadline is at or before now. Entries
// are kept in the order they came, which is the order of their deadlines
// unless the clock went back; a later entry then waits for an earlier one.
func (w *eventWindow) forget(now int64) {
	for w.count > 0 {
		e := w.nth(0)
		if e.deadline > now {
			break
		}
		seq := w.base
		if !w.index.remove(e.hash, seq) {
			delete(w.others, string(w.textOf(e)))
		}
		if seq < w.stored {
			w.dropped = append(w.dropped, e.key)
		}
		*e = windowEntry{}
		w.count--
		w.base++
		if w.base&(entryBlockLen-1) == 0 {
			// The oldest block is spent.
			if len(w.spare) < spareBlocks {
				w.spare = append(w.spare, w.blocks[0])
			}
			w.blocks[0] = nil
			w.blocks = w.blocks[1:]
			w.firstBlock++
		}
	}
	// Text blocks older than the oldest entry's are spent; so is all text
	// once the window is empty.
	if len(w.texts) == 0 {
		return
	}
	keep := w.firstText + uint64(len(w.texts)-1)
	if w.count > 0 {
		keep = w.nth(0).block
	}
	for w.firstText < keep {
		if b := w.texts[0]; cap(b) == textBlockSize && len(w.spareTexts) < spareBlocks {
			w.spareTexts = append(w.spareTexts, b[:0])
		}
		w.texts[0] = nil
		w.texts = w.texts[1:]
		w.firstText++
	}
	if w.count == 0 {
		w.texts[0] = w.texts[0][:0]
	}
}

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
