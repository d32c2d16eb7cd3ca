package engine

import (
	"encoding/json"
	"testing"
)

func TestMetaJSONAsEncodingJSON(t *testing.T) {
	cases := []meta{
		{},
		{NextKey: 1},
		{NextKey: 1<<64 - 1, Inbox: map[int]uint64{}},
		{NextKey: 42, Inbox: map[int]uint64{1: 0}},
		{NextKey: 7, Inbox: map[int]uint64{2: 9, 10: 3, 1: 18446744073709551615, 0: 5, -1: 4}},
	}
	for _, m := range cases {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got := m.appendJSON([]byte("prefix"))
		if string(got) != "prefix"+string(want) {
			t.Errorf("appendJSON = %s, want %s", got[len("prefix"):], want)
		}
		var back meta
		if err := json.Unmarshal(got[len("prefix"):], &back); err != nil || back.NextKey != m.NextKey || len(back.Inbox) != len(m.Inbox) {
			t.Errorf("%s reads back as %+v (%v)", got, back, err)
		}
	}
}

// The meta row is encoded on every step.
func BenchmarkMetaJSON(b *testing.B) {
	m := meta{NextKey: 1 << 40, Inbox: map[int]uint64{1: 123456, 2: 654321}}
	b.Run("appendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.appendJSON(make([]byte, 0, 64))
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(m)
		}
	})
}
