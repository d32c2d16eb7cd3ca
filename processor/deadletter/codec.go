package deadletter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Stored values start with a format version, so that a later layout can
// read what this one wrote.
const (
	letterFormat = 1
	rowFormat    = 1
)

// encoder appends fields to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(v []byte)   { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) string(v string)  { e.uvarint(uint64(len(v))); e.b = append(e.b, v...) }

// time writes a presence byte and the Unix nanoseconds, so that the zero
// time survives a round trip.
func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.varint(t.UnixNano())
}

// strings writes a map sorted by key: equal maps encode equally.
func (e *encoder) strings(m map[string]string) {
	e.uvarint(uint64(len(m)))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.string(k)
		e.string(m[k])
	}
}

// decoder reads fields back; the first problem sticks and names the field.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("value ends early")

func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w", field, err)
	}
}

func (d *decoder) uvarint(field string) uint64 { return number(d, field, binary.Uvarint) }
func (d *decoder) varint(field string) int64   { return number(d, field, binary.Varint) }

// number reads one varint-encoded number with read.
func number[T uint64 | int64](d *decoder, field string, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b)
	if n <= 0 {
		d.fail(field, errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(field string) []byte {
	n := d.uvarint(field)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(field, fmt.Errorf("length %d, only %d bytes left", n, len(d.b)))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(field string) string { return string(d.bytes(field)) }

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail(field, errShort)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) time(field string) time.Time {
	switch d.byte(field) {
	case 0:
		return time.Time{}
	case 1:
		v := d.varint(field)
		if d.err != nil {
			return time.Time{}
		}
		return time.Unix(0, v)
	default:
		d.fail(field, errors.New("bad presence byte"))
		return time.Time{}
	}
}

func (d *decoder) strings(field string) map[string]string {
	n := d.uvarint(field)
	if d.err != nil || n == 0 {
		return nil
	}
	// Each pair takes at least two bytes: a count beyond that is corrupt,
	// and must not size an allocation.
	if n > uint64(len(d.b))/2 {
		d.fail(field, fmt.Errorf("%d entries in %d bytes", n, len(d.b)))
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.string(field)
		m[k] = d.string(field)
	}
	return m
}

// version checks the leading format byte.
func (d *decoder) version(what string, want byte) {
	if v := d.byte(what + " format"); d.err == nil && v != want {
		d.fail(what+" format", fmt.Errorf("version %d, this build reads %d", v, want))
	}
}

// end reports trailing bytes as corruption.
func (d *decoder) end(what string) error {
	if d.err == nil && len(d.b) > 0 {
		d.fail(what, fmt.Errorf("%d bytes left over", len(d.b)))
	}
	return d.err
}

func encodeLetter(l Letter) []byte {
	e := encoder{b: make([]byte, 0, 96+len(l.Event.Payload))}
	e.b = append(e.b, letterFormat)
	e.string(l.ID)
	e.string(l.SequenceID)
	e.string(l.Event.Type)
	e.bytes(l.Event.Payload)
	e.string(l.Event.Source)
	e.varint(int64(l.Event.Partition))
	e.uvarint(l.Event.Position)
	e.time(l.Event.Time)
	e.strings(l.Event.Metadata)
	e.string(l.Cause.Type)
	e.string(l.Cause.Message)
	e.time(l.EnqueuedAt)
	e.time(l.LastTouched)
	e.uvarint(uint64(l.Retries))
	e.strings(l.Diagnostics)
	return e.b
}

func decodeLetter(b []byte) (Letter, error) {
	d := decoder{b: b}
	var l Letter
	d.version("letter", letterFormat)
	l.ID = d.string("letter id")
	l.SequenceID = d.string("sequence id")
	l.Event.Type = d.string("event type")
	if p := d.bytes("event payload"); len(p) > 0 {
		l.Event.Payload = append([]byte(nil), p...)
	}
	l.Event.Source = d.string("event source")
	l.Event.Partition = int(d.varint("event partition"))
	l.Event.Position = d.uvarint("event position")
	l.Event.Time = d.time("event time")
	l.Event.Metadata = d.strings("event metadata")
	l.Cause.Type = d.string("cause type")
	l.Cause.Message = d.string("cause message")
	l.EnqueuedAt = d.time("enqueued at")
	l.LastTouched = d.time("last touched")
	retries := d.uvarint("retries")
	if retries > 1<<31 {
		d.fail("retries", fmt.Errorf("%d is out of range", retries))
	}
	l.Retries = int(retries)
	l.Diagnostics = d.strings("diagnostics")
	return l, d.end("letter")
}

// sequenceRow is what the queue keeps about one sequence. Every change to
// it is made under the sequence's lock.
type sequenceRow struct {
	// size is the number of letters.
	size int
	// head is the order of the first letter; next the order the next
	// enqueued letter gets. Orders between them may be missing (letters
	// evicted from the middle).
	head, next uint64
	// since is when the sequence's first letter was enqueued.
	since time.Time
	// touched is the head letter's LastTouched.
	touched time.Time
	// leaseOwner holds the sequence for a Process call until leaseUntil.
	leaseOwner string
	leaseUntil time.Time
}

// leasedBy reports who holds a live lease on the row at now ("" if nobody).
func (r *sequenceRow) leasedBy(now time.Time) string {
	if r.leaseOwner == "" || !now.Before(r.leaseUntil) {
		return ""
	}
	return r.leaseOwner
}

func encodeRow(r *sequenceRow) []byte {
	e := encoder{b: make([]byte, 0, 48+len(r.leaseOwner))}
	e.b = append(e.b, rowFormat)
	e.uvarint(uint64(r.size))
	e.uvarint(r.head)
	e.uvarint(r.next)
	e.time(r.since)
	e.time(r.touched)
	e.string(r.leaseOwner)
	e.time(r.leaseUntil)
	return e.b
}

func decodeRow(b []byte) (*sequenceRow, error) {
	d := decoder{b: b}
	r := &sequenceRow{}
	d.version("sequence", rowFormat)
	size := d.uvarint("size")
	r.head = d.uvarint("head")
	r.next = d.uvarint("next")
	r.since = d.time("since")
	r.touched = d.time("touched")
	r.leaseOwner = d.string("lease owner")
	r.leaseUntil = d.time("lease until")
	if err := d.end("sequence"); err != nil {
		return nil, err
	}
	switch {
	case size == 0 || size > 1<<31:
		return nil, fmt.Errorf("size %d is out of range", size)
	case r.head >= r.next || r.next-r.head < size:
		return nil, fmt.Errorf("%d letters do not fit between head %d and next %d", size, r.head, r.next)
	}
	r.size = int(size)
	return r, nil
}
