package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"eddy/storage"
)

// readChunk caps one query of Read, so that a long read streams in pieces
// that each finish quickly instead of one statement holding a snapshot (and a
// connection) for the whole log.
const readChunk = 10000

// Positions are gapless, so the range bounds the rows exactly and the plan is
// an index range scan whatever the table statistics say.
const sqlRead = `SELECT position, ts, data FROM eddy_log
	WHERE partition = $1 AND position >= $2 AND position < $2 + $3 ORDER BY position`

func (b *backend) Read(ctx context.Context, partition int, from uint64, limit int, fn func(storage.Entry) error) error {
	if err := b.live(); err != nil {
		return err
	}
	for limit > 0 {
		n := min(limit, readChunk)
		got, next, err := b.readChunk(ctx, partition, from, n, fn)
		if err != nil {
			return err
		}
		if got < n {
			return nil // the end of the log
		}
		from, limit = next, limit-got
	}
	return nil
}

// readChunk hands up to n entries to fn and returns how many it handed and
// the position after the last one.
func (b *backend) readChunk(ctx context.Context, partition int, from uint64, n int, fn func(storage.Entry) error) (int, uint64, error) {
	rows, err := b.pool.Query(ctx, sqlRead, partition, int64(from), int64(n))
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: reading partition %d from position %d: %w", partition, from, err)
	}
	defer rows.Close()
	got := 0
	var pos, ts int64
	var data pgtype.DriverBytes // the driver's buffer: valid until the next row, as Entry.Data promises
	for rows.Next() {
		if err := rows.Scan(&pos, &ts, &data); err != nil {
			return got, 0, fmt.Errorf("postgres: reading partition %d at position %d: %w", partition, from+uint64(got), err)
		}
		if err := fn(storage.Entry{Position: uint64(pos), Timestamp: ts, Data: data}); err != nil {
			return got, 0, err
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return got, 0, fmt.Errorf("postgres: reading partition %d from position %d: %w", partition, from, err)
	}
	return got, uint64(pos) + 1, nil
}

func (b *backend) Bounds(ctx context.Context, partition int) (storage.Bounds, error) {
	if err := b.live(); err != nil {
		return storage.Bounds{}, err
	}
	var next int64
	var first *int64
	// One statement, one snapshot: first and last agree with each other.
	err := b.pool.QueryRow(ctx, `SELECT next_position,
		(SELECT min(position) FROM eddy_log WHERE partition = $1)
		FROM eddy_partitions WHERE partition = $1`, partition).Scan(&next, &first)
	if err != nil {
		return storage.Bounds{}, fmt.Errorf("postgres: bounds of partition %d: %w", partition, err)
	}
	if first == nil {
		return storage.Bounds{}, nil
	}
	return storage.Bounds{First: uint64(*first), Last: uint64(next - 1)}, nil
}

func (b *backend) Changed(partition int) <-chan struct{} {
	if b.closed.Load() {
		return closedChan // whoever waits reads next, and learns of the close
	}
	return b.signals[partition].Wait()
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()
