package storage

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Splitting then merging gives the segment back, and the halves of a split
// cover exactly the hashes of the whole.
func TestSplitAndMergeAreInverse(t *testing.T) {
	for _, tc := range []struct{ id, mask int }{{0, 0}, {0, 1}, {1, 1}, {2, 3}, {5, 7}, {13, 15}} {
		keep, sibling, mask := SplitIDs(tc.id, tc.mask)
		for _, half := range []int{keep, sibling} {
			other, merged, ok := MergeSibling(half, mask)
			if !ok || merged != tc.mask || min(half, other) != tc.id || max(half, other) != max(keep, sibling) {
				t.Fatalf("split (%d, %d) into %d/%d mask %d; merging %d gives sibling %d mask %d ok %v",
					tc.id, tc.mask, keep, sibling, mask, half, other, merged, ok)
			}
		}
		whole := Segment{ID: tc.id, Mask: tc.mask}
		a, b := Segment{ID: keep, Mask: mask}, Segment{ID: sibling, Mask: mask}
		for h := uint32(0); h < 256; h++ {
			if whole.Matches(h) != (a.Matches(h) || b.Matches(h)) || (a.Matches(h) && b.Matches(h)) {
				t.Fatalf("hash %d: whole %v, halves %v %v", h, whole.Matches(h), a.Matches(h), b.Matches(h))
			}
		}
	}
	if _, _, ok := MergeSibling(0, 0); ok {
		t.Fatal("the whole segment has no sibling")
	}
}

func TestClaimable(t *testing.T) {
	at := time.Unix(1000, 0)
	for _, tc := range []struct {
		name    string
		current string
		since   time.Duration
		want    bool
	}{
		{"unclaimed", "", 0, true},
		{"own claim", "me", 0, true},
		{"fresh claim of another", "other", 9 * time.Second, false},
		{"claim of another at the timeout", "other", 10 * time.Second, true},
		{"stale claim of another", "other", time.Minute, true},
	} {
		if got := Claimable(tc.current, at, "me", at.Add(tc.since), 10*time.Second); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBatchValidationSaysWhatAndWhere(t *testing.T) {
	big := make([]byte, MaxEntrySize+1)
	for _, tc := range []struct {
		name  string
		batch func() *Batch
		want  string
	}{
		{"partition out of range", func() *Batch { return NewBatch(3, 0) }, "partition 3 out of range [0, 3)"},
		{"negative partition", func() *Batch { return NewBatch(-1, 0) }, "partition -1"},
		{"oversized entry", func() *Batch { b := NewBatch(1, 0); b.Append(nil, big); return b }, "entry 1 of the batch"},
		{"empty key", func() *Batch { b := NewBatch(2, 0); b.Put([]byte("k"), nil); b.Delete(nil); return b }, "state write 1 of the batch has an empty key"},
		{"claim without owner", func() *Batch { b := NewBatch(0, 0); b.SaveToken(Claim{Processor: "p"}, nil); return b }, "token write 0 of the batch: claim on p/0 has no owner"},
	} {
		err := tc.batch().validate(3)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrInvalid saying %q", tc.name, err, tc.want)
		}
	}
	ok := NewBatch(2, 7)
	ok.Append([]byte("x"))
	if err := ok.validate(3); err != nil {
		t.Fatalf("valid batch refused: %v", err)
	}
}

// A Notify wakes every waiter once; a waiter that arrives later waits for
// the next Notify.
func TestSignal(t *testing.T) {
	var s Signal
	s.Notify() // nobody waits: nothing to do
	a, b := s.Wait(), s.Wait()
	select {
	case <-a:
		t.Fatal("woken before Notify")
	default:
	}
	s.Notify()
	<-a
	<-b
	c := s.Wait()
	select {
	case <-c:
		t.Fatal("a later waiter was woken by an earlier Notify")
	default:
	}
}
