package deadletter

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func sampleLetters() []Letter {
	full := letter("order-7", 12)
	full.ID = "ID1"
	full.Event.Time = time.Unix(0, 1700000000123456789)
	full.EnqueuedAt = time.Unix(0, 1700000001000000000)
	full.LastTouched = time.Unix(0, 1700000002000000000)
	full.Retries = 3
	full.Diagnostics = map[string]string{"b": "2", "a": "1"}
	epoch := Letter{ID: "x", SequenceID: "y", EnqueuedAt: time.Unix(0, 0), Event: Event{Partition: -1}}
	return []Letter{full, {}, epoch}
}

func TestLetterRoundTrip(t *testing.T) {
	for _, l := range sampleLetters() {
		enc := encodeLetter(l)
		got, err := decodeLetter(enc)
		if err != nil {
			t.Fatalf("decoding %+v: %v", l, err)
		}
		if !bytes.Equal(encodeLetter(got), enc) {
			t.Errorf("round trip changed %+v into %+v", l, got)
		}
		if got.EnqueuedAt.IsZero() != l.EnqueuedAt.IsZero() {
			t.Errorf("zero time %v came back as %v", l.EnqueuedAt, got.EnqueuedAt)
		}
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	good := encodeLetter(sampleLetters()[0])
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "letter format"},
		{"future format", append([]byte{9}, good[1:]...), "version 9"},
		{"cut short", good[:len(good)-3], "diagnostics"},
		{"trailing", append(append([]byte{}, good...), 0), "left over"},
		{"huge length", []byte{letterFormat, 0xff, 0xff, 0x7f}, "letter id: length"},
	}
	for _, tt := range tests {
		if _, err := decodeLetter(tt.data); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %q", tt.name, err, tt.want)
		}
	}
	rowTests := []struct {
		name string
		row  sequenceRow
		want string
	}{
		{"empty sequence", sequenceRow{size: 0, head: 1, next: 1}, "size 0"},
		{"too many letters", sequenceRow{size: 3, head: 1, next: 3}, "do not fit"},
	}
	for _, tt := range rowTests {
		if _, err := decodeRow(encodeRow(&tt.row)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %q", tt.name, err, tt.want)
		}
	}
}

// FuzzDecodeLetter: any bytes decode or fail, never panic, and what decodes
// encodes back to the same bytes.
func FuzzDecodeLetter(f *testing.F) {
	for _, l := range sampleLetters() {
		f.Add(encodeLetter(l))
	}
	f.Add([]byte{letterFormat})
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := decodeLetter(data)
		if err != nil {
			return
		}
		again, err := decodeLetter(encodeLetter(l))
		if err != nil {
			t.Fatalf("re-encoded letter does not decode: %v", err)
		}
		if !bytes.Equal(encodeLetter(again), encodeLetter(l)) {
			t.Fatalf("round trip is not stable for %x", data)
		}
	})
}

// FuzzDecodeRow: sequence rows and letter locations decode or fail, never
// panic.
func FuzzDecodeRow(f *testing.F) {
	f.Add(encodeRow(&sequenceRow{size: 2, head: 1, next: 5, since: time.Unix(5, 0), touched: time.Unix(6, 0), leaseOwner: "n#1", leaseUntil: time.Unix(9, 0)}))
	f.Add(location{seq: "s", order: 7}.encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := decodeRow(data); err == nil {
			if _, err := decodeRow(encodeRow(r)); err != nil {
				t.Fatalf("re-encoded row does not decode: %v", err)
			}
			if r.size < 1 || r.head >= r.next {
				t.Fatalf("accepted an impossible row %+v", r)
			}
		}
		if loc, err := decodeLocation(data); err == nil {
			if !bytes.Equal(loc.encode(), data) {
				t.Fatalf("location %+v does not encode back to %x", loc, data)
			}
		}
	})
}

func TestKeysStayApart(t *testing.T) {
	// One processor's or sequence's prefix must never cover another's keys.
	a, ab := newKeyspace("a"), newKeyspace("a/b")
	if bytes.HasPrefix(ab.letters("x"), a.all()) || bytes.HasPrefix(a.letters("x"), ab.all()) {
		t.Error("processor keyspaces overlap")
	}
	if bytes.HasPrefix(a.letter("ab", 1), a.letters("a")) {
		t.Error("sequence a's prefix covers sequence ab's letters")
	}
	if o, err := a.orderOf("ab", a.letter("ab", 258)); err != nil || o != 258 {
		t.Errorf("orderOf: %d, %v", o, err)
	}
	if s, err := a.sequenceOf(a.sequence("x/y")); err != nil || s != "x/y" {
		t.Errorf("sequenceOf: %q, %v", s, err)
	}
	if bytes.Compare(a.letter("s", 255), a.letter("s", 256)) >= 0 {
		t.Error("letter keys do not sort by order")
	}
}
