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

// scanChunkBytes bounds the values of a chunk too (it holds at least one):
// a callback that stops at the first of a thousand values of 1 MiB (a
// listing of one dead letter) has not had a GiB read for it.
const scanChunkBytes = 4 << 20

func (b *backend) Scan(ctx context.Context, partition int, prefix []byte, fn func(key, value []byte) error) error {
	if err := b.live(); err != nil {
		return err
	}
	// bytea compares bytewise, so a prefix is the range [prefix, PrefixEnd),
	// which the primary key index serves. After the first chunk the range
	// starts after the last key seen. A chunk's keys come with the values
	// whose bytes before them are under scanChunkBytes (within); the rest
	// come without, unread, and the next chunk starts after the last value
	// read.
	end := storage.PrefixEnd(prefix)
	from, op := append([]byte{}, prefix...), ">="
	var keys, values [][]byte
	for {
		sql := `SELECT key, within, CASE WHEN within THEN value END FROM (
			SELECT key, value, sum(octet_length(value)) OVER w - octet_length(value) < $2 AS within
			FROM eddy_state WHERE partition = $1 AND key ` + op + ` $3`
		args := []any{partition, scanChunkBytes, from}
		if end != nil {
			sql += ` AND key < $4`
			args = append(args, end)
		}
		sql += ` WINDOW w AS (ORDER BY key ROWS UNBOUNDED PRECEDING) ORDER BY key LIMIT ` + fmt.Sprint(scanChunk) + `) c ORDER BY key`
		keys, values = keys[:0], values[:0]
		rows, err := b.pool.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
		}
		read, cut := 0, false
		for rows.Next() {
			var k, v []byte
			var within bool
			if err := rows.Scan(&k, &within, &v); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
			}
			read++
			if !within {
				cut = true
				continue
			}
			if v == nil {
				v = []byte{}
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
		if !cut && read < scanChunk {
			return nil
		}
		from, op = keys[len(keys)-1], ">"
	}
}
