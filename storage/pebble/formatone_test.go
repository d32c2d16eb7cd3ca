package pebble

import (
	"encoding/binary"
	"hash/crc32"
)

// appendLogValue encodes a format-1 entry, as the migration reads them.
func appendLogValue(dst []byte, ts int64, data []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	crc := crc32.Update(crc32.Checksum(dst[len(dst)-8:], castagnoli), castagnoli, data)
	dst = binary.BigEndian.AppendUint32(dst, crc)
	return append(dst, data...)
}
