package engine

// windowIndex maps the 64-bit hash of an event's source and id to its
// sequence number in the duplicate window. The window looks up every
// accepted event, nearly always in vain, and then adds it: under load the
// index holds a minute of events, most of a million, and each look-up is a
// cache miss. With open addressing and linear probing over 16-byte slots,
// the look-up's miss finds the slot the insert then fills, on the same
// cache line; a Go map costs a miss for the look-up and another for the
// insert, and splits its tables as it grows.
//
// Growing copies the index at once, a pause of tens of milliseconds at a
// million entries, that a node at a steady rate pays once per doubling.
type windowIndex struct {
	slots []indexSlot // len is a power of two; seq 0 marks an empty slot
	count int
}

// indexSlot holds a hash and its sequence number plus one.
type indexSlot struct {
	hash, seq uint64
}

const (
	minIndexSlots = 1 << 10
	// The index grows past half full and shrinks under an eighth: a
	// look-up that misses reads about two slots at half full.
	growAt   = 2
	shrinkAt = 8
)

// find returns the slot of hash h, or the empty slot where it would go.
func (x *windowIndex) find(h uint64) (i uint64, found bool) {
	if len(x.slots) == 0 {
		x.slots = make([]indexSlot, minIndexSlots)
	}
	mask := uint64(len(x.slots) - 1)
	for i = h & mask; ; i = (i + 1) & mask {
		s := &x.slots[i]
		if s.seq == 0 {
			return i, false
		}
		if s.hash == h {
			return i, true
		}
	}
}

// putAt indexes seq under h in slot i, which find returned for h as
// empty, with no change to the index since.
func (x *windowIndex) putAt(i, h, seq uint64) {
	x.slots[i] = indexSlot{hash: h, seq: seq + 1}
	x.count++
	if x.count*growAt > len(x.slots) {
		x.resize(len(x.slots) * 2)
	}
}

// remove drops h if it indexes seq.
func (x *windowIndex) remove(h, seq uint64) bool {
	if x.count == 0 {
		return false
	}
	i, ok := x.find(h)
	if !ok || x.slots[i].seq != seq+1 {
		return false
	}
	// Backward shift: each later slot of the run that may move into the
	// hole does, so that no look-up stops short at an empty slot.
	mask := uint64(len(x.slots) - 1)
	for j := (i + 1) & mask; x.slots[j].seq != 0; j = (j + 1) & mask {
		home := x.slots[j].hash & mask
		// The entry at j stays if its home lies cyclically in (i, j].
		if (i < j && i < home && home <= j) || (i > j && (i < home || home <= j)) {
			continue
		}
		x.slots[i] = x.slots[j]
		i = j
	}
	x.slots[i] = indexSlot{}
	x.count--
	if len(x.slots) > minIndexSlots && x.count*shrinkAt < len(x.slots) {
		x.resize(len(x.slots) / 2)
	}
	return true
}

func (x *windowIndex) resize(n int) {
	old := x.slots
	x.slots = make([]indexSlot, n)
	mask := uint64(n - 1)
	for _, s := range old {
		if s.seq == 0 {
			continue
		}
		i := s.hash & mask
		for x.slots[i].seq != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = s
	}
}
