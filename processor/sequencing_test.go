package processor

import "testing"

type order struct{ customer string }

func TestSequencingPolicies(t *testing.T) {
	e := &Event{Key: "k1", Metadata: map[string]string{"tenant": "acme"}, Data: []byte(`{"order":"o-7","n":3}`), Value: order{customer: "c-9"}}
	bare := &Event{Key: "k2", Data: []byte("not json")}
	tests := []struct {
		name   string
		policy SequencingPolicy
		e      *Event
		want   string
	}{
		{"per key", PerKey(), e, "k1"},
		{"full concurrency", FullConcurrency(), e, ""},
		{"sequential", Sequential(), e, Sequential()(bare)},
		{"metadata", ByMetadata("tenant"), e, "acme"},
		{"metadata missing", ByMetadata("tenant"), bare, ""},
		{"property", ByProperty(func(o order) string { return o.customer }), e, "c-9"},
		{"property of another type falls back to the key", ByProperty(func(o order) string { return o.customer }), bare, "k2"},
		{"json string field", ByJSONField("order"), e, "o-7"},
		{"json number field", ByJSONField("n"), e, "3"},
		{"json missing field falls back to the key", ByJSONField("x"), e, "k1"},
		{"not json falls back to the key", ByJSONField("order"), bare, "k2"},
		{"custom", func(e *Event) string { return e.Key + "!" }, e, "k1!"},
	}
	for _, tc := range tests {
		if got := tc.policy(tc.e); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Events of no sequence spread over segments; events of one sequence stay on
// one segment.
func TestSequenceHashSpread(t *testing.T) {
	const segments = 16
	var counts [segments]int
	for i := range 16000 {
		counts[sequenceHash("", Position{Partition: i % 3, Offset: uint64(i/3 + 1)})%segments]++
	}
	for s, n := range counts {
		if n < 700 || n > 1300 {
			t.Errorf("segment %d got %d of 16000 position-hashed events, want about 1000", s, n)
		}
	}
	h := sequenceHash("order-1", Position{Offset: 1})
	if sequenceHash("order-1", Position{Partition: 2, Offset: 99}) != h {
		t.Errorf("one sequence id hashed differently at two positions")
	}
}
