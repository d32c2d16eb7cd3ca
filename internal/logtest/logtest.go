// Package logtest reads a store's logs for tests that check what an engine
// wrote, such as whether a process instance was created or has ended.
package logtest

import (
	"testing"

	"eddy/record"
	"eddy/storage"
)

// ProcessRecords counts the events of whole process instances (not of
// their elements) with intent in every partition of store.
func ProcessRecords(t testing.TB, store *storage.Store, intent record.Intent) int {
	t.Helper()
	return Records(t, store, func(r *record.Record) bool {
		return r.Kind == record.Event && r.ValueType == record.ProcessInstance && r.Intent == intent && r.Value.ElementType == "PROCESS"
	})
}

// Records counts the records that match takes in every partition of store.
func Records(t testing.TB, store *storage.Store, match func(*record.Record) bool) int {
	t.Helper()
	n := 0
	for p := range store.Partitions() {
		err := store.Read(t.Context(), p, 1, 0, func(en storage.Entry) error {
			var r record.Record
			if err := record.Unmarshal(en.Data, &r); err != nil {
				return err
			}
			if match(&r) {
				n++
			}
			return nil
		})
		if err != nil {
			t.Fatalf("reading partition %d: %v", p, err)
		}
	}
	return n
}
