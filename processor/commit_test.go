package processor

import (
	"context"
	"testing"
	"time"

	"eddy/storage"
)

// TestCommitAfterAnotherReadTheNewEpoch: the state partition changes owner
// while several work packages have batches to commit. The first one refused
// reads the new epoch for all; a batch built under the old epoch and refused
// after that is committed again under the new one, not taken for a lost
// claim (which would hand the segment and its uncommitted events to be
// delivered again).
func TestCommitAfterAnotherReadTheNewEpoch(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(ctx, "pebble", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := New("proc", st, NewMemorySource(1, nil), HandlerFunc(func(context.Context, Delivery) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.refreshEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	old := p.epoch.Load()
	// Another node's claim of the state partition fences the old epoch.
	claim, err := st.Ownership().ClaimPartition(ctx, p.o.statePartition, "another", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if claim.Epoch == old {
		t.Fatalf("claiming the partition kept epoch %d", old)
	}
	// Between the refusal and this commit's read, a second work package's
	// commit was refused too and read the new epoch.
	p.fencedHook = func() {
		if _, err := p.refreshEpoch(ctx); err != nil {
			t.Error(err)
		}
	}
	tx := newTx(st, p.o.statePartition)
	tx.Put([]byte("k"), []byte("v"))
	if err := p.commit(ctx, &tx); err != nil {
		t.Fatalf("committing after the owner changed: %v, want the batch committed under epoch %d", err, claim.Epoch)
	}
	if v, err := st.Get(ctx, p.o.statePartition, []byte("k")); err != nil || string(v) != "v" {
		t.Fatalf("the committed write reads %q, %v", v, err)
	}
}
