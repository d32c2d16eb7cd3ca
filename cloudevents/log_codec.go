package cloudevents

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The log encoding of an event, compact and separate from JSON: a format
// byte, the eight context attributes in a fixed order (specversion, id,
// source, type, datacontenttype, dataschema, subject, time) as uvarint
// length + bytes, a uvarint count of extensions each as name, type byte and
// text, then a data flag (0 absent, 1 present) and, if present, uvarint
// length + bytes. The encoding is canonical: Unmarshal accepts only what
// Append writes (sorted unique extensions, minimal varints, nothing after
// the end), so decoding and encoding again gives the same bytes.
const logFormatV1 = 1

// Append appends the log encoding of e to dst.
func Append(dst []byte, e *Event) []byte {
	dst = append(dst, logFormatV1)
	for _, s := range [...]string{e.SpecVersion, e.ID, e.Source, e.Type, e.DataContentType, e.DataSchema, e.Subject, e.Time} {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.Extensions)))
	for _, x := range e.Extensions {
		dst = appendString(dst, x.Name)
		dst = append(dst, byte(x.Value.Type))
		dst = appendString(dst, x.Value.Text)
	}
	if e.Data == nil {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = binary.AppendUvarint(dst, uint64(len(e.Data)))
	return append(dst, e.Data...)
}

// Marshal returns the log encoding of e.
func Marshal(e *Event) []byte { return Append(make([]byte, 0, 64+e.Size()), e) }

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// ErrCorrupt is wrapped by every Unmarshal error.
var ErrCorrupt = errors.New("cloudevents: corrupt log encoding")

// Unmarshal decodes the log encoding in b into e. The event shares no
// memory with b. It checks the encoding, not the event (events are
// validated before they are written).
//
// A first pass checks the encoding and finds where the attributes end, so
// that the second takes the text of every attribute and extension from one
// string: one allocation for the text, one for the data, one for the
// extensions, however many attributes the event has.
func Unmarshal(b []byte, e *Event) error {
	d := logDecoder{b: b}
	if d.byte() != logFormatV1 {
		return d.fail("unknown format")
	}
	*e = Event{}
	attrEnd, n, err := d.check()
	if err != nil {
		return err
	}
	text := string(b[:attrEnd])
	d = logDecoder{b: b, i: 1} // checked: nothing below can fail
	for _, dst := range [...]*string{&e.SpecVersion, &e.ID, &e.Source, &e.Type, &e.DataContentType, &e.DataSchema, &e.Subject, &e.Time} {
		*dst = d.text(text)
	}
	d.uvarint()
	if n > 0 {
		e.Extensions = make([]Extension, n)
	}
	for i := range e.Extensions {
		x := &e.Extensions[i]
		x.Name = d.text(text)
		x.Value.Type = Type(d.byte())
		x.Value.Text = d.text(text)
	}
	if d.byte() == 1 {
		l := int(d.uvarint())
		e.Data = append(make([]byte, 0, l), b[d.i:d.i+l]...)
	}
	return nil
}

// check reads the encoding after the format byte without keeping anything,
// and returns where the data flag is and the extension count.
func (d *logDecoder) check() (attrEnd int, extensions int, err error) {
	for range 8 {
		d.span()
	}
	n := d.uvarint()
	if n > uint64(len(d.b)-d.i)/3 { // each extension takes at least 3 bytes
		return 0, 0, d.fail("extension count too large")
	}
	var prev []byte
	for i := range int(n) {
		name := d.span()
		t := Type(d.byte())
		d.span()
		if d.err == nil && (t < TypeString || t > TypeTimestamp) {
			return 0, 0, d.fail(fmt.Sprintf("unknown value type %d", t))
		}
		if d.err == nil && i > 0 && bytes.Compare(prev, name) >= 0 {
			return 0, 0, d.fail("extensions out of order")
		}
		prev = name
	}
	attrEnd = d.i
	switch d.byte() {
	case 0:
	case 1:
		l := d.uvarint()
		if d.err == nil && l > uint64(len(d.b)-d.i) {
			return 0, 0, d.fail("data runs past the end")
		}
		if d.err == nil {
			d.i += int(l)
		}
	default:
		if d.err == nil {
			return 0, 0, d.fail("bad data flag")
		}
	}
	if d.err != nil {
		return 0, 0, d.err
	}
	if d.i != len(d.b) {
		return 0, 0, d.fail("bytes after the event")
	}
	return attrEnd, int(n), nil
}

type logDecoder struct {
	b   []byte
	i   int
	err error
}

func (d *logDecoder) fail(msg string) error {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", ErrCorrupt, d.i, msg)
	}
	return d.err
}

func (d *logDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.i >= len(d.b) {
		d.fail("unexpected end")
		return 0
	}
	c := d.b[d.i]
	d.i++
	return c
}

func (d *logDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.i:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	if n != uvarintLen(v) {
		d.fail("non-minimal varint")
		return 0
	}
	d.i += n
	return v
}

// span reads a length-prefixed string and returns its bytes in d.b.
func (d *logDecoder) span() []byte {
	l := d.uvarint()
	if d.err != nil {
		return nil
	}
	if l > uint64(len(d.b)-d.i) {
		d.fail("string runs past the end")
		return nil
	}
	s := d.b[d.i : d.i+int(l)]
	d.i += int(l)
	return s
}

// text reads a length-prefixed string of a checked encoding as a
// substring of text, a copy of the encoding's start.
func (d *logDecoder) text(text string) string {
	l := int(d.uvarint())
	s := text[d.i : d.i+l]
	d.i += l
	return s
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
