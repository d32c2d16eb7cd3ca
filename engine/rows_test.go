package engine

import (
	"encoding/json"
	"reflect"
	"testing"

	"eddy/record"
)

func sampleValue() record.Value {
	return record.Value{
		BpmnProcessID: "order", Version: 3, ProcessDefinitionKey: record.Key(1, 5),
		ProcessInstanceKey: record.Key(1, 9), ElementID: "pay", ElementType: "SERVICE_TASK",
		FlowScopeKey: record.Key(1, 9), ElementInstanceKey: record.Key(1, 12),
		Variables: []byte(`{"a":1}`), JobType: "payment", Retries: 3, Deadline: 1_700_000_000_000,
		CustomHeaders: []byte(`{"h":"v"}`), Element: 7, Tags: []string{"x"},
	}
}

func TestRowCodecsRoundTrip(t *testing.T) {
	v := sampleValue()
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"element, all fields", func(t *testing.T) {
			roundTripFull(t, elementCodec, &elementInstance{
				Key: 12, State: record.ElementActivated, Value: v, Active: 2,
				Joins: map[int32]int32{3: 1, 1: 2}, JobKey: 99, Interrupted: true,
				Pending: &pendingActivation{Element: 4, Variables: json.RawMessage(`{"x":true}`)},
				Loop:    5, Completed: 3, Items: json.RawMessage(`[1,2,3]`),
				Results: []json.RawMessage{json.RawMessage(`1`), nil, json.RawMessage(`null`)},
				Called:  record.Key(0, 77), IncidentKey: 31, Payload: json.RawMessage(`{"p":1}`),
				Triggered: true, Flows: []int32{0, 2},
			})
		}},
		{"element, zero", func(t *testing.T) { roundTrip(t, elementCodec, &elementInstance{}) }},
		{"job", func(t *testing.T) { roundTripFull(t, jobCodec, &job{Key: 4, State: jobActivated, Value: v}) }},
		{"incident", func(t *testing.T) { roundTripFull(t, incidentCodec, &incident{Key: 8, Value: v}) }},
		{"variables", func(t *testing.T) {
			roundTrip(t, variablesCodec, &variables{Vars: map[string]json.RawMessage{"b": json.RawMessage(`"x"`), "a": json.RawMessage(`[1]`)}})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// roundTripFull round-trips a row whose every field is set: a field added
// to the row type but not to its codec fails here instead of being lost on
// the next restart.
func roundTripFull[T any](t *testing.T, c *rowCodec[T], in *T) {
	t.Helper()
	rv := reflect.ValueOf(in).Elem()
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("the sample %T leaves field %s unset: set it, and make sure the codec carries it", *in, rv.Type().Field(i).Name)
		}
	}
	roundTrip(t, c, in)
}

func roundTrip[T any](t *testing.T, c *rowCodec[T], in *T) {
	t.Helper()
	data := c.marshal(nil, in)
	out := new(T)
	if err := c.unmarshal(data, out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the row:\n in  %+v\n out %+v", in, out)
	}
	// The same row stored as JSON by an earlier version still loads.
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	old := new(T)
	if err := c.unmarshal(js, old); err != nil {
		t.Fatalf("JSON row: %v", err)
	}
	if len(data) >= len(js) && len(js) > 40 {
		t.Errorf("binary row is %d bytes, JSON %d: the codec should be smaller", len(data), len(js))
	}
}

func TestRowCodecRejectsDamage(t *testing.T) {
	v := sampleValue()
	data := elementCodec.marshal(nil, &elementInstance{Key: 1, Value: v, Joins: map[int32]int32{1: 1}, Flows: []int32{1, 2, 3}})
	var e elementInstance
	if err := elementCodec.unmarshal([]byte{9, 1, 2}, &e); err == nil {
		t.Error("unknown format accepted")
	}
	if err := elementCodec.unmarshal(nil, &e); err == nil {
		t.Error("empty row accepted")
	}
	// A row cut inside its value must not load as a shorter, valid row.
	if err := elementCodec.unmarshal(data[:20], &e); err == nil {
		t.Error("row cut inside its value accepted")
	}
}

// TestTableSkipsWritesOfShortLivedRows: a row created and deleted between
// two flushes writes nothing; a stored row deleted writes a tombstone.
func TestTableSkipsWritesOfShortLivedRows(t *testing.T) {
	tb := newTable('j', jobCodec)
	var w writeSet
	tb.put(1, &job{Key: 1})
	tb.del(1)
	tb.flush(&w)
	if len(w.keys) != 0 {
		t.Fatalf("a row created and deleted before a flush wrote %d entries", len(w.keys))
	}
	tb.put(2, &job{Key: 2})
	tb.flush(&w)
	if len(w.keys) != 1 || w.values[0] == nil {
		t.Fatalf("new row: %d writes", len(w.keys))
	}
	w.reset()
	tb.touch(2)
	tb.del(2)
	tb.put(2, &job{Key: 2, State: jobActivated})
	tb.del(2)
	tb.flush(&w)
	if len(w.keys) != 1 || w.values[0] != nil {
		t.Fatalf("stored row deleted: want one tombstone, got %d writes (%v)", len(w.keys), w.values)
	}
}

func FuzzRowDecode(f *testing.F) {
	v := sampleValue()
	f.Add(elementCodec.marshal(nil, &elementInstance{Key: 1, Value: v, Joins: map[int32]int32{1: 1}, Results: []json.RawMessage{nil}}))
	f.Add(jobCodec.marshal(nil, &job{Key: 1, Value: v}))
	f.Add(variablesCodec.marshal(nil, &variables{Vars: map[string]json.RawMessage{"a": json.RawMessage(`1`)}}))
	f.Add([]byte(`{"Key":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e elementInstance
		if elementCodec.unmarshal(data, &e) == nil && len(data) > 0 && data[0] == rowFormatV1 {
			// What decodes must encode and decode to the same row.
			var again elementInstance
			if err := elementCodec.unmarshal(elementCodec.marshal(nil, &e), &again); err != nil {
				t.Fatalf("re-decoding a decoded row: %v", err)
			}
		}
		var j job
		_ = jobCodec.unmarshal(data, &j)
		var vs variables
		_ = variablesCodec.unmarshal(data, &vs)
	})
}
