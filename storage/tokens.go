package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Segment is one row of the token store: a streaming processor's position in
// one segment of the event stream, and who holds the claim on it.
//
// Segments follow Axon's scheme: an event whose sequence hash h satisfies
// h&Mask == ID belongs to segment ID. A processor starts with 2^k segments
// with mask 2^k-1; splitting segment (ID, M) gives (ID, 2M+1) and
// (ID+M+1, 2M+1); merging is the inverse.
type Segment struct {
	Processor string
	ID        int
	Mask      int
	// Token is the processor's opaque position; nil before the first event.
	Token []byte
	// Owner is empty when nobody holds a claim.
	Owner     string
	ClaimedAt time.Time
	// Epoch counts claims: each successful ClaimSegment starts a new epoch,
	// fencing every earlier claim.
	Epoch uint64
}

// Claim identifies a claim held on a segment.
func (s Segment) Claim() Claim {
	return Claim{Processor: s.Processor, Segment: s.ID, Owner: s.Owner, Epoch: s.Epoch}
}

// Matches reports whether an event with sequence hash h belongs to s.
func (s Segment) Matches(h uint32) bool { return int(h&uint32(s.Mask)) == s.ID }

// Claim is what an owner presents to extend, store into or release a segment.
type Claim struct {
	Processor string
	Segment   int
	Owner     string
	Epoch     uint64
}

func (c Claim) validate() error {
	switch {
	case c.Processor == "":
		return errors.New("claim has no processor name")
	case c.Owner == "":
		return fmt.Errorf("claim on %s/%d has no owner", c.Processor, c.Segment)
	case c.Segment < 0:
		return fmt.Errorf("claim on %s has negative segment %d", c.Processor, c.Segment)
	}
	return nil
}

func (c Claim) String() string {
	return fmt.Sprintf("%s/%d owned by %q at epoch %d", c.Processor, c.Segment, c.Owner, c.Epoch)
}

// SplitIDs returns the segment ids and mask that splitting (id, mask) gives.
func SplitIDs(id, mask int) (keep, sibling, newMask int) {
	newMask = mask<<1 | 1
	return id, id + mask + 1, newMask
}

// MergeSibling returns the id of the segment that (id, mask) merges with and
// the mask of the merged segment. ok is false for the single whole segment.
func MergeSibling(id, mask int) (sibling, merged int, ok bool) {
	if mask == 0 {
		return id, 0, false
	}
	high := (mask >> 1) + 1
	return id ^ high, mask >> 1, true
}

// TokenStore keeps streaming processors' tokens per segment, with claims that
// time out and can then be stolen, and epochs that fence stale owners.
//
// A segment id's epoch never goes back, across claims, splits and merges, so
// a claim once fenced stays fenced even if its owner comes back under the
// same name.
type TokenStore interface {
	// InitializeSegments creates segments 0..count-1 (count a power of two)
	// for processor, each unclaimed with the given initial token.
	// ErrExists if the processor has segments already.
	InitializeSegments(ctx context.Context, processor string, count int, token []byte) error
	// Segments lists processor's segments ordered by id (none: empty, nil).
	Segments(ctx context.Context, processor string) ([]Segment, error)
	// ClaimSegment gives owner the claim on a segment if it is unclaimed,
	// already owner's, or its claim is older than timeout (stealing it).
	// Every successful claim starts a new epoch. ErrClaimed if another
	// owner's claim is fresh; ErrNotFound if the segment does not exist.
	ClaimSegment(ctx context.Context, processor string, segment int, owner string, timeout time.Duration) (Segment, error)
	// ExtendClaim renews the claim's timestamp. ErrFenced if it is stale.
	ExtendClaim(ctx context.Context, c Claim) error
	// StoreToken saves token under the claim and renews it. ErrFenced if stale.
	StoreToken(ctx context.Context, c Claim, token []byte) error
	// ReleaseClaim gives the segment up; its token stays. ErrFenced if stale.
	ReleaseClaim(ctx context.Context, c Claim) error
	// SplitSegment splits the claimed segment in two: the claimed one keeps
	// its id, token, claim and epoch with the doubled mask; the new sibling
	// gets the same token, no owner and the parent's epoch (so that an id
	// that existed before a merge never gets an epoch it had), and is
	// returned.
	SplitSegment(ctx context.Context, c Claim) (Segment, error)
	// MergeSegments merges two claimed sibling segments into the one with the
	// lower id, which gets token, a's owner, a renewed claim time and epoch
	// max(a's, b's)+1; the other is removed. Both old claims are fenced: the
	// caller goes on with the returned segment's Claim().
	MergeSegments(ctx context.Context, a, b Claim, token []byte) (Segment, error)
	// DeleteSegments removes all of processor's segments.
	DeleteSegments(ctx context.Context, processor string) error
}
