package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgtype"

	"eddy/storage"
)

// readChunk caps the rows of one query of Read, so that a long read goes in
// pieces that each finish quickly instead of one statement holding a
// snapshot for the whole log.
const readChunk = 10000

// readChunkBytes is what one query of Read aims to buffer. A chunk asks for
// as many rows as fit by the partition's recent entry size, and if larger
// entries come it stops at this many bytes (plus the entry that crossed it),
// cancelling the rest of the query, which costs the connection.
const readChunkBytes = 4 << 20

// Positions are gapless, so the range bounds the rows exactly and the plan is
// an index range scan whatever the table statistics say.
const sqlRead = `SELECT position, ts, data FROM eddy_log
	WHERE partition = $1 AND position >= $2 AND position < $2 + $3 ORDER BY position`

// chunk holds the entries of one query of Read. A chunk is read in full and
// its rows closed before any entry is handed to the caller: the callback may
// commit, which needs a pooled connection, and Reads holding connections
// while their callbacks wait for the commit would starve the pool (as many
// tails as connections, each committing from its callback, would deadlock).
// One chunk serves every query of a Read; chunks are pooled across Reads, as
// growing a fresh arena for every Read halves the throughput.
type chunk struct {
	arena []byte  // the entries' data, back to back
	ends  []int   // ends[i]: where entry i's data ends in arena
	ts    []int64 // ts[i]: entry i's timestamp
	from  uint64  // entry i is at position from+i: fill checks it
}

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

// maxPooledArena bounds the arena a chunk may keep in the pool, so that a
// read of huge entries does not pin their memory.
const maxPooledArena = 2 * readChunkBytes

func (c *chunk) reset(from uint64) {
	c.arena, c.ends, c.ts, c.from = c.arena[:0], c.ends[:0], c.ts[:0], from
}

func (c *chunk) len() int { return len(c.ts) }

// entry returns entry i; its Data is valid until the chunk is refilled.
func (c *chunk) entry(i int) storage.Entry {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	end := c.ends[i]
	return storage.Entry{Position: c.from + uint64(i), Timestamp: c.ts[i], Data: c.arena[start:end:end]}
}

func (b *backend) Read(ctx context.Context, partition int, from uint64, limit int, fn func(storage.Entry) error) error {
	if err := b.live(); err != nil {
		return err
	}
	c := chunkPool.Get().(*chunk)
	defer func() {
		if cap(c.arena) <= maxPooledArena {
			c.reset(0)
			chunkPool.Put(c)
		}
	}()
	for limit > 0 {
		n := limit
		if size := b.entrySize[partition].Load(); size > 0 {
			n = min(n, int(max(readChunkBytes/size, 1)))
		}
		n = min(n, readChunk)
		more, err := b.fill(ctx, partition, from, n, c)
		err = b.closedErr(err)
		// What was read before an error (a gap, a cut connection) is
		// sound: hand it over, then report the error where it happened.
		for i := range c.len() {
			if err := fn(c.entry(i)); err != nil {
				return err
			}
		}
		if err != nil || !more {
			return err
		}
		from, limit = from+uint64(c.len()), limit-c.len()
	}
	return nil
}

// fill reads up to n entries of partition from position from into c,
// checking that their positions follow one another, and reports whether the
// log may go on after them (false when it ended before n entries).
func (b *backend) fill(ctx context.Context, partition int, from uint64, n int, c *chunk) (more bool, err error) {
	c.reset(from)
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := b.pool.Query(qctx, sqlRead, partition, int64(from), int64(n))
	if err != nil {
		return false, fmt.Errorf("postgres: reading partition %d from position %d: %w", partition, from, err)
	}
	defer rows.Close()
	defer func() {
		if c.len() > 0 {
			b.entrySize[partition].Store(max(int64(len(c.arena)/c.len()), 1))
		}
	}()
	var pos, ts int64
	var data pgtype.DriverBytes // the driver's buffer, valid until the next row: copied into the arena
	for rows.Next() {
		want := from + uint64(c.len())
		if err := rows.Scan(&pos, &ts, &data); err != nil {
			return false, fmt.Errorf("postgres: reading partition %d at position %d: %w", partition, want, err)
		}
		if uint64(pos) != want {
			return false, &storage.CorruptError{
				File:   fmt.Sprintf("table eddy_log of schema %s", b.schema),
				Detail: fmt.Sprintf("partition %d: position %d is missing (found %d)", partition, want, pos),
			}
		}
		c.arena = append(c.arena, data...)
		c.ends = append(c.ends, len(c.arena))
		c.ts = append(c.ts, ts)
		if len(c.arena) >= readChunkBytes && c.len() < n {
			// Larger entries than the partition's recent ones: stop here
			// rather than buffer the rest, whose size nothing bounds.
			// Cancelling is the only way to stop the server sending; it
			// closes the connection, and the pool makes another.
			cancel()
			return true, nil
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("postgres: reading partition %d from position %d: %w", partition, from, err)
	}
	return c.len() == n, nil
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
