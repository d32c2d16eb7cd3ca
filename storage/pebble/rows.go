package pebble

import (
	"encoding/binary"
	"errors"
	"time"

	"eddy/storage"
)

var errShortRow = errors.New("row too short")

// head is a partition's last position and append time, written with every
// batch that appends to it; Open checks it against the last log key.
type head struct {
	last uint64
	ts   int64
}

func (h head) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), h.last)
	return binary.BigEndian.AppendUint64(b, uint64(h.ts))
}

func decodeHead(v []byte) (head, error) {
	if len(v) != 16 {
		return head{}, errShortRow
	}
	return head{last: binary.BigEndian.Uint64(v), ts: int64(binary.BigEndian.Uint64(v[8:]))}, nil
}

// ownerRow is a partition's ownership.
type ownerRow struct {
	epoch     uint64
	claimedAt int64
	owner     string
}

func (r ownerRow) encode() []byte {
	b := make([]byte, 0, 16+len(r.owner))
	b = binary.BigEndian.AppendUint64(b, r.epoch)
	b = binary.BigEndian.AppendUint64(b, uint64(r.claimedAt))
	return append(b, r.owner...)
}

func decodeOwner(v []byte) (ownerRow, error) {
	if len(v) < 16 {
		return ownerRow{}, errShortRow
	}
	return ownerRow{
		epoch:     binary.BigEndian.Uint64(v),
		claimedAt: int64(binary.BigEndian.Uint64(v[8:])),
		owner:     string(v[16:]),
	}, nil
}

func (r ownerRow) claim(p int) storage.PartitionClaim {
	c := storage.PartitionClaim{Partition: p, Owner: r.owner, Epoch: r.epoch}
	if r.owner != "" {
		c.ClaimedAt = time.Unix(0, r.claimedAt)
	}
	return c
}

// tokenRow is one segment: <mask u32><epoch u64><claimed ns i64>
// <owner len u16><owner><has token u8><token>.
type tokenRow struct {
	mask      int
	epoch     uint64
	claimedAt int64
	owner     string
	token     []byte
}

func (r tokenRow) encode() []byte {
	b := make([]byte, 0, 23+len(r.owner)+len(r.token))
	b = binary.BigEndian.AppendUint32(b, uint32(r.mask))
	b = binary.BigEndian.AppendUint64(b, r.epoch)
	b = binary.BigEndian.AppendUint64(b, uint64(r.claimedAt))
	b = binary.BigEndian.AppendUint16(b, uint16(len(r.owner)))
	b = append(b, r.owner...)
	if r.token == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	return append(b, r.token...)
}

func decodeToken(v []byte) (tokenRow, error) {
	if len(v) < 23 {
		return tokenRow{}, errShortRow
	}
	r := tokenRow{
		mask:      int(binary.BigEndian.Uint32(v)),
		epoch:     binary.BigEndian.Uint64(v[4:]),
		claimedAt: int64(binary.BigEndian.Uint64(v[12:])),
	}
	n := int(binary.BigEndian.Uint16(v[20:]))
	if len(v) < 22+n+1 {
		return tokenRow{}, errShortRow
	}
	r.owner = string(v[22 : 22+n])
	if v[22+n] == 1 {
		r.token = append([]byte{}, v[23+n:]...)
	}
	return r, nil
}

func (r tokenRow) segment(processor string, id int) storage.Segment {
	s := storage.Segment{Processor: processor, ID: id, Mask: r.mask, Token: r.token, Owner: r.owner, Epoch: r.epoch}
	if r.owner != "" {
		s.ClaimedAt = time.Unix(0, r.claimedAt)
	}
	return s
}
