package engine

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// table is one kind of entity of the partition's state, kept in memory and
// written through to storage: changed rows are collected and flushed as
// state writes in the batch that also carries the records that changed them.
type table[T any] struct {
	prefix byte
	rows   map[int64]*T
	// dirty holds the rows changed since the last flush, each with whether
	// storage held it before: a row created and deleted between two
	// flushes leaves no write at all, not even a tombstone.
	dirty map[int64]bool
	codec *rowCodec[T] // nil: JSON rows
}

func newTable[T any](prefix byte, codec *rowCodec[T]) *table[T] {
	return &table[T]{prefix: prefix, rows: make(map[int64]*T), dirty: make(map[int64]bool), codec: codec}
}

func (t *table[T]) get(k int64) *T { return t.rows[k] }

// put stores (or marks as changed) the row under k.
func (t *table[T]) put(k int64, v *T) {
	t.mark(k)
	t.rows[k] = v
}

// touch marks a row changed in place.
func (t *table[T]) touch(k int64) { t.mark(k) }

func (t *table[T]) del(k int64) {
	t.mark(k)
	delete(t.rows, k)
}

// mark notes a change to row k; rows hold exactly what storage holds until
// the first change after a flush.
func (t *table[T]) mark(k int64) {
	if _, ok := t.dirty[k]; !ok {
		_, stored := t.rows[k]
		t.dirty[k] = stored
	}
}

// Engine state keys live under keyspace in the partition's state, which
// other components (dead-letter queues) share: the engine reads and writes
// only its own keys.
const keyspace = 'E'

var metaKey = []byte{keyspace, 'm'}

func (t *table[T]) key(k int64) []byte {
	b := make([]byte, 10)
	b[0], b[1] = keyspace, t.prefix
	binary.BigEndian.PutUint64(b[2:], uint64(k))
	return b
}

// flush appends the changed rows' writes to w and forgets them.
func (t *table[T]) flush(w *writeSet) {
	if len(t.dirty) == 0 {
		return
	}
	// Writes of one batch are to distinct keys: their order does not matter.
	for k, stored := range t.dirty {
		if v, ok := t.rows[k]; ok {
			w.put(t.key(k), t.encode(k, v))
		} else if stored {
			w.del(t.key(k))
		}
	}
	clear(t.dirty)
}

func (t *table[T]) encode(k int64, v *T) []byte {
	if t.codec != nil {
		return t.codec.marshal(make([]byte, 0, 160), v)
	}
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("engine: cannot encode state row %c/%d: %v", t.prefix, k, err))
	}
	return data
}

// load decodes one stored row.
func (t *table[T]) load(key, value []byte) error {
	if len(key) != 10 {
		return fmt.Errorf("state key %q of table %c has the wrong length", key, t.prefix)
	}
	v := new(T)
	var err error
	if t.codec != nil {
		err = t.codec.unmarshal(value, v)
	} else {
		err = json.Unmarshal(value, v)
	}
	if err != nil {
		return fmt.Errorf("state row %c/%d: %w", t.prefix, int64(binary.BigEndian.Uint64(key[2:])), err)
	}
	t.rows[int64(binary.BigEndian.Uint64(key[2:]))] = v
	return nil
}

// writeSet is the state writes of one batch.
type writeSet struct {
	keys   [][]byte
	values [][]byte // nil: delete
}

func (w *writeSet) put(k, v []byte) { w.keys, w.values = append(w.keys, k), append(w.values, v) }
func (w *writeSet) del(k []byte)    { w.keys, w.values = append(w.keys, k), append(w.values, nil) }
func (w *writeSet) reset()          { w.keys, w.values = w.keys[:0], w.values[:0] }
