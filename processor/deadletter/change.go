package deadletter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"eddy/storage"
)

// change is one read-modify-write of a sequence, made under its lock: fn
// reads the row and letters, stages writes, and change commits them in one
// batch.
type change struct {
	q       *Queue
	ctx     context.Context
	seq     string
	row     *sequenceRow // nil: the sequence does not exist (any more)
	existed bool
	now     time.Time // read once, so that every field the change sets agrees
	batch   *storage.Batch
	after   []func()
}

func (q *Queue) change(ctx context.Context, seq string, fn func(*change) error) (err error) {
	h, err := q.locks.lock(ctx, bucketOf(seq))
	if err != nil {
		return err
	}
	defer q.locks.unlock(h)
	row, err := q.readRow(ctx, seq)
	if err != nil {
		return err
	}
	c := &change{q: q, ctx: ctx, seq: seq, row: row, existed: row != nil, now: q.opts.clock()}
	defer func() {
		for _, f := range c.after {
			f()
		}
	}()
	if err := fn(c); err != nil {
		q.learn(seq, c.existed)
		return err
	}
	if c.batch == nil {
		q.learn(seq, c.row != nil)
		return nil
	}
	h.fence(c.batch)
	err = q.commit(ctx, c.batch)
	switch {
	case err == nil:
		q.learn(seq, c.row != nil)
	case errors.Is(err, storage.ErrOutcomeUnknown):
		// Either outcome may be true: remember the sequence if either
		// has it, since a sequence forgotten here could be jumped.
		q.learn(seq, c.existed || c.row != nil)
	default:
		q.learn(seq, c.existed)
	}
	return err
}

// learn records in the known set what a change found out about seq.
func (q *Queue) learn(seq string, exists bool) {
	if exists {
		q.known.add(seq)
	} else {
		q.known.remove(seq)
	}
}

func (c *change) stage() *storage.Batch {
	if c.batch == nil {
		c.batch = storage.NewBatch(c.q.partition, 0)
	}
	return c.batch
}

func (c *change) put(key, value []byte) { c.stage().Put(key, value) }
func (c *change) del(key []byte)        { c.stage().Delete(key) }

// writeRow stages the row as it is now: written, or deleted when nil.
func (c *change) writeRow() {
	key := c.q.keys.sequence(c.seq)
	if c.row == nil {
		c.del(key)
		return
	}
	c.put(key, encodeRow(c.row))
}

// letter reads the sequence's letter at order; ok is false when there is
// none.
func (c *change) letter(order uint64) (l Letter, ok bool, err error) {
	v, err := c.q.store.Get(c.ctx, c.q.partition, c.q.keys.letter(c.seq, order))
	if errors.Is(err, storage.ErrNotFound) {
		return Letter{}, false, nil
	}
	if err != nil {
		return Letter{}, false, c.q.readError("letter", err)
	}
	l, err = decodeLetter(v)
	if err != nil {
		return Letter{}, false, c.q.corrupt(fmt.Sprintf("letter %d of sequence %q", order, c.seq), err)
	}
	return l, true, nil
}

// head reads the head letter; a row whose head is missing is corrupt.
func (c *change) head() (Letter, error) {
	l, ok, err := c.letter(c.row.head)
	if err == nil && !ok {
		err = c.q.corrupt(fmt.Sprintf("sequence %q", c.seq), fmt.Errorf("head letter %d is missing", c.row.head))
	}
	return l, err
}

// probes is how many orders after a removed head are read one by one before
// a scan looks for the next letter: gaps come only from letters evicted from
// the middle of a sequence.
const probes = 4

// nextAfter finds the first letter after order.
func (c *change) nextAfter(order uint64) (uint64, Letter, error) {
	for o := order + 1; o < c.row.next && o <= order+probes; o++ {
		l, ok, err := c.letter(o)
		if err != nil || ok {
			return o, l, err
		}
	}
	var (
		found Letter
		at    uint64
	)
	errFound := errors.New("found")
	err := c.q.store.Scan(c.ctx, c.q.partition, c.q.keys.letters(c.seq), func(key, value []byte) error {
		o, err := c.q.keys.orderOf(c.seq, key)
		if err != nil {
			return c.q.corrupt(fmt.Sprintf("sequence %q", c.seq), err)
		}
		if o <= order {
			return nil
		}
		l, err := decodeLetter(value)
		if err != nil {
			return c.q.corrupt(fmt.Sprintf("letter %d of sequence %q", o, c.seq), err)
		}
		found, at = l, o
		return errFound
	})
	switch {
	case errors.Is(err, errFound):
		return at, found, nil
	case err != nil:
		return 0, Letter{}, c.q.readError("letters", err)
	}
	return 0, Letter{}, c.q.corrupt(fmt.Sprintf("sequence %q", c.seq), fmt.Errorf("%d letters counted, none after order %d", c.row.size, order))
}

// remove deletes the letter at order, if it is there, keeping the row's
// size, head and touched right; the row goes when its last letter does.
func (c *change) remove(order uint64) (bool, error) {
	l, ok, err := c.letter(order)
	if err != nil || !ok {
		return false, err
	}
	c.del(c.q.keys.letter(c.seq, order))
	c.del(c.q.keys.id(l.ID))
	if err := c.forgetPosition(order, l.Event); err != nil {
		return false, err
	}
	c.row.size--
	switch {
	case c.row.size == 0:
		c.row = nil
	case order == c.row.head:
		next, nl, err := c.nextAfter(order)
		if err != nil {
			return false, err
		}
		c.row.head, c.row.touched = next, nl.LastTouched
	}
	c.writeRow()
	return true, nil
}

// holds reports whether the sequence has a letter of the event read where
// e was (a position of 0 is no position: such letters are never the same).
// The position key is checked against the letter it names, so that one
// left behind by a clear cut short is not taken for a letter.
func (c *change) holds(e Event) (bool, error) {
	order, ok, err := c.positionOrder(e)
	if err != nil || !ok {
		return false, err
	}
	l, ok, err := c.letter(order)
	if err != nil || !ok {
		return false, err
	}
	return l.Event.Source == e.Source && l.Event.Partition == e.Partition && l.Event.Position == e.Position, nil
}

// forgetPosition deletes the position key of the letter at order, if it
// names that letter: a letter stored before position keys existed has
// none, and a copy of its event enqueued since owns the key.
func (c *change) forgetPosition(order uint64, e Event) error {
	named, ok, err := c.positionOrder(e)
	if ok && named == order {
		c.del(c.q.keys.position(c.seq, e))
	}
	return err
}

// positionOrder reads the order e's position key names, if there is one.
func (c *change) positionOrder(e Event) (order uint64, ok bool, err error) {
	if e.Position == 0 {
		return 0, false, nil
	}
	v, err := c.q.store.Get(c.ctx, c.q.partition, c.q.keys.position(c.seq, e))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return 0, false, nil
	case err != nil:
		return 0, false, c.q.readError("letter position", err)
	case len(v) != 8:
		return 0, false, c.q.corrupt(fmt.Sprintf("the position key of an event of sequence %q", c.seq), fmt.Errorf("%d bytes, want 8", len(v)))
	}
	return binary.BigEndian.Uint64(v), true, nil
}
