package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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

// scanChunk is how many keys one query of Scan reads. Each chunk is read
// whole before fn sees it, so fn never runs while a pooled connection is
// held (a callback that commits would otherwise compete with its own scan
// for the pool); a long scan is therefore a sequence of consistent chunks,
// not one snapshot, each key visited once and in order.
const scanChunk = 1000

func (b *backend) Scan(ctx context.Context, partition int, prefix []byte, fn func(key, value []byte) error) error {
	if err := b.live(); err != nil {
		return err
	}
	// bytea compares bytewise, so a prefix is the range [prefix, PrefixEnd),
	// which the primary key index serves. After the first chunk the range
	// starts after the last key seen.
	end := storage.PrefixEnd(prefix)
	from, op := append([]byte{}, prefix...), ">="
	var keys, values [][]byte
	for {
		sql := `SELECT key, value FROM eddy_state WHERE partition = $1 AND key ` + op + ` $2`
		args := []any{partition, from}
		if end != nil {
			sql += ` AND key < $3`
			args = append(args, end)
		}
		sql += ` ORDER BY key LIMIT ` + fmt.Sprint(scanChunk)
		keys, values = keys[:0], values[:0]
		rows, err := b.pool.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
		}
		for rows.Next() {
			var k, v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
			}
			keys, values = append(keys, k), append(values, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
		}
		for i := range keys {
			if err := fn(keys[i], values[i]); err != nil {
				return err
			}
		}
		if len(keys) < scanChunk {
			return nil
		}
		from, op = keys[len(keys)-1], ">"
	}
}
