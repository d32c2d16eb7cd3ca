package broker

import (
	"errors"
	"testing"

	"eddy/cloudevents"
	"eddy/processor"
	"eddy/record"
	"eddy/storage"
)

// TestDecodeForWaits: only events that name a process instance reach the
// waits; the others are left out of the stream, undecoded.
func TestDecodeForWaits(t *testing.T) {
	entry := func(e cloudevents.Event) storage.Entry {
		r := record.Record{Kind: record.Event, ValueType: record.CloudEvent, Intent: record.Published, Key: 7,
			Value: record.Value{Event: cloudevents.Marshal(&e)}}
		return storage.Entry{Position: 3, Data: record.Append(nil, &r)}
	}
	plain := event("order.placed", "1")
	waited := event("order.placed", "2", ExtProcessInstanceKey, "42")
	// A data payload that spells the name is not an extension: decoded,
	// found without one, and passed over by the handler.
	spelled := event("order.placed", "3")
	spelled.Data = []byte(`{"note":"processinstancekey"}`)
	for name, tc := range map[string]struct {
		e    cloudevents.Event
		want bool
	}{"plain": {plain, false}, "waited": {waited, true}, "spelled in data": {spelled, true}} {
		t.Run(name, func(t *testing.T) {
			ev, err := decodeForWaits(0, entry(tc.e))
			if !tc.want {
				if !errors.Is(err, processor.ErrSkipEntry) {
					t.Fatalf("got %v, %v; want the entry left out", ev, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, ok := ev.Value.(*cloudevents.Event)
			if ok != tc.want {
				t.Fatalf("decoded %v, want %v", ok, tc.want)
			}
			if ok && got.ID != tc.e.ID {
				t.Fatalf("decoded id %q, want %q", got.ID, tc.e.ID)
			}
		})
	}
}
