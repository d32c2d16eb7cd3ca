package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"eddy/storage"
)

// Ownership lives in the same eddy_partitions row that Commit locks, so a
// claim and a commit on one partition are serialized by that row lock: a
// batch either commits before a new claim or is fenced by it.

func scanPartitionClaim(row pgx.Row) (storage.PartitionClaim, error) {
	var c storage.PartitionClaim
	var epoch int64
	var claimedAt *int64
	if err := row.Scan(&c.Partition, &c.Owner, &epoch, &claimedAt); err != nil {
		return c, err
	}
	c.Epoch, c.ClaimedAt = uint64(epoch), fromNanos(claimedAt)
	return c, nil
}

func lockPartition(ctx context.Context, tx pgx.Tx, partition int) (storage.PartitionClaim, error) {
	c, err := scanPartitionClaim(tx.QueryRow(ctx, `SELECT partition, owner, epoch, claimed_at
		FROM eddy_partitions WHERE partition = $1 FOR UPDATE`, partition))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return c, &storage.CorruptError{File: "table eddy_partitions", Detail: fmt.Sprintf("partition %d has no row", partition)}
	case err != nil:
		return c, fmt.Errorf("postgres: reading partition %d: %w", partition, err)
	}
	return c, nil
}

// lockCurrent locks the partition and checks that c is its current claim.
func lockCurrent(ctx context.Context, tx pgx.Tx, c storage.PartitionClaim) error {
	cur, err := lockPartition(ctx, tx, c.Partition)
	if err != nil {
		return err
	}
	if cur.Owner != c.Owner || cur.Epoch != c.Epoch {
		return fmt.Errorf("%w: partition %d: claim by %q at epoch %d, but the partition is owned by %q at epoch %d",
			storage.ErrFenced, c.Partition, c.Owner, c.Epoch, cur.Owner, cur.Epoch)
	}
	return nil
}

func (b *backend) ClaimPartition(ctx context.Context, partition int, owner string, timeout time.Duration) (storage.PartitionClaim, error) {
	var c storage.PartitionClaim
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := lockPartition(ctx, tx, partition)
		if err != nil {
			return err
		}
		now := b.clock()
		if !storage.Claimable(cur.Owner, cur.ClaimedAt, owner, now, timeout) {
			return fmt.Errorf("%w: partition %d is held by %q since %s (epoch %d, timeout %v); %q cannot claim it",
				storage.ErrClaimed, partition, cur.Owner, cur.ClaimedAt.Format(time.RFC3339Nano), cur.Epoch, timeout, owner)
		}
		c = storage.PartitionClaim{Partition: partition, Owner: owner, Epoch: cur.Epoch + 1, ClaimedAt: now}
		_, err = tx.Exec(ctx, `UPDATE eddy_partitions SET owner = $2, epoch = $3, claimed_at = $4 WHERE partition = $1`,
			partition, owner, int64(c.Epoch), nanos(now))
		return err
	})
	if err != nil {
		return storage.PartitionClaim{}, wrapPartitionErr(err, "claiming", partition)
	}
	return c, nil
}

func (b *backend) RenewPartition(ctx context.Context, c storage.PartitionClaim) error {
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockCurrent(ctx, tx, c); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE eddy_partitions SET claimed_at = $2 WHERE partition = $1`, c.Partition, nanos(b.clock()))
		return err
	})
	return wrapPartitionErr(err, "renewing", c.Partition)
}

func (b *backend) ReleasePartition(ctx context.Context, c storage.PartitionClaim) error {
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockCurrent(ctx, tx, c); err != nil {
			return err
		}
		// Bumping the epoch ends the released claim: its batches are fenced.
		_, err := tx.Exec(ctx, `UPDATE eddy_partitions SET owner = '', epoch = epoch + 1, claimed_at = NULL WHERE partition = $1`, c.Partition)
		return err
	})
	return wrapPartitionErr(err, "releasing", c.Partition)
}

func (b *backend) PartitionClaims(ctx context.Context) ([]storage.PartitionClaim, error) {
	if err := b.live(); err != nil {
		return nil, err
	}
	rows, err := b.pool.Query(ctx, `SELECT partition, owner, epoch, claimed_at FROM eddy_partitions ORDER BY partition`)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing partition claims: %w", err)
	}
	defer rows.Close()
	var claims []storage.PartitionClaim
	for rows.Next() {
		c, err := scanPartitionClaim(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: listing partition claims: %w", err)
		}
		claims = append(claims, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: listing partition claims: %w", err)
	}
	return claims, nil
}

func wrapPartitionErr(err error, what string, partition int) error {
	if err == nil || isStorageErr(err) {
		return err
	}
	return fmt.Errorf("postgres: %s partition %d: %w", what, partition, err)
}
