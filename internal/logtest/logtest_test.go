package logtest

import (
	"context"
	"testing"
	"time"

	"eddy/record"
	"eddy/storage"
	_ "eddy/storage/pebble"
)

// TestProcessRecords counts the whole instances' events of an intent, in
// every partition, and not their elements' nor commands.
func TestProcessRecords(t *testing.T) {
	store, err := storage.Open(t.Context(), "pebble", t.TempDir(), storage.WithPartitions(2))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	process := record.Value{ElementType: "PROCESS"}
	records := map[int][]record.Record{
		0: {
			{Kind: record.Event, ValueType: record.ProcessInstance, Intent: record.ElementActivated, Value: process},
			{Kind: record.Event, ValueType: record.ProcessInstance, Intent: record.ElementActivated, Value: record.Value{ElementType: "SERVICE_TASK"}},
			{Kind: record.Command, ValueType: record.ProcessInstance, Intent: record.ElementActivated, Value: process},
		},
		1: {
			{Kind: record.Event, ValueType: record.ProcessInstance, Intent: record.ElementActivated, Value: process},
			{Kind: record.Event, ValueType: record.ProcessInstance, Intent: record.ElementCompleted, Value: process},
		},
	}
	for p, rs := range records {
		claim, err := store.Ownership().ClaimPartition(context.Background(), p, "logtest", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rs {
			if _, err := store.Append(t.Context(), p, claim.Epoch, record.Append(nil, &rs[i])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := ProcessRecords(t, store, record.ElementActivated); n != 2 {
		t.Fatalf("%d activations of instances, want 2", n)
	}
	if n := ProcessRecords(t, store, record.ElementCompleted); n != 1 {
		t.Fatalf("%d ends of instances, want 1", n)
	}
}
