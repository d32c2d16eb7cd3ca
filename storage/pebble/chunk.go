package pebble

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// The log is kept in chunks: one key per run of consecutive entries that
// were committed together, named by the run's first position. A key per
// entry made Pebble spend more on its memtable inserts, flushes and
// compactions than the engine spent on its work; a commit of a few hundred
// entries is now one key. A chunk's value is
//
//	<ts i64><crc32c u32><count uvarint>(<len uvarint><data>)*
//
// with one timestamp for all its entries (a commit stamps every entry the
// same) and one checksum over everything but itself.

// chunkHeader is the timestamp and checksum in front of a chunk's entries.
const chunkHeader = 12

// Limits of one chunk: a random read decodes at most this much to reach
// its entry. An entry bigger than maxChunkBytes gets a chunk of its own.
const (
	maxChunkEntries = 256
	maxChunkBytes   = 64 << 10
)

// appendChunk encodes entries, all stamped ts, as one chunk value.
func appendChunk(dst []byte, ts int64, entries [][]byte) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.AppendUvarint(dst, uint64(len(entries)))
	for _, e := range entries {
		dst = binary.AppendUvarint(dst, uint64(len(e)))
		dst = append(dst, e...)
	}
	v := dst[start:]
	crc := crc32.Update(crc32.Checksum(v[:8], castagnoli), castagnoli, v[chunkHeader:])
	binary.BigEndian.PutUint32(v[8:12], crc)
	return dst
}

// chunkBound is the most bytes appendChunk appends for entries.
func chunkBound(entries [][]byte) int {
	n := chunkHeader + binary.MaxVarintLen64
	for _, e := range entries {
		n += binary.MaxVarintLen64 + len(e)
	}
	return n
}

// chunkSplit returns how many of entries go into the next chunk.
func chunkSplit(entries [][]byte) int {
	size := 0
	for i, e := range entries {
		if i == maxChunkEntries || (i > 0 && size+len(e) > maxChunkBytes) {
			return i
		}
		size += len(e)
	}
	return len(entries)
}

var errChunkChecksum = errors.New("checksum mismatch")

// chunk is a decoded chunk header; entries are read with next.
type chunk struct {
	ts    int64
	count uint64
	rest  []byte
}

// decodeChunk checks a chunk's checksum and reads its header.
func decodeChunk(v []byte) (chunk, error) {
	if len(v) < chunkHeader+1 {
		return chunk{}, errors.New("chunk too short")
	}
	crc := crc32.Update(crc32.Checksum(v[:8], castagnoli), castagnoli, v[chunkHeader:])
	if crc != binary.BigEndian.Uint32(v[8:12]) {
		return chunk{}, errChunkChecksum
	}
	count, n := binary.Uvarint(v[chunkHeader:])
	if n <= 0 || count == 0 || count > uint64(len(v)) {
		return chunk{}, errors.New("bad entry count")
	}
	return chunk{ts: int64(binary.BigEndian.Uint64(v[:8])), count: count, rest: v[chunkHeader+n:]}, nil
}

// next returns the chunk's next entry. It fails on a chunk that holds
// fewer bytes than its lengths say; every entry must be read to find the
// end, so a reader that wants entry k reads the k before it.
func (c *chunk) next() ([]byte, error) {
	l, n := binary.Uvarint(c.rest)
	if n <= 0 || l > uint64(len(c.rest)-n) {
		return nil, errors.New("entry runs past the chunk's end")
	}
	e := c.rest[n : n+int(l) : n+int(l)]
	c.rest = c.rest[n+int(l):]
	return e, nil
}

// lastPosition returns the position of the chunk's last entry, checking
// that its entries fill it exactly.
func (c chunk) lastPosition(first uint64) (uint64, error) {
	for range c.count {
		if _, err := c.next(); err != nil {
			return 0, err
		}
	}
	if len(c.rest) != 0 {
		return 0, errors.New("bytes after the last entry")
	}
	return first + c.count - 1, nil
}
