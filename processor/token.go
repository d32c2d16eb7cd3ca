package processor

import (
	"fmt"
	"strings"
)

// Position is where one event sits on a source: the stream inside the source
// ("" for the Eddy log, a topic for Kafka, "name" or "name/stream" inside a
// multi-source), the partition, and the offset. Offsets start at 1 and grow
// with every event of a partition; 0 means "before the first event".
type Position struct {
	Stream    string
	Partition int
	Offset    uint64
}

func (p Position) String() string {
	if p.Stream == "" {
		return fmt.Sprintf("%d@%d", p.Partition, p.Offset)
	}
	return fmt.Sprintf("%s:%d@%d", p.Stream, p.Partition, p.Offset)
}

// less orders positions by stream, then partition (offsets are not compared).
func (p Position) less(o Position) bool {
	if p.Stream != o.Stream {
		return p.Stream < o.Stream
	}
	return p.Partition < o.Partition
}

func (p Position) samePartition(o Position) bool {
	return p.Partition == o.Partition && p.Stream == o.Stream
}

// Token is how far a processor has read a source: for each (stream,
// partition), the offset of the last event it has seen. It is a vector, not a
// single number, because partitions are independent: an event is covered
// when its offset is at or below the token's offset for its partition, and a
// partition the token does not name is at offset 0.
//
// The zero Token is the tail (nothing seen). Tokens are values: the methods
// never change the receiver.
type Token struct {
	// pos is sorted by (Stream, Partition), one entry per partition, every
	// Offset above 0.
	pos []Position
}

// NewToken returns the token made of positions; for a partition named twice
// the higher offset wins, and offset 0 is the same as not naming it.
func NewToken(positions ...Position) Token {
	var t Token
	for _, p := range positions {
		t.raise(p)
	}
	return t
}

// Positions returns the token's positions, sorted by stream and partition.
func (t Token) Positions() []Position { return append([]Position(nil), t.pos...) }

// IsZero reports whether the token has seen nothing (the tail).
func (t Token) IsZero() bool { return len(t.pos) == 0 }

// Offset returns the token's offset for a partition (0 when it has none).
func (t Token) Offset(stream string, partition int) uint64 {
	i, ok := t.find(Position{Stream: stream, Partition: partition})
	if !ok {
		return 0
	}
	return t.pos[i].Offset
}

// Covers reports whether the event at p is at or before the token.
func (t Token) Covers(p Position) bool {
	// Linear for the few partitions of a usual token: no allocation, and
	// faster than a binary search below a dozen entries.
	for i := range t.pos {
		if t.pos[i].samePartition(p) {
			return t.pos[i].Offset >= p.Offset
		}
	}
	return p.Offset == 0
}

// CoversToken reports whether every event o covers is covered by t.
func (t Token) CoversToken(o Token) bool {
	for _, p := range o.pos {
		if !t.Covers(p) {
			return false
		}
	}
	return true
}

// Equal reports whether t and o cover exactly the same events.
func (t Token) Equal(o Token) bool {
	if len(t.pos) != len(o.pos) {
		return false
	}
	for i := range t.pos {
		if t.pos[i] != o.pos[i] {
			return false
		}
	}
	return true
}

// Upper returns the smallest token covering both t and o: the higher offset
// of each partition.
func (t Token) Upper(o Token) Token {
	u := t.clone()
	u.raiseTo(o)
	return u
}

// Lower returns the largest token that both t and o cover: the lower offset
// of each partition.
func (t Token) Lower(o Token) Token {
	var l Token
	for _, p := range t.pos {
		if off := o.Offset(p.Stream, p.Partition); off > 0 {
			p.Offset = min(p.Offset, off)
			l.pos = append(l.pos, p)
		}
	}
	return l
}

// With returns t with the partition of p at p's offset (higher or lower than
// before).
func (t Token) With(p Position) Token {
	u := t.clone()
	i, ok := u.find(p)
	switch {
	case ok && p.Offset == 0:
		u.pos = append(u.pos[:i], u.pos[i+1:]...)
	case ok:
		u.pos[i].Offset = p.Offset
	default:
		u.raise(p)
	}
	return u
}

// Behind returns how many offsets t is behind head, summed over head's
// partitions: the lag of a processor at t when the source's head is head.
func (t Token) Behind(head Token) uint64 {
	var n uint64
	for _, h := range head.pos {
		if off := t.Offset(h.Stream, h.Partition); off < h.Offset {
			n += h.Offset - off
		}
	}
	return n
}

func (t Token) String() string {
	if len(t.pos) == 0 {
		return "tail"
	}
	parts := make([]string, len(t.pos))
	for i, p := range t.pos {
		parts[i] = p.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func (t Token) clone() Token {
	if t.pos == nil {
		return Token{}
	}
	return Token{pos: append(make([]Position, 0, len(t.pos)+1), t.pos...)}
}

// find returns the index of p's partition, or where it would be inserted.
func (t Token) find(p Position) (int, bool) {
	lo, hi := 0, len(t.pos)
	for lo < hi {
		m := (lo + hi) / 2
		if t.pos[m].less(p) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(t.pos) && t.pos[lo].samePartition(p)
}

// raise moves p's partition up to p's offset, in place. Only a token the
// caller owns (never one handed out) may be raised.
func (t *Token) raise(p Position) {
	for i := range t.pos {
		if t.pos[i].samePartition(p) {
			if p.Offset > t.pos[i].Offset {
				t.pos[i].Offset = p.Offset
			}
			return
		}
	}
	if p.Offset == 0 {
		return
	}
	i, _ := t.find(p)
	t.pos = append(t.pos, Position{})
	copy(t.pos[i+1:], t.pos[i:])
	t.pos[i] = p
}

// raiseTo raises t, in place, to cover o.
func (t *Token) raiseTo(o Token) {
	for _, p := range o.pos {
		t.raise(p)
	}
}
