package killtest

import (
	"context"
	"fmt"
	"testing"

	"eddy/record"
	"eddy/storage"
	_ "eddy/storage/pebble"
	_ "eddy/storage/postgres"
)

// checkLogs opens the store the stopped eddy left and checks that every
// partition's log is gapless from position 1, holds only records that
// decode, ends where its bounds say, and has a record of every instance the
// ledger knows: the kills left neither a hole nor a torn entry, and
// positions went on from where each restart found them.
func checkLogs(ctx context.Context, t *testing.T, backend, location string, instances []instance) {
	t.Helper()
	store, err := storage.Open(ctx, backend, location)
	if err != nil {
		t.Fatalf("opening the store eddy left: %v", err)
	}
	defer store.Close()
	seen := map[int64]bool{}
	total := 0
	for p := 0; p < store.Partitions(); p++ {
		want := uint64(1)
		var r record.Record
		err := store.Read(ctx, p, 1, 0, func(e storage.Entry) error {
			if e.Position != want {
				return fmt.Errorf("position %d follows %d: the log has a gap", e.Position, want-1)
			}
			want++
			if err := record.Unmarshal(e.Data, &r); err != nil {
				return fmt.Errorf("position %d does not decode: %v", e.Position, err)
			}
			if r.ValueType == record.ProcessInstance {
				seen[r.Key] = true
			}
			return nil
		})
		if err != nil {
			t.Fatalf("partition %d: %v", p, err)
		}
		b, err := store.Bounds(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if b.Last != want-1 {
			t.Errorf("partition %d: bounds end at %d, the log read ends at %d", p, b.Last, want-1)
		}
		total += int(want - 1)
	}
	missing := 0
	for _, in := range instances {
		if !seen[int64(in.key)] {
			if missing < 8 {
				t.Errorf("process instance %d has no record in the log", in.key)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d process instances have no record in the log", missing)
	}
	t.Logf("%d records on %d partitions, gapless", total, store.Partitions())
}
