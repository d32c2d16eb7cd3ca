package pebble

import (
	"encoding/binary"
	"hash/crc32"
)

// Key layout, one byte of kind first so that kinds never interleave:
//
//	m<name>                        meta (partition count, format)
//	l<partition u16><position u64> log entry: <ts i64><crc32c u32><data>
//	h<partition u16>               head: <last position u64><last ts i64>
//	s<partition u16><key>          state
//	o<partition u16>               ownership: <epoch u64><claimed ns i64><owner>
//	t<len u16><processor><seg u32> token: see tokenRow
//
// Big-endian integers keep keys in numeric order.
const (
	kindMeta  = 'm'
	kindLog   = 'l'
	kindHead  = 'h'
	kindState = 's'
	kindOwner = 'o'
	kindToken = 't'
)

var (
	metaPartitions = []byte("mpartitions")
	metaFormat     = []byte("mformat")
)

// formatVersion is the on-disk layout version; a directory written by a
// newer layout is refused rather than misread.
const formatVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func partitionKey(kind byte, p int) []byte {
	return []byte{kind, byte(p >> 8), byte(p)}
}

func appendLogKey(dst []byte, p int, pos uint64) []byte {
	dst = append(dst, kindLog, byte(p>>8), byte(p))
	return binary.BigEndian.AppendUint64(dst, pos)
}

func logKeyPosition(k []byte) uint64 { return binary.BigEndian.Uint64(k[3:]) }

// logValueHeader is the timestamp and checksum in front of an entry's data.
const logValueHeader = 12

func appendLogValue(dst []byte, ts int64, data []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	crc := crc32.Update(crc32.Checksum(dst[len(dst)-8:], castagnoli), castagnoli, data)
	dst = binary.BigEndian.AppendUint32(dst, crc)
	return append(dst, data...)
}

// decodeLogValue returns the timestamp and data, or ok=false when the
// checksum does not match (a torn or rotten entry).
func decodeLogValue(v []byte) (ts int64, data []byte, ok bool) {
	if len(v) < logValueHeader {
		return 0, nil, false
	}
	crc := crc32.Update(crc32.Checksum(v[:8], castagnoli), castagnoli, v[logValueHeader:])
	if crc != binary.BigEndian.Uint32(v[8:12]) {
		return 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(v[:8])), v[logValueHeader:], true
}

func appendStateKey(dst []byte, p int, key []byte) []byte {
	dst = append(dst, kindState, byte(p>>8), byte(p))
	return append(dst, key...)
}

func tokenPrefix(processor string) []byte {
	k := make([]byte, 0, 3+len(processor)+4)
	k = append(k, kindToken, byte(len(processor)>>8), byte(len(processor)))
	return append(k, processor...)
}

func tokenKey(processor string, segment int) []byte {
	return binary.BigEndian.AppendUint32(tokenPrefix(processor), uint32(segment))
}
