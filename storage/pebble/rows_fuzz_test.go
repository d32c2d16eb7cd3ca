package pebble

import (
	"bytes"
	"testing"
)

// The decoders read bytes from disk, so any input must give a value or an
// error, never a panic; and what the encoders write must read back the same.

func FuzzDecodeToken(f *testing.F) {
	f.Add(tokenRow{mask: 3, epoch: 7, claimedAt: 99, owner: "node-1", token: []byte("tok")}.encode())
	f.Add(tokenRow{}.encode())
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		row, err := decodeToken(data)
		if err != nil {
			return
		}
		again, err := decodeToken(row.encode())
		if err != nil || again.mask != row.mask || again.epoch != row.epoch || again.claimedAt != row.claimedAt ||
			again.owner != row.owner || !bytes.Equal(again.token, row.token) || (again.token == nil) != (row.token == nil) {
			t.Fatalf("round trip of %+v gave %+v, %v", row, again, err)
		}
	})
}

func FuzzDecodeOwner(f *testing.F) {
	f.Add(ownerRow{epoch: 2, claimedAt: 5, owner: "n"}.encode())
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, data []byte) {
		row, err := decodeOwner(data)
		if err != nil {
			return
		}
		if again, err := decodeOwner(row.encode()); err != nil || again != row {
			t.Fatalf("round trip of %+v gave %+v, %v", row, again, err)
		}
	})
}

func FuzzDecodeLogValue(f *testing.F) {
	f.Add(appendLogValue(nil, 1700000000000, []byte("record")))
	f.Add(appendLogValue(nil, 0, nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, payload, ok := decodeLogValue(data)
		if !ok {
			return
		}
		again := appendLogValue(nil, ts, payload)
		if !bytes.Equal(again, data) {
			t.Fatalf("value %x decoded to (%d, %x) which encodes to %x", data, ts, payload, again)
		}
	})
}

func FuzzDecodeHead(f *testing.F) {
	f.Add(head{last: 10, ts: 20}.encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := decodeHead(data)
		if err != nil {
			return
		}
		if !bytes.Equal(h.encode(), data) {
			t.Fatalf("head %x decoded to %+v", data, h)
		}
	})
}

// TestLogValueDetectsDamage: any single flipped bit in a stored entry is a
// checksum mismatch.
func TestLogValueDetectsDamage(t *testing.T) {
	v := appendLogValue(nil, 1700000000000, []byte("an entry of the log"))
	for i := 0; i < len(v)*8; i++ {
		d := append([]byte{}, v...)
		d[i/8] ^= 1 << (i % 8)
		if _, _, ok := decodeLogValue(d); ok {
			t.Fatalf("bit %d flipped went unnoticed", i)
		}
	}
}

func FuzzDecodeMark(f *testing.F) {
	f.Add(encodeMark([]uint64{1, 2, 3}), 3)
	f.Add(encodeMark(nil), 0)
	f.Add([]byte("EDDYMRK1"), 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > 1<<12 {
			return
		}
		marks, ok := decodeMark(data, n)
		if ok && !bytes.Equal(encodeMark(marks), data) {
			t.Fatalf("mark %x decoded to %v", data, marks)
		}
	})
}
