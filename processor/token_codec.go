package processor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// tokenVersion is the first byte of an encoded Token.
const tokenVersion = 1

// maxStreamName bounds a stream name inside a token.
const maxStreamName = 1 << 10

// MarshalBinary encodes the token: a version byte, then the position count
// and each position as stream length, stream, partition and offset, all
// unsigned varints.
func (t Token) MarshalBinary() ([]byte, error) {
	return t.appendBinary(make([]byte, 0, 2+len(t.pos)*8)), nil
}

func (t Token) appendBinary(b []byte) []byte {
	b = append(b, tokenVersion)
	b = binary.AppendUvarint(b, uint64(len(t.pos)))
	for _, p := range t.pos {
		b = binary.AppendUvarint(b, uint64(len(p.Stream)))
		b = append(b, p.Stream...)
		b = binary.AppendUvarint(b, uint64(p.Partition))
		b = binary.AppendUvarint(b, p.Offset)
	}
	return b
}

// UnmarshalBinary decodes what MarshalBinary encoded. Malformed input gets an
// error that says what is wrong and at which byte.
func (t *Token) UnmarshalBinary(data []byte) error {
	d := decoder{buf: data}
	tok, err := d.token()
	if err != nil {
		return err
	}
	if d.off != len(data) {
		return fmt.Errorf("processor: token: %d trailing bytes at byte %d", len(data)-d.off, d.off)
	}
	*t = tok
	return nil
}

// ParseToken decodes a token that MarshalBinary encoded.
func ParseToken(data []byte) (Token, error) {
	var t Token
	err := t.UnmarshalBinary(data)
	return t, err
}

// decoder reads varint-encoded values, remembering where it is so that an
// error can say at which byte.
type decoder struct {
	buf  []byte
	off  int
	what string // what is being decoded, for errors
}

var errShort = errors.New("input ends early")

func (d *decoder) fail(format string, args ...any) error {
	what := d.what
	if what == "" {
		what = "token"
	}
	return fmt.Errorf("processor: %s: %s at byte %d", what, fmt.Sprintf(format, args...), d.off)
}

func (d *decoder) uvarint(field string) (uint64, error) {
	v, n := binary.Uvarint(d.buf[d.off:])
	if n <= 0 {
		if n == 0 {
			return 0, d.fail("%s: %v", field, errShort)
		}
		return 0, d.fail("%s: varint overflows 64 bits", field)
	}
	if n > 1 && d.buf[d.off+n-1] == 0 {
		// One value, one encoding: tokens compare and hash as bytes.
		return 0, d.fail("%s: varint is not minimally encoded", field)
	}
	d.off += n
	return v, nil
}

func (d *decoder) byte(field string) (byte, error) {
	if d.off >= len(d.buf) {
		return 0, d.fail("%s: %v", field, errShort)
	}
	b := d.buf[d.off]
	d.off++
	return b, nil
}

func (d *decoder) bytes(field string, limit int) ([]byte, error) {
	n, err := d.uvarint(field + " length")
	if err != nil {
		return nil, err
	}
	if n > uint64(limit) {
		return nil, d.fail("%s of %d bytes, the limit is %d", field, n, limit)
	}
	if n > uint64(len(d.buf)-d.off) {
		return nil, d.fail("%s of %d bytes: %v", field, n, errShort)
	}
	b := d.buf[d.off : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

func (d *decoder) token() (Token, error) {
	v, err := d.byte("version")
	if err != nil {
		return Token{}, err
	}
	if v != tokenVersion {
		return Token{}, d.fail("unknown token version %d (this build knows %d)", v, tokenVersion)
	}
	n, err := d.uvarint("position count")
	if err != nil {
		return Token{}, err
	}
	// Each position takes at least three bytes: a count beyond that is
	// corrupt, and must not make us allocate.
	if n > uint64(len(d.buf)-d.off)/3 {
		return Token{}, d.fail("position count %d exceeds what %d remaining bytes can hold", n, len(d.buf)-d.off)
	}
	t := Token{pos: make([]Position, 0, n)}
	for i := range n {
		stream, err := d.bytes(fmt.Sprintf("position %d: stream", i), maxStreamName)
		if err != nil {
			return Token{}, err
		}
		part, err := d.uvarint(fmt.Sprintf("position %d: partition", i))
		if err != nil {
			return Token{}, err
		}
		if part > math.MaxInt32 {
			return Token{}, d.fail("position %d: partition %d out of range", i, part)
		}
		off, err := d.uvarint(fmt.Sprintf("position %d: offset", i))
		if err != nil {
			return Token{}, err
		}
		if off == 0 {
			return Token{}, d.fail("position %d: offset 0 (a token lists only partitions it has seen)", i)
		}
		p := Position{Stream: string(stream), Partition: int(part), Offset: off}
		if i > 0 && !t.pos[i-1].less(p) {
			return Token{}, d.fail("position %d (%s) is not after position %d (%s)", i, p, i-1, t.pos[i-1])
		}
		t.pos = append(t.pos, p)
	}
	return t, nil
}
