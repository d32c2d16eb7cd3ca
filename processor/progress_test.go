package processor

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressRoundTrip(t *testing.T) {
	tests := []progress{
		newProgress(Token{}),
		newProgress(NewToken(pos(0, 3), pos(1, 8))),
		{cursors: []cursor{{pos: NewToken(pos(0, 3)), replay: &replay{until: NewToken(pos(0, 10)), context: []byte("why")}}}},
		{cursors: []cursor{{pos: NewToken(pos(0, 3))}, {pos: NewToken(pos(0, 7)), replay: &replay{until: NewToken(pos(0, 9))}}}},
	}
	for _, p := range tests {
		got, err := decodeProgress(p.encode())
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(got.encode(), p.encode()) {
			t.Errorf("round trip changed the progress: %x became %x", p.encode(), got.encode())
		}
	}
	if got, err := decodeProgress(nil); err != nil || !got.position().IsZero() {
		t.Errorf("nil token: %v, %v; want the tail", got.position(), err)
	}
}

func TestProgressDecodeErrors(t *testing.T) {
	one := newProgress(NewToken(pos(0, 3))).encode()
	tests := []struct {
		name  string
		data  []byte
		wants string
	}{
		{"bad version", []byte{7}, "unknown segment token version 7"},
		{"three cursors", []byte{1, 3}, "3 cursors"},
		{"bad flag", append(bytes.Clone(one[:len(one)-1]), 5), "replay flag 5"},
		{"trailing", append(bytes.Clone(one), 0), "trailing"},
		{"truncated", one[:3], "input ends early"},
	}
	for _, tc := range tests {
		_, err := decodeProgress(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.wants) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wants)
		}
	}
}

func TestProgressSettle(t *testing.T) {
	tests := []struct {
		name                 string
		p                    progress
		cursors              int
		replaying, collapsed bool
	}{
		{"replay passed drops", progress{cursors: []cursor{{pos: NewToken(pos(0, 10)), replay: &replay{until: NewToken(pos(0, 10))}}}}, 1, false, false},
		{"replay ahead stays", progress{cursors: []cursor{{pos: NewToken(pos(0, 9)), replay: &replay{until: NewToken(pos(0, 10))}}}}, 1, true, false},
		{"halves meet", progress{cursors: []cursor{{pos: NewToken(pos(0, 4))}, {pos: NewToken(pos(0, 4))}}}, 1, false, true},
		{"halves apart", progress{cursors: []cursor{{pos: NewToken(pos(0, 4))}, {pos: NewToken(pos(0, 6))}}}, 2, false, false},
		{"halves meet but replay differs", progress{cursors: []cursor{{pos: NewToken(pos(0, 4))}, {pos: NewToken(pos(0, 4)), replay: &replay{until: NewToken(pos(0, 6))}}}}, 2, true, false},
	}
	for _, tc := range tests {
		tc.p.settle()
		if len(tc.p.cursors) != tc.cursors || tc.p.replaying() != tc.replaying {
			t.Errorf("%s: %d cursors, replaying %v; want %d, %v", tc.name, len(tc.p.cursors), tc.p.replaying(), tc.cursors, tc.replaying)
		}
	}
}

func TestResetProgress(t *testing.T) {
	at := newProgress(NewToken(pos(0, 10), pos(1, 4)))
	back := resetProgress(at, Token{}, []byte("ctx"))
	if !back.replaying() || !back.cursors[0].replay.until.Equal(at.reached()) || string(back.cursors[0].replay.context) != "ctx" {
		t.Errorf("reset to the tail from %s: %+v, want replaying up to it", at.reached(), back.cursors[0])
	}
	forward := resetProgress(at, NewToken(pos(0, 20), pos(1, 4)), nil)
	if forward.replaying() {
		t.Errorf("reset forward past the reached point is replaying: %+v", forward.cursors[0])
	}
	// A reset during a replay replays up to the furthest point seen.
	again := resetProgress(progress{cursors: []cursor{{pos: NewToken(pos(0, 2)), replay: &replay{until: NewToken(pos(0, 10))}}}}, Token{}, nil)
	if !again.cursors[0].replay.until.Equal(NewToken(pos(0, 10))) {
		t.Errorf("reset during a replay replays up to %s, want [0@10]", again.cursors[0].replay.until)
	}
}

func FuzzDecodeProgress(f *testing.F) {
	f.Add(newProgress(NewToken(pos(0, 3))).encode())
	f.Add(progress{cursors: []cursor{{pos: NewToken(pos(0, 3))}, {pos: NewToken(pos(0, 7)), replay: &replay{until: NewToken(pos(0, 9)), context: []byte("c")}}}}.encode())
	f.Add([]byte{1, 2, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodeProgress(data)
		if err != nil || len(data) == 0 {
			return
		}
		if again := p.encode(); !bytes.Equal(again, data) {
			t.Fatalf("%x decoded and encoded back to %x", data, again)
		}
	})
}
