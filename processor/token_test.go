package processor

import (
	"bytes"
	"strings"
	"testing"
)

func pos(partition int, offset uint64) Position {
	return Position{Partition: partition, Offset: offset}
}

func TestTokenCovers(t *testing.T) {
	tok := NewToken(pos(0, 5), pos(2, 1), Position{Stream: "orders", Partition: 0, Offset: 9})
	tests := []struct {
		p    Position
		want bool
	}{
		{pos(0, 5), true},
		{pos(0, 4), true},
		{pos(0, 6), false},
		{pos(1, 1), false}, // a partition the token does not name is at 0
		{pos(1, 0), true},
		{pos(2, 1), true},
		{pos(2, 2), false},
		{Position{Stream: "orders", Offset: 9}, true},
		{Position{Stream: "orders", Offset: 10}, false},
		{Position{Stream: "other", Offset: 1}, false},
	}
	for _, tc := range tests {
		if got := tok.Covers(tc.p); got != tc.want {
			t.Errorf("%s.Covers(%s) = %v, want %v", tok, tc.p, got, tc.want)
		}
	}
}

func TestTokenAlgebra(t *testing.T) {
	a := NewToken(pos(0, 5), pos(1, 2))
	b := NewToken(pos(0, 3), pos(2, 7))
	tests := []struct {
		name string
		got  Token
		want Token
	}{
		{"upper", a.Upper(b), NewToken(pos(0, 5), pos(1, 2), pos(2, 7))},
		{"lower", a.Lower(b), NewToken(pos(0, 3))},
		{"with higher", a.With(pos(1, 9)), NewToken(pos(0, 5), pos(1, 9))},
		{"with lower", a.With(pos(0, 1)), NewToken(pos(0, 1), pos(1, 2))},
		{"with zero drops", a.With(pos(0, 0)), NewToken(pos(1, 2))},
		{"with new partition", a.With(pos(3, 1)), NewToken(pos(0, 5), pos(1, 2), pos(3, 1))},
		{"new token keeps the max", NewToken(pos(0, 2), pos(0, 8), pos(0, 4)), NewToken(pos(0, 8))},
	}
	for _, tc := range tests {
		if !tc.got.Equal(tc.want) {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
	if !a.Equal(NewToken(pos(0, 5), pos(1, 2))) {
		t.Errorf("operations changed their receiver: %s", a)
	}
	if !a.Upper(b).CoversToken(a) || !a.Upper(b).CoversToken(b) {
		t.Errorf("upper %s does not cover both %s and %s", a.Upper(b), a, b)
	}
	if a.CoversToken(b) || b.CoversToken(a) {
		t.Errorf("%s and %s are incomparable, yet one covers the other", a, b)
	}
	if got := b.Behind(NewToken(pos(0, 10), pos(1, 4), pos(2, 7))); got != 7+4 {
		t.Errorf("%s behind head: %d, want 11", b, got)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	tokens := []Token{
		{},
		NewToken(pos(0, 1)),
		NewToken(pos(0, 1<<40), pos(4095, 3), Position{Stream: "kafka/topic", Partition: 12, Offset: 99}),
	}
	for _, tok := range tokens {
		b, _ := tok.MarshalBinary()
		got, err := ParseToken(b)
		if err != nil {
			t.Fatalf("parse %s: %v", tok, err)
		}
		if !got.Equal(tok) {
			t.Errorf("round trip of %s gave %s", tok, got)
		}
	}
}

func TestTokenParseErrors(t *testing.T) {
	valid, _ := NewToken(pos(0, 5), pos(1, 2)).MarshalBinary()
	named, _ := NewToken(Position{Stream: "abcd", Offset: 5}).MarshalBinary()
	tests := []struct {
		name  string
		data  []byte
		wants string
	}{
		{"empty", nil, "version: input ends early at byte 0"},
		{"bad version", []byte{9, 0}, "unknown token version 9"},
		{"truncated", named[:len(named)-1], "position 0: offset: input ends early at byte 8"},
		{"count beyond the input", valid[:len(valid)-1], "position count 2 exceeds what 5 remaining bytes can hold"},
		{"trailing", append(bytes.Clone(valid), 0), "1 trailing bytes"},
		{"huge count", []byte{1, 0xff, 0xff, 0x03}, "position count 65535 exceeds"},
		{"zero offset", []byte{1, 1, 0, 0, 0}, "offset 0"},
		{"unsorted", []byte{1, 2, 0, 1, 1, 0, 0, 1}, "is not after position 0"},
	}
	for _, tc := range tests {
		_, err := ParseToken(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.wants) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wants)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	for _, tok := range []Token{{}, NewToken(pos(0, 5), pos(1, 2)), NewToken(Position{Stream: "a", Offset: 1})} {
		b, _ := tok.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{1, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseToken(data)
		if err != nil {
			return
		}
		// What parses must encode back to the same bytes.
		again, _ := tok.MarshalBinary()
		if !bytes.Equal(again, data) {
			t.Fatalf("%x parsed to %s, which encodes to %x", data, tok, again)
		}
	})
}
