package storagetest

import (
	"errors"
	"fmt"
	"testing"

	"eddy/storage"
)

// closedTests check a store after Close: every call is refused with
// ErrClosed, and a tail waiting for entries ends.
var closedTests = []test{
	{"CommitAfterClose", testCommitAfterClose},
	{"EveryCallAfterClose", testEveryCallAfterClose},
	{"CloseEndsTail", testCloseEndsTail},
}

func testCommitAfterClose(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	st.mustClose(t)
	_, err := st.Append(ctx, 0, 0, record(0, 2))
	wantErr(t, "append after close", err, storage.ErrClosed)
	b := storage.NewBatch(1, 0)
	b.Put([]byte("k"), []byte("v"))
	_, err = st.Commit(ctx, b)
	wantErr(t, "state commit after close", err, storage.ErrClosed)
}

// callRecovering runs f, turning a panic into an error.
func callRecovering(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

func testEveryCallAfterClose(t *testing.T, s *suite) {
	st, _ := s.ownedStore(t)
	ctx := s.ctx(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	noErr(t, "initialize", st.Tokens().InitializeSegments(ctx, "proc", 1, nil))
	seg := claimSegment(t, st, "proc", 0, "worker")
	own := claimPartition(t, st, 1, "node")
	st.mustClose(t)

	tokens, ownership := st.Tokens(), st.Ownership()
	calls := []struct {
		name string
		call func() error
	}{
		{"Read", func() error { return st.Read(ctx, 0, 1, 0, func(storage.Entry) error { return nil }) }},
		{"Bounds", func() error { _, err := st.Bounds(ctx, 0); return err }},
		{"SeekTime", func() error { _, err := st.SeekTime(ctx, 0, clockStart); return err }},
		{"Get", func() error { _, err := st.Get(ctx, 0, []byte("k")); return err }},
		{"Scan", func() error { return st.Scan(ctx, 0, nil, func(k, v []byte) error { return nil }) }},
		{"InitializeSegments", func() error { return tokens.InitializeSegments(ctx, "other", 1, nil) }},
		{"Segments", func() error { _, err := tokens.Segments(ctx, "proc"); return err }},
		{"ClaimSegment", func() error { _, err := tokens.ClaimSegment(ctx, "proc", 0, "worker", claimTimeout); return err }},
		{"ExtendClaim", func() error { return tokens.ExtendClaim(ctx, seg.Claim()) }},
		{"StoreToken", func() error { return tokens.StoreToken(ctx, seg.Claim(), nil) }},
		{"ReleaseClaim", func() error { return tokens.ReleaseClaim(ctx, seg.Claim()) }},
		{"SplitSegment", func() error { _, err := tokens.SplitSegment(ctx, seg.Claim()); return err }},
		{"DeleteSegments", func() error { return tokens.DeleteSegments(ctx, "proc") }},
		{"ClaimPartition", func() error { _, err := ownership.ClaimPartition(ctx, 0, "node", claimTimeout); return err }},
		{"RenewPartition", func() error { return ownership.RenewPartition(ctx, own) }},
		{"ReleasePartition", func() error { return ownership.ReleasePartition(ctx, own) }},
		{"PartitionClaims", func() error { _, err := ownership.PartitionClaims(ctx); return err }},
	}
	for _, c := range calls {
		if err := callRecovering(c.call); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after close: got %v, want ErrClosed", c.name, err)
		}
	}
}

func testCloseEndsTail(t *testing.T, s *suite) {
	ctx, st := s.ctx(t), s.fresh(t)
	appendAt(t, ctx, st, 0, 1, record(0, 1))
	tail, err := st.Tail(0, 2)
	noErr(t, "tail", err)
	done := make(chan error, 1)
	go func() {
		done <- callRecovering(func() error {
			_, err := tail.Next(ctx, 10, func(storage.Entry) error { return nil })
			return err
		})
	}()
	st.mustClose(t)
	select {
	case err := <-done:
		wantErr(t, "Next waiting at the end of the log when the store closed", err, storage.ErrClosed)
	case <-ctx.Done():
		t.Fatalf("Next waiting at the end of the log did not return when the store closed")
	}
}
