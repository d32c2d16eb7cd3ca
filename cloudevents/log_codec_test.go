package cloudevents

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func fullEvent() Event {
	e := Event{
		ID: "id-1", Source: "https://eddy.test/queue", SpecVersion: "1.0", Type: "Queue.CustomerJoined",
		DataContentType: "application/json", DataSchema: "https://eddy.test/schema", Subject: "customer 42",
		Time: "2024-05-01T12:00:00.123Z", Data: []byte(`{"customer":"42"}`),
	}
	e.SetExtension("correlationkey", StringValue("42"))
	e.SetExtension("sampledrate", IntegerValue(3))
	e.SetExtension("flag", BooleanValue(true))
	e.SetExtension("blob", BinaryValue([]byte{1, 2}))
	e.SetExtension("when", Value{TypeTimestamp, "2024-05-01T12:00:00Z"})
	e.SetExtension("ref", Value{TypeURIRef, "/x"})
	e.SetExtension("schema", Value{TypeURI, "urn:x"})
	return e
}

func TestLogCodecRoundTrip(t *testing.T) {
	empty := validEvent()
	empty.Data = []byte{}
	for name, e := range map[string]Event{
		"minimal":    validEvent(),
		"full":       fullEvent(),
		"empty data": empty,
		"zero":       {},
		"big data":   {ID: "x", Data: bytes.Repeat([]byte{0xab}, 70000)},
	} {
		b := Marshal(&e)
		var got Event
		if err := Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(e.Extensions) == 0 {
			e.Extensions = nil
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("%s: got %+v, want %+v", name, got, e)
		}
		if again := Marshal(&got); !bytes.Equal(again, b) {
			t.Fatalf("%s: encoding not canonical", name)
		}
		// The decoded event shares no memory with the buffer.
		for i := range b {
			b[i] = 0
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("%s: decoded event changed with the buffer", name)
		}
	}
}

func TestLogCodecCorrupt(t *testing.T) {
	e := fullEvent()
	good := Marshal(&e)
	// Every truncation is an error.
	for n := 0; n < len(good); n++ {
		var got Event
		if err := Unmarshal(good[:n], &got); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: %v", n, err)
		}
	}
	minimal := validEvent()
	m := Marshal(&minimal) // 1, 8 strings, 0 extensions, 0 data
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte{}, m...)) }
	twoExt := func(a, b string) []byte {
		e := validEvent()
		e.Extensions = []Extension{{a, StringValue("1")}, {b, StringValue("2")}}
		return Append(nil, &e)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"format", mutate(func(b []byte) []byte { b[0] = 2; return b }), "unknown format"},
		{"trailing byte", append(append([]byte{}, m...), 0), "bytes after the event"},
		{"data flag", mutate(func(b []byte) []byte { b[len(b)-1] = 2; return b }), "bad data flag"},
		{"data too long", mutate(func(b []byte) []byte { b[len(b)-1] = 1; return append(b, 5, 'a') }), "past the end"},
		{"non-minimal varint", mutate(func(b []byte) []byte {
			// The specversion length 3 written as 0x83 0x00.
			return append([]byte{b[0], 0x83, 0x00}, b[2:]...)
		}), "non-minimal"},
		{"extensions out of order", twoExt("b", "a"), "out of order"},
		{"duplicate extension", twoExt("a", "a"), "out of order"},
		{"unknown type", func() []byte {
			e := validEvent()
			e.Extensions = []Extension{{"a", Value{Type: 9, Text: "x"}}}
			return Append(nil, &e)
		}(), "unknown value type 9"},
		{"huge extension count", mutate(func(b []byte) []byte {
			return append(b[:len(b)-2], 0xff, 0xff, 0xff, 0xff, 0x0f, 0)
		}), "extension count"},
	} {
		var got Event
		err := Unmarshal(tc.b, &got)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
