package pebble

import (
	"encoding/binary"
	"hash/crc32"
)

// Key layout, one byte of kind first so that kinds never interleave:
//
//	m<name>                        meta (partition count, format)
//	l<partition u16><position u64> log chunk from position on (chunk.go)
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
// newer layout is refused rather than misread, one written by an older
// layout is brought up to date when opened (migrate.go).
const formatVersion = 2

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func partitionKey(kind byte, p int) []byte {
	return []byte{kind, byte(p >> 8), byte(p)}
}

func appendLogKey(dst []byte, p int, pos uint64) []byte {
	dst = append(dst, kindLog, byte(p>>8), byte(p))
	return binary.BigEndian.AppendUint64(dst, pos)
}

func logKeyPosition(k []byte) uint64 { return binary.BigEndian.Uint64(k[3:]) }

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
