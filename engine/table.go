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
	dirty  map[int64]struct{}
}

func newTable[T any](prefix byte) *table[T] {
	return &table[T]{prefix: prefix, rows: make(map[int64]*T), dirty: make(map[int64]struct{})}
}

func (t *table[T]) get(k int64) *T { return t.rows[k] }

// put stores (or marks as changed) the row under k.
func (t *table[T]) put(k int64, v *T) {
	t.rows[k] = v
	t.dirty[k] = struct{}{}
}

// touch marks a row changed in place.
func (t *table[T]) touch(k int64) { t.dirty[k] = struct{}{} }

func (t *table[T]) del(k int64) {
	delete(t.rows, k)
	t.dirty[k] = struct{}{}
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
	for k := range t.dirty {
		if v, ok := t.rows[k]; ok {
			data, err := json.Marshal(v)
			if err != nil {
				panic(fmt.Sprintf("engine: cannot encode state row %c/%d: %v", t.prefix, k, err))
			}
			w.put(t.key(k), data)
		} else {
			w.del(t.key(k))
		}
	}
	clear(t.dirty)
}

// discard forgets unflushed changes' bookkeeping (the driver reloads state
// after a failed commit, so rows need not be rolled back here).
func (t *table[T]) discard() { clear(t.dirty) }

// load decodes one stored row.
func (t *table[T]) load(key, value []byte) error {
	if len(key) != 10 {
		return fmt.Errorf("state key %q of table %c has the wrong length", key, t.prefix)
	}
	v := new(T)
	if err := json.Unmarshal(value, v); err != nil {
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
