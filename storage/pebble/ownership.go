package pebble

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"eddy/storage"
)

func (b *Backend) readOwner(p int) (ownerRow, error) {
	v, closer, err := b.db.Get(partitionKey(kindOwner, p))
	if errors.Is(err, pebble.ErrNotFound) {
		return ownerRow{}, nil
	}
	if err != nil {
		return ownerRow{}, b.readError(fmt.Sprintf("owner of partition %d", p), err)
	}
	defer closer.Close()
	r, err := decodeOwner(v)
	if err != nil {
		return ownerRow{}, &storage.CorruptError{File: b.dir, Detail: fmt.Sprintf("owner of partition %d: %v", p, err)}
	}
	return r, nil
}

// writeOwner stores r and, once durable, makes its epoch the one commits are
// checked against.
func (b *Backend) writeOwner(p int, r ownerRow) error {
	err := b.write(func(wb *pebble.Batch) error { return wb.Set(partitionKey(kindOwner, p), r.encode(), nil) })
	if err == nil {
		b.epochs[p] = r.epoch
	}
	return err
}

// ClaimPartition implements storage.Ownership.
func (b *Backend) ClaimPartition(ctx context.Context, p int, owner string, timeout time.Duration) (storage.PartitionClaim, error) {
	if err := b.lock(); err != nil {
		return storage.PartitionClaim{}, err
	}
	defer b.mu.Unlock()
	r, err := b.readOwner(p)
	if err != nil {
		return storage.PartitionClaim{}, err
	}
	now := b.clock()
	if !storage.Claimable(r.owner, time.Unix(0, r.claimedAt), owner, now, timeout) {
		return storage.PartitionClaim{}, fmt.Errorf("%w: partition %d is held by %q since %s",
			storage.ErrClaimed, p, r.owner, time.Unix(0, r.claimedAt).UTC().Format(time.RFC3339Nano))
	}
	r = ownerRow{epoch: r.epoch + 1, claimedAt: now.UnixNano(), owner: owner}
	if err := b.writeOwner(p, r); err != nil {
		return storage.PartitionClaim{}, err
	}
	return r.claim(p), nil
}

// updateOwner checks the claim and writes what change makes of the row.
func (b *Backend) updateOwner(c storage.PartitionClaim, change func(ownerRow) ownerRow) error {
	if err := b.lock(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	r, err := b.readOwner(c.Partition)
	if err != nil {
		return err
	}
	if r.owner != c.Owner || r.epoch != c.Epoch {
		return fmt.Errorf("%w: partition %d is held by %q at epoch %d, not %q at epoch %d",
			storage.ErrFenced, c.Partition, r.owner, r.epoch, c.Owner, c.Epoch)
	}
	return b.writeOwner(c.Partition, change(r))
}

// RenewPartition implements storage.Ownership.
func (b *Backend) RenewPartition(ctx context.Context, c storage.PartitionClaim) error {
	return b.updateOwner(c, func(r ownerRow) ownerRow {
		r.claimedAt = b.clock().UnixNano()
		return r
	})
}

// ReleasePartition implements storage.Ownership: the epoch ends with the
// claim.
func (b *Backend) ReleasePartition(ctx context.Context, c storage.PartitionClaim) error {
	return b.updateOwner(c, func(r ownerRow) ownerRow { return ownerRow{epoch: r.epoch + 1} })
}

// PartitionClaims implements storage.Ownership.
func (b *Backend) PartitionClaims(ctx context.Context) ([]storage.PartitionClaim, error) {
	if !b.enterRead() {
		return nil, storage.ErrClosed
	}
	defer b.exitRead()
	out := make([]storage.PartitionClaim, b.partitions)
	for p := range out {
		r, err := b.readOwner(p)
		if err != nil {
			return nil, err
		}
		out[p] = r.claim(p)
	}
	return out, nil
}
