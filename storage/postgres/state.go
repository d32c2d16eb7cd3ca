package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"eddy/storage"
)

func (b *backend) Get(ctx context.Context, partition int, key []byte) ([]byte, error) {
	if err := b.live(); err != nil {
		return nil, err
	}
	var v []byte
	err := b.pool.QueryRow(ctx, `SELECT value FROM eddy_state WHERE partition = $1 AND key = $2`, partition, key).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("%w: partition %d: key %q", storage.ErrNotFound, partition, key)
	case err != nil:
		return nil, fmt.Errorf("postgres: get key %q in partition %d: %w", key, partition, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (b *backend) Scan(ctx context.Context, partition int, prefix []byte, fn func(key, value []byte) error) error {
	if err := b.live(); err != nil {
		return err
	}
	// bytea compares bytewise, so a prefix is the range [prefix, PrefixEnd),
	// which the primary key index serves.
	sql := `SELECT key, value FROM eddy_state WHERE partition = $1 AND key >= $2 ORDER BY key`
	args := []any{partition, prefix}
	if end := storage.PrefixEnd(prefix); end != nil {
		sql = `SELECT key, value FROM eddy_state WHERE partition = $1 AND key >= $2 AND key < $3 ORDER BY key`
		args = append(args, end)
	}
	if prefix == nil {
		args[1] = []byte{} // nil would be NULL, which matches nothing
	}
	rows, err := b.pool.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
	}
	defer rows.Close()
	var k, v pgtype.DriverBytes
	for rows.Next() {
		if err := rows.Scan(&k, &v); err != nil {
			return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
	}
	return nil
}
