package deadletter

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"eddy/storage"
)

// Queue is one processor's sequenced dead-letter queue. It is safe for use by
// several goroutines, and by several nodes sharing a store.
type Queue struct {
	*queueState
	store     *storage.Store
	processor string
	keys      keyspace
	opts      options
	partition int
}

// Open opens processor's queue in store. Queues opened in one process on the
// same store for the same processor share their locks and their known
// sequences (the settings of the first Open's WithNodeLocks and
// WithLockTimeout hold for all), so the processor and an operator's tool may
// each open it.
func Open(ctx context.Context, store *storage.Store, processor string, opts ...Opt) (*Queue, error) {
	if store == nil {
		return nil, errors.New("deadletter: Open with a nil store")
	}
	if processor == "" {
		return nil, errors.New("deadletter: Open with an empty processor name")
	}
	if limit := storage.MaxProcessorName - len(lockProcessor("")); len(processor) > limit {
		return nil, fmt.Errorf("deadletter: processor name of %d bytes, the limit is %d", len(processor), limit)
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	partition := o.partition
	if partition < 0 {
		h := fnv.New32a()
		h.Write([]byte(processor))
		partition = int(h.Sum32() % uint32(store.Partitions()))
	} else if partition >= store.Partitions() {
		return nil, fmt.Errorf("deadletter: WithPartition(%d): the store has partitions [0, %d)", partition, store.Partitions())
	}
	shared := store.Backend() != "pebble"
	if o.nodeLocks != nil {
		shared = *o.nodeLocks
	}
	q := &Queue{
		queueState: stateFor(store, processor, partition, o, shared),
		store:      store,
		processor:  processor,
		keys:       newKeyspace(processor),
		opts:       o,
		partition:  partition,
	}
	if err := q.refreshEpoch(ctx); err != nil {
		return nil, err
	}
	if err := q.Refresh(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

// Processor returns the name of the processor the queue belongs to.
func (q *Queue) Processor() string { return q.processor }

// Enqueue dead-letters l at the end of its sequence, creating the sequence if
// it is new; a sequence that holds l's event already (the same source,
// partition and position, which is not 0) is left as it is. The queue
// assigns the letter's ID, EnqueuedAt and LastTouched.
// ErrFull (wrapped, naming the limit) when the sequence or the queue is full.
func (q *Queue) Enqueue(ctx context.Context, l Letter) error {
	if err := checkSequenceID(l.SequenceID); err != nil {
		return err
	}
	_, err := q.enqueue(ctx, l.SequenceID, func() Letter { return l }, false)
	return err
}

// EnqueueIfPresent parks the letter built by letter behind sequenceID if that
// sequence is dead-lettered, and reports whether it did (or the sequence
// holds that event, read at the same position, already). When the sequence is
// not known on this node it returns false without IO and without calling
// letter (see Refresh for sequences enqueued by other nodes).
func (q *Queue) EnqueueIfPresent(ctx context.Context, sequenceID string, letter func() Letter) (bool, error) {
	if !q.known.contains(sequenceID) {
		return false, nil
	}
	if err := checkSequenceID(sequenceID); err != nil {
		return false, err
	}
	return q.enqueue(ctx, sequenceID, letter, true)
}

// EnqueueFailure asks policy (DefaultPolicy when nil) what the handler's
// failure err on l means and enqueues l, with the decided cause and
// diagnostics, if the decision keeps it. It returns the decision: on Ignore
// the processor goes on as if the handler had succeeded.
func (q *Queue) EnqueueFailure(ctx context.Context, l Letter, err error, policy Policy) (Decision, error) {
	d := orDefault(policy)(l, err)
	if !d.Keeps() {
		return d, nil
	}
	return d, q.Enqueue(ctx, d.apply(l, err))
}

// enqueue adds the letter build makes at the end of seq, creating seq
// unless onlyIfPresent; enqueued is also true when seq holds the letter's
// event already (holds).
func (q *Queue) enqueue(ctx context.Context, seq string, build func() Letter, onlyIfPresent bool) (bool, error) {
	enqueued := false
	err := q.change(ctx, seq, func(c *change) error {
		var l Letter
		if c.row != nil {
			l = build().clone()
			held, err := c.holds(l.Event)
			if err != nil || held {
				enqueued = held
				return err
			}
			if c.row.size >= q.opts.maxSize {
				return fmt.Errorf("%w: sequence %q of processor %q holds %d letters, the limit (WithMaxSequenceSize) is %d",
					ErrFull, seq, q.processor, c.row.size, q.opts.maxSize)
			}
		} else {
			if onlyIfPresent {
				return nil
			}
			q.creating.Lock()
			c.after = append(c.after, q.creating.Unlock)
			n, err := q.countSequences(ctx)
			if err != nil {
				return err
			}
			if n >= q.opts.maxSequences {
				return fmt.Errorf("%w: processor %q has %d dead-lettered sequences, the limit (WithMaxSequences) is %d, so sequence %q cannot be added",
					ErrFull, q.processor, n, q.opts.maxSequences, seq)
			}
			c.row = &sequenceRow{head: 1, next: 1, since: c.now, touched: c.now}
			l = build().clone()
		}
		l.ID, l.SequenceID = rand.Text(), seq
		l.EnqueuedAt, l.LastTouched = c.now, c.now
		order := c.row.next
		c.row.next++
		c.row.size++
		c.put(q.keys.letter(seq, order), encodeLetter(l))
		c.put(q.keys.id(l.ID), location{seq: seq, order: order}.encode())
		if l.Event.Position > 0 {
			c.put(q.keys.position(seq, l.Event), binary.BigEndian.AppendUint64(nil, order))
		}
		c.writeRow()
		enqueued = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return enqueued, nil
}

// Contains reports whether sequenceID is dead-lettered, as far as this node
// knows: it reads no storage. Sequences enqueued by other nodes since the
// last Refresh are missing; one another node has emptied may still show.
func (q *Queue) Contains(_ context.Context, sequenceID string) (bool, error) {
	return q.known.contains(sequenceID), nil
}

// Refresh reloads the set of dead-lettered sequences Contains answers from,
// to see other nodes' changes. A processor calls it after claiming a segment.
func (q *Queue) Refresh(ctx context.Context) error {
	from := q.known.generation()
	var ids []string
	err := q.scanRows(ctx, func(seq string, _ *sequenceRow) error {
		ids = append(ids, seq)
		return nil
	})
	if err != nil {
		return err
	}
	q.known.replace(from, ids)
	return nil
}

// Sequences lists the dead-lettered sequences in the order Process takes
// them: head letter touched longest ago first.
func (q *Queue) Sequences(ctx context.Context) ([]SequenceInfo, error) {
	now := q.opts.clock()
	var infos []SequenceInfo
	err := q.scanRows(ctx, func(seq string, r *sequenceRow) error {
		infos = append(infos, SequenceInfo{
			ID:          seq,
			Size:        r.size,
			Since:       r.since,
			LastTouched: r.touched,
			Processing:  r.leasedBy(now) != "",
		})
		return nil
	})
	slices.SortFunc(infos, func(a, b SequenceInfo) int {
		return cmp.Or(a.LastTouched.Compare(b.LastTouched), cmp.Compare(a.ID, b.ID))
	})
	return infos, err
}

// Letters returns the letters of sequenceID in order (none: empty, nil).
func (q *Queue) Letters(ctx context.Context, sequenceID string) ([]Letter, error) {
	var letters []Letter
	err := q.EachLetter(ctx, sequenceID, func(l Letter) bool {
		letters = append(letters, l)
		return true
	})
	return letters, err
}

// EachLetterAfter hands fn the letters that follow the letter letterID in
// its sequence, in order, until fn returns false, and returns that
// sequence: a listing's next page, which reads none of the letters before.
// ErrNotFound if there is no such letter.
func (q *Queue) EachLetterAfter(ctx context.Context, letterID string, fn func(Letter) bool) (string, error) {
	loc, err := q.locate(ctx, letterID)
	if err != nil {
		return "", err
	}
	row, err := q.readRow(ctx, loc.seq)
	if err != nil {
		return "", err
	}
	if row == nil {
		return "", q.notFound(letterID)
	}
	// The orders after it, one by one: gaps come only from letters
	// evicted from the middle of the sequence. A page of large letters
	// is full within a few; past getsBeforeScan, the rest come from one
	// scan of the sequence, which passes the letters before them
	// undecoded.
	o := loc.order + 1
	for gets := 0; o < row.next && gets < getsBeforeScan; o, gets = o+1, gets+1 {
		v, err := q.store.Get(ctx, q.partition, q.keys.letter(loc.seq, o))
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return loc.seq, q.readError("letter", err)
		}
		l, err := decodeLetter(v)
		if err != nil {
			return loc.seq, q.corrupt(fmt.Sprintf("letter %d of sequence %q", o, loc.seq), err)
		}
		if !fn(l) {
			return loc.seq, nil
		}
	}
	if o >= row.next {
		return loc.seq, nil
	}
	return loc.seq, q.scanLetters(ctx, loc.seq, o, fn)
}

// getsBeforeScan is how many letters EachLetterAfter reads one by one
// before it scans for the rest.
const getsBeforeScan = 16

// errEnough stops a scan whose caller has what it wants.
var errEnough = errors.New("deadletter: enough letters")

// EachLetter hands the letters of sequenceID to fn in order until fn
// returns false: a listing that wants a few of a long sequence decodes no
// more.
func (q *Queue) EachLetter(ctx context.Context, sequenceID string, fn func(Letter) bool) error {
	if err := checkSequenceID(sequenceID); err != nil {
		return err
	}
	return q.scanLetters(ctx, sequenceID, 0, fn)
}

// scanLetters hands fn the letters of seq from order from on, in order,
// until fn returns false; those before from are passed undecoded.
func (q *Queue) scanLetters(ctx context.Context, seq string, from uint64, fn func(Letter) bool) error {
	err := q.store.Scan(ctx, q.partition, q.keys.letters(seq), func(key, value []byte) error {
		order, err := q.keys.orderOf(seq, key)
		if err != nil {
			return q.corrupt(fmt.Sprintf("sequence %q", seq), err)
		}
		if order < from {
			return nil
		}
		l, err := decodeLetter(value)
		if err != nil {
			return q.corrupt(fmt.Sprintf("letter %d of sequence %q", order, seq), err)
		}
		if !fn(l) {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return q.readError("letters", err)
	}
	return nil
}

// Size returns the number of letters in the queue.
func (q *Queue) Size(ctx context.Context) (int, error) {
	n := 0
	err := q.scanRows(ctx, func(_ string, r *sequenceRow) error {
		n += r.size
		return nil
	})
	return n, err
}

// Evict removes the letter with id letterID; the next letter of its sequence
// becomes the head. ErrNotFound if there is no such letter.
func (q *Queue) Evict(ctx context.Context, letterID string) error {
	return q.changeLetter(ctx, letterID, func(c *change, order uint64, _ Letter) error {
		_, err := c.remove(order)
		return err
	})
}

// EvictUnheld is Evict for an operator: ErrBusy while a Process call holds
// the letter's sequence, whose handler may be handing that very letter on,
// which removing it would not stop. It returns the letter evicted.
func (q *Queue) EvictUnheld(ctx context.Context, letterID string) (Letter, error) {
	var evicted Letter
	err := q.changeLetter(ctx, letterID, func(c *change, order uint64, l Letter) error {
		if by := c.row.leasedBy(c.now); by != "" {
			return fmt.Errorf("%w: sequence %q of processor %q is held by %s until %s",
				ErrBusy, c.seq, q.processor, by, c.row.leaseUntil.Format(time.RFC3339))
		}
		evicted = l
		_, err := c.remove(order)
		return err
	})
	return evicted, err
}

// Requeue keeps the letter letterID where it is in its sequence, records
// cause (a zero cause keeps the old one), counts a retry and touches it.
// ErrNotFound if there is no such letter.
func (q *Queue) Requeue(ctx context.Context, letterID string, cause Cause) error {
	return q.changeLetter(ctx, letterID, func(c *change, order uint64, l Letter) error {
		if !cause.IsZero() {
			l.Cause = cause
		}
		c.requeue(order, l)
		return nil
	})
}

// changeLetter runs fn in a change of the sequence of the letter letterID,
// with the letter as stored. ErrNotFound if there is no such letter.
func (q *Queue) changeLetter(ctx context.Context, letterID string, fn func(c *change, order uint64, l Letter) error) error {
	loc, err := q.locate(ctx, letterID)
	if err != nil {
		return err
	}
	return q.change(ctx, loc.seq, func(c *change) error {
		if c.row == nil {
			return q.notFound(letterID)
		}
		l, ok, err := c.letter(loc.order)
		if err != nil {
			return err
		}
		if !ok {
			return q.notFound(letterID)
		}
		return fn(c, loc.order, l)
	})
}

// requeue stores l back at order with one more retry, touched now.
func (c *change) requeue(order uint64, l Letter) {
	l.Retries++
	l.LastTouched = c.now
	c.put(c.q.keys.letter(c.seq, order), encodeLetter(l))
	if order == c.row.head {
		c.row.touched = c.now
	}
	c.writeRow()
}

// locate finds where a letter lives by its id.
func (q *Queue) locate(ctx context.Context, letterID string) (location, error) {
	if letterID == "" {
		return location{}, fmt.Errorf("%w: empty letter id", ErrNotFound)
	}
	v, err := q.store.Get(ctx, q.partition, q.keys.id(letterID))
	if errors.Is(err, storage.ErrNotFound) {
		return location{}, q.notFound(letterID)
	}
	if err != nil {
		return location{}, q.readError("letter id", err)
	}
	loc, err := decodeLocation(v)
	if err != nil {
		return location{}, q.corrupt(fmt.Sprintf("letter id %q", letterID), err)
	}
	return loc, nil
}

// readRow reads seq's row; nil when there is none.
func (q *Queue) readRow(ctx context.Context, seq string) (*sequenceRow, error) {
	v, err := q.store.Get(ctx, q.partition, q.keys.sequence(seq))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, q.readError("sequence", err)
	}
	r, err := decodeRow(v)
	if err != nil {
		return nil, q.corrupt(fmt.Sprintf("sequence %q", seq), err)
	}
	return r, nil
}

// scanRows calls fn for every sequence row, in sequence id order.
func (q *Queue) scanRows(ctx context.Context, fn func(seq string, r *sequenceRow) error) error {
	err := q.store.Scan(ctx, q.partition, q.keys.sequences(), func(key, value []byte) error {
		seq, err := q.keys.sequenceOf(key)
		if err != nil {
			return q.corrupt("sequence index", err)
		}
		r, err := decodeRow(value)
		if err != nil {
			return q.corrupt(fmt.Sprintf("sequence %q", seq), err)
		}
		return fn(seq, r)
	})
	return q.readError("sequences", err)
}

// countSequences counts the stored sequences. Without other nodes, the known
// set is exact (it was loaded at Open and every change since went through
// this queue); with them, storage is counted.
func (q *Queue) countSequences(ctx context.Context) (int, error) {
	if !q.locks.shared {
		return q.known.len(), nil
	}
	n := 0
	err := q.store.Scan(ctx, q.partition, q.keys.sequences(), func(_, _ []byte) error {
		n++
		return nil
	})
	return n, q.readError("sequences", err)
}

// commit commits b under the partition's current epoch. The partition's
// epoch moves when its owner changes; a batch refused for that wrote
// nothing, so it is committed again under the new epoch. A refusal with an
// unchanged epoch is a lost lock, returned as is.
func (q *Queue) commit(ctx context.Context, b *storage.Batch) error {
	for attempt := 0; ; attempt++ {
		b.Epoch = q.epoch.Load()
		_, err := q.store.Commit(ctx, b)
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrFenced) || attempt == 3 {
			return fmt.Errorf("deadletter: processor %q: committing to partition %d: %w", q.processor, q.partition, err)
		}
		if rerr := q.refreshEpoch(ctx); rerr != nil {
			return rerr
		}
		if q.epoch.Load() == b.Epoch {
			return fmt.Errorf("deadletter: processor %q: committing to partition %d: %w", q.processor, q.partition, err)
		}
	}
}

// refreshEpoch reads the partition's current ownership epoch.
func (q *Queue) refreshEpoch(ctx context.Context) error {
	claims, err := q.store.Ownership().PartitionClaims(ctx)
	if err != nil {
		return fmt.Errorf("deadletter: processor %q: reading the epoch of partition %d: %w", q.processor, q.partition, err)
	}
	for _, c := range claims {
		if c.Partition == q.partition {
			q.epoch.Store(c.Epoch)
			return nil
		}
	}
	return fmt.Errorf("deadletter: processor %q: partition %d has no ownership row", q.processor, q.partition)
}

func checkSequenceID(seq string) error {
	switch {
	case seq == "":
		return errors.New("deadletter: letter has an empty sequence id (a processor without sequencing uses the event's id)")
	case len(seq) > MaxSequenceID:
		return fmt.Errorf("deadletter: sequence id of %d bytes, the limit is %d", len(seq), MaxSequenceID)
	}
	return nil
}

func (q *Queue) notFound(letterID string) error {
	return fmt.Errorf("%w: processor %q has no letter %q", ErrNotFound, q.processor, letterID)
}

func (q *Queue) readError(what string, err error) error {
	var corrupt *storage.CorruptError
	if err == nil || errors.As(err, &corrupt) {
		return err
	}
	return fmt.Errorf("deadletter: processor %q: reading %s from partition %d: %w", q.processor, what, q.partition, err)
}

// corrupt reports a stored value that does not decode.
func (q *Queue) corrupt(what string, err error) error {
	return &storage.CorruptError{
		File:   fmt.Sprintf("dead-letter queue of processor %q (state of partition %d)", q.processor, q.partition),
		Detail: fmt.Sprintf("%s: %v", what, err),
	}
}
