package crashtest

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// An entry written by the child carries who wrote it, its sequence number
// and a checksum of its own, so that a torn or misplaced entry is caught even
// if the backend's checks missed it: <writer u32><seq u64><pad u16><pad
// bytes><crc32 of everything before>.
func encodePayload(writer uint32, seq uint64, pad int) []byte {
	b := make([]byte, 0, 14+pad+4)
	b = binary.BigEndian.AppendUint32(b, writer)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint16(b, uint16(pad))
	for i := 0; i < pad; i++ {
		b = append(b, byte(seq)+byte(i))
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

var errTorn = errors.New("entry is torn: length or checksum does not match")

func decodePayload(b []byte) (writer uint32, seq uint64, err error) {
	if len(b) < 18 {
		return 0, 0, errTorn
	}
	pad := int(binary.BigEndian.Uint16(b[12:]))
	if len(b) != 14+pad+4 || crc32.ChecksumIEEE(b[:len(b)-4]) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return 0, 0, errTorn
	}
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint64(b[4:]), nil
}

func writerKey(writer uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte("crash/writer/"), writer)
}
