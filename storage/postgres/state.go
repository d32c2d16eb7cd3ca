package postgres

import (
	"bytes"
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

// scanChunkBytes bounds the values read at once (a read holds at least
// one): a callback that stops at the first of a thousand values of 1 MiB
// (a listing of one dead letter) has not had a GiB read for it.
const scanChunkBytes = 4 << 20

// scanInline is the largest value a chunk's query reads with its key, so
// that its values stay within scanChunkBytes; a larger one comes with its
// size only, and is read when the callback reaches it, with the larger
// ones after it up to scanChunkBytes (readValues). A chunk of small values
// is one query, as plain as a scan can be: no window over the values,
// which made every chunk's query half again as slow.
const scanInline = scanChunkBytes / scanChunk

func (b *backend) Scan(ctx context.Context, partition int, prefix []byte, fn func(key, value []byte) error) error {
	if err := b.live(); err != nil {
		return err
	}
	// bytea compares bytewise, so a prefix is the range [prefix, PrefixEnd),
	// which the primary key index serves. After the first chunk the range
	// starts after the last key seen.
	end := storage.PrefixEnd(prefix)
	from, op := append([]byte{}, prefix...), ">="
	var (
		keys, values [][]byte
		sizes        []int
	)
	for {
		sql := `SELECT key, octet_length(value), CASE WHEN octet_length(value) <= $2 THEN value END
			FROM eddy_state WHERE partition = $1 AND key ` + op + ` $3`
		args := []any{partition, scanInline, from}
		if end != nil {
			sql += ` AND key < $4`
			args = append(args, end)
		}
		sql += ` ORDER BY key LIMIT ` + fmt.Sprint(scanChunk)
		keys, values, sizes = keys[:0], values[:0], sizes[:0]
		rows, err := b.pool.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
		}
		for rows.Next() {
			var k, v []byte
			var size int
			if err := rows.Scan(&k, &size, &v); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
			}
			if v == nil && size <= scanInline {
				v = []byte{}
			}
			keys, values, sizes = append(keys, k), append(values, v), append(sizes, size)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
		}
		for i := range keys {
			if values[i] == nil {
				if err := b.readValues(ctx, partition, keys[i:], values[i:], sizes[i:]); err != nil {
					return fmt.Errorf("postgres: scan prefix %q in partition %d: %w", prefix, partition, err)
				}
				if values[i] == nil {
					continue // deleted since the chunk was read
				}
			}
			err := fn(keys[i], values[i])
			values[i] = nil // not kept while the next are read
			if err != nil {
				return err
			}
		}
		if len(keys) < scanChunk {
			return nil
		}
		from, op = keys[len(keys)-1], ">"
	}
}

// readValues reads the values left out of a chunk (nil, larger than
// scanInline) from the first, values[0], up to scanChunkBytes: the first
// at least. A key deleted since the chunk was read stays nil.
func (b *backend) readValues(ctx context.Context, partition int, keys, values [][]byte, sizes []int) error {
	last := 0
	for i, n := 0, 0; i < len(keys) && (n == 0 || n+sizes[i] <= scanChunkBytes); i++ {
		if values[i] == nil {
			last, n = i, n+sizes[i]
		}
	}
	// One range of the index, as the chunk was read. Its small values come
	// again (at most scanChunkBytes of them), unused: a value that shrank
	// since the chunk was read must come too.
	rows, err := b.pool.Query(ctx, `SELECT key, value FROM eddy_state WHERE partition = $1 AND key >= $2 AND key <= $3 ORDER BY key`,
		partition, keys[0], keys[last])
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		// The keys come in order: a key not in the chunk (written since)
		// is passed over.
		for i <= last && bytes.Compare(keys[i], k) < 0 {
			i++
		}
		if i <= last && bytes.Equal(keys[i], k) && values[i] == nil {
			if v == nil {
				v = []byte{}
			}
			values[i] = v
		}
	}
	return rows.Err()
}
