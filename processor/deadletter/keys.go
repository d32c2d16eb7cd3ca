package deadletter

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// buckets is the number of locks sequences are spread over: enough that
// unrelated sequences rarely wait for each other, few enough that Clear can
// take them all.
const buckets = 64

// bucketOf is the lock bucket of a sequence.
func bucketOf(seq string) int {
	h := fnv.New32a()
	h.Write([]byte(seq))
	return int(h.Sum32() % buckets)
}

// Key kinds after the processor's prefix.
const (
	kindSequence = 's'
	kindLetter   = 'q'
	kindID       = 'i'
	kindPosition = 'p'
)

// keyspace builds the state keys of one processor's queue: "dlq/", the
// processor name with a 2-byte length in front, a kind byte, and then what
// the kind needs. Length prefixes keep one name from being a prefix of
// another's keys.
type keyspace struct{ base []byte }

func newKeyspace(processor string) keyspace {
	b := append([]byte("dlq/"), 0, 0)
	binary.BigEndian.PutUint16(b[4:], uint16(len(processor)))
	return keyspace{base: append(b, processor...)}
}

func (k keyspace) kind(kind byte) []byte {
	return append(append(make([]byte, 0, len(k.base)+1), k.base...), kind)
}

func appendSequenceID(b []byte, seq string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(seq)))
	return append(b, seq...)
}

// all is the prefix of every key of the queue.
func (k keyspace) all() []byte { return k.base }

// sequences is the prefix of the sequence rows.
func (k keyspace) sequences() []byte { return k.kind(kindSequence) }

// sequence is the key of seq's row.
func (k keyspace) sequence(seq string) []byte {
	return appendSequenceID(k.kind(kindSequence), seq)
}

// letters is the prefix of seq's letters, which sort by order.
func (k keyspace) letters(seq string) []byte {
	return appendSequenceID(k.kind(kindLetter), seq)
}

// letter is the key of seq's letter at order.
func (k keyspace) letter(seq string, order uint64) []byte {
	return binary.BigEndian.AppendUint64(k.letters(seq), order)
}

// position is the key that locates the letter of seq holding the event
// read at e's source, partition and position.
func (k keyspace) position(seq string, e Event) []byte {
	b := appendSequenceID(k.kind(kindPosition), seq)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e.Source)))
	b = append(b, e.Source...)
	b = binary.AppendUvarint(b, uint64(e.Partition))
	return binary.BigEndian.AppendUint64(b, e.Position)
}

// id is the key that locates a letter by its id.
func (k keyspace) id(id string) []byte { return append(k.kind(kindID), id...) }

// sequenceOf returns the sequence id of a sequence row's key.
func (k keyspace) sequenceOf(key []byte) (string, error) {
	rest := key[len(k.base)+1:]
	if len(rest) < 2 || int(binary.BigEndian.Uint16(rest)) != len(rest)-2 {
		return "", fmt.Errorf("sequence key %q is malformed", key)
	}
	return string(rest[2:]), nil
}

// orderOf returns the order of a letter key of seq.
func (k keyspace) orderOf(seq string, key []byte) (uint64, error) {
	prefix := len(k.base) + 1 + 2 + len(seq)
	if len(key) != prefix+8 {
		return 0, fmt.Errorf("letter key %q of sequence %q is malformed", key, seq)
	}
	return binary.BigEndian.Uint64(key[prefix:]), nil
}

// location is where a letter lives: the value of its id key.
type location struct {
	seq   string
	order uint64
}

func (l location) encode() []byte {
	return binary.BigEndian.AppendUint64(appendSequenceID(nil, l.seq), l.order)
}

func decodeLocation(b []byte) (location, error) {
	if len(b) < 2 {
		return location{}, fmt.Errorf("letter location of %d bytes is too short", len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) != 2+n+8 {
		return location{}, fmt.Errorf("letter location of %d bytes, expected %d for a %d-byte sequence id", len(b), 2+n+8, n)
	}
	return location{seq: string(b[2 : 2+n]), order: binary.BigEndian.Uint64(b[2+n:])}, nil
}
