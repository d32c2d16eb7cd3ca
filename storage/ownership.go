package storage

import (
	"context"
	"time"
)

// PartitionClaim says which node writes a partition. Exactly one writer per
// partition at a time: a batch whose Epoch is not the partition's current
// epoch is refused with ErrFenced.
type PartitionClaim struct {
	Partition int
	Owner     string
	Epoch     uint64
	ClaimedAt time.Time
}

// Ownership hands partitions to nodes.
type Ownership interface {
	// ClaimPartition makes owner the partition's writer if it is unclaimed,
	// already owner's, or its claim is older than timeout. Every successful
	// claim starts a new epoch (a restarted node fences its own previous
	// incarnation). ErrClaimed if another owner's claim is fresh.
	ClaimPartition(ctx context.Context, partition int, owner string, timeout time.Duration) (PartitionClaim, error)
	// RenewPartition renews the claim's timestamp. ErrFenced if it is stale.
	RenewPartition(ctx context.Context, c PartitionClaim) error
	// ReleasePartition gives the partition up and ends its epoch (the epoch
	// is bumped with no owner), so the released claim can no longer write.
	// ErrFenced if the claim is stale.
	ReleasePartition(ctx context.Context, c PartitionClaim) error
	// PartitionClaims lists every partition's claim, ordered by partition;
	// an unclaimed partition has an empty Owner.
	PartitionClaims(ctx context.Context) ([]PartitionClaim, error)
}

// Claimable reports whether owner may take a claim that current holds since
// claimedAt: when nobody holds it, owner holds it already, or it is at least
// timeout old. Backends share this rule so that they agree on stealing.
func Claimable(current string, claimedAt time.Time, owner string, now time.Time, timeout time.Duration) bool {
	return current == "" || current == owner || now.Sub(claimedAt) >= timeout
}
