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
// Growing moves the entries to a table twice the size a few at a time,
// with each change, rather than all at once: at a million entries that
// copy was a pause of tens of milliseconds of the partition's loop, and
// under a steady rate every partition paid it at about the same moment.
// While it moves them, a look-up that misses in the new table also looks
// in the old one.
type windowIndex struct {
	slots []indexSlot // len is a power of two; seq 0 marks an empty slot
	count int         // entries in slots and old
	// old is the table being grown out of, or nil. Its slots below moved
	// have gone to slots; a slot whose entry has gone holds movedSeq, so
	// that look-ups still probe past it.
	old   []indexSlot
	moved int
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
	// growSteps is how many of the old table's slots each change moves
	// on: the old table is empty after len(old)/growSteps changes, well
	// before the new one, twice as large, can be half full (which would
	// start another growth) or an eighth full (a shrink): growing starts
	// at len(old)/2 entries, so a growth lasts while the count stays
	// within len(old)/2 ± len(old)/growSteps.
	growSteps = 8
	// movedSeq marks an old slot whose entry moved to the new table or
	// was removed meanwhile.
	movedSeq = ^uint64(0)
)

// find returns the slot of hash h, or the empty slot where it would go.
// An entry still in the old table moves to that slot first, so find is a
// change like the others: only the partition's loop calls it.
func (x *windowIndex) find(h uint64) (i uint64, found bool) {
	if len(x.slots) == 0 {
		x.slots = make([]indexSlot, minIndexSlots)
	}
	i, found = probe(x.slots, h)
	if found || x.old == nil {
		return i, found
	}
	j, inOld := probe(x.old, h)
	if !inOld {
		return i, false
	}
	x.slots[i] = x.old[j]
	x.old[j].seq = movedSeq
	return i, true
}

// probe returns the slot of hash h in t, or the empty slot where it would
// go.
func probe(t []indexSlot, h uint64) (i uint64, found bool) {
	mask := uint64(len(t) - 1)
	for i = h & mask; ; i = (i + 1) & mask {
		s := &t[i]
		if s.seq == 0 {
			return i, false
		}
		if s.hash == h && s.seq != movedSeq {
			return i, true
		}
	}
}

// putAt indexes seq under h in slot i, which find returned for h as
// empty, with no change to the index since.
func (x *windowIndex) putAt(i, h, seq uint64) {
	x.slots[i] = indexSlot{hash: h, seq: seq + 1}
	x.count++
	if x.old == nil && x.count*growAt > len(x.slots) {
		x.old, x.moved = x.slots, 0
		x.slots = make([]indexSlot, len(x.old)*2)
	}
	x.moveOn()
}

// moveOn moves the entries of the next growSteps slots of the old table,
// if there is one, to the new.
func (x *windowIndex) moveOn() {
	if x.old == nil {
		return
	}
	end := min(x.moved+growSteps, len(x.old))
	for ; x.moved < end; x.moved++ {
		s := &x.old[x.moved]
		if s.seq == 0 || s.seq == movedSeq {
			continue
		}
		// The index holds no hash twice, so h is not in the new table.
		i, _ := probe(x.slots, s.hash)
		x.slots[i] = *s
		s.seq = movedSeq
	}
	if x.moved == len(x.old) {
		x.old = nil
	}
}

// remove drops h if it indexes seq.
func (x *windowIndex) remove(h, seq uint64) bool {
	if x.count == 0 {
		return false
	}
	defer x.moveOn()
	i, ok := probe(x.slots, h)
	if !ok {
		// Still in the old table: its slot keeps the run unbroken.
		if x.old == nil {
			return false
		}
		j, ok := probe(x.old, h)
		if !ok || x.old[j].seq != seq+1 {
			return false
		}
		x.old[j].seq = movedSeq
		x.count--
		return true
	}
	if x.slots[i].seq != seq+1 {
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
	if x.old == nil && len(x.slots) > minIndexSlots && x.count*shrinkAt < len(x.slots) {
		x.resize(len(x.slots) / 2)
	}
	return true
}

// resize copies the index into a table of n slots at once: shrinking,
// which a window that drains does, not one under load.
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
