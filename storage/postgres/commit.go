package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"eddy/storage"
)

// A group commit takes two round trips. The first begins the transaction and
// locks the partition rows (and token rows) it needs, in a fixed order so
// that concurrent writers cannot deadlock. Go then decides which batches pass
// their fence and assigns positions; the second round trip writes every
// passing batch with one statement per table and commits.
const (
	sqlLockPartitions = `SELECT partition, next_position, last_ts, epoch, owner
		FROM eddy_partitions WHERE partition = ANY($1::int[]) ORDER BY partition FOR UPDATE`
	sqlLockTokens = `SELECT processor, segment, owner, epoch
		FROM eddy_tokens WHERE (processor, segment) IN (SELECT * FROM unnest($1::text[], $2::int[]))
		ORDER BY processor, segment FOR UPDATE`
	sqlInsertLog = `INSERT INTO eddy_log (partition, position, ts, data)
		SELECT * FROM unnest($1::int[], $2::bigint[], $3::bigint[], $4::bytea[])`
	sqlPutState = `INSERT INTO eddy_state (partition, key, value)
		SELECT * FROM unnest($1::int[], $2::bytea[], $3::bytea[])
		ON CONFLICT (partition, key) DO UPDATE SET value = excluded.value`
	sqlDeleteState = `DELETE FROM eddy_state s USING unnest($1::int[], $2::bytea[]) AS d(partition, key)
		WHERE s.partition = d.partition AND s.key = d.key`
	sqlSaveTokens = `UPDATE eddy_tokens t SET token = u.token, claimed_at = $4
		FROM unnest($1::text[], $2::int[], $3::bytea[]) AS u(processor, segment, token)
		WHERE t.processor = u.processor AND t.segment = u.segment`
	sqlAdvancePartitions = `UPDATE eddy_partitions p SET next_position = u.next, last_ts = u.ts
		FROM unnest($1::int[], $2::bigint[], $3::bigint[]) AS u(partition, next, ts)
		WHERE p.partition = u.partition`
	sqlNotify = `SELECT pg_notify($1, p::text) FROM unnest($2::int[]) AS p`
)

// copyThreshold is the number of entries from which a group inserts its log
// rows with COPY instead of INSERT ... unnest. COPY costs two more round
// trips (describe, copy) but far less per row: measured with 10-record
// batches of 200 bytes, INSERT wins below about 1,000 rows and COPY is about
// 1.5 times as fast at 5,000.
const copyThreshold = 1000

var logColumns = []string{"partition", "position", "ts", "data"}

// partitionRow is a locked eddy_partitions row and what the group does to it.
type partitionRow struct {
	next     uint64
	lastTS   int64
	epoch    uint64
	owner    string
	appended bool
	ts       int64 // the group's append time on this partition
}

type segmentKey struct {
	processor string
	segment   int
}

type segmentRow struct {
	owner string
	epoch uint64
}

type stateKey struct {
	partition int
	key       string
}

// groupWrites are the rows a group writes, as column arrays for unnest.
type groupWrites struct {
	logPartition []int32
	logPosition  []int64
	logTS        []int64
	logData      [][]byte

	// state holds the last write per key, so that one INSERT never names a
	// key twice (ON CONFLICT refuses that) and the later write wins.
	state      map[stateKey]storage.StateWrite
	stateOrder []stateKey

	tokens      map[segmentKey][]byte
	tokenOrder  []segmentKey
	partitions  []int
	appendedAny bool
}

// Commit implements storage.Backend: one transaction per group. The backend
// is not a storage.Pipeliner: transactions touching a partition hold its row
// until their commit is durable, so they would run one after another anyway;
// one group at a time, carrying all that queued meanwhile, is faster.
//
// An error before the last round trip (acquiring a connection, locking,
// copying) means that nothing was committed. An error of the last round
// trip, which carries COMMIT, wraps storage.ErrOutcomeUnknown unless the
// server's answer proves that the transaction did not commit: see
// commitSentErr.
func (b *backend) Commit(ctx context.Context, batches []*storage.Batch, firsts []uint64, errs []error) error {
	if err := b.live(); err != nil {
		return err
	}
	parts, segs := lockSet(batches)
	conn, err := b.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	defer conn.Release()

	rows, tokens, err := lockRows(ctx, conn, parts, segs)
	if err != nil {
		rollback(conn)
		return err
	}
	w := b.decide(batches, rows, tokens, firsts, errs)
	if len(w.partitions) == 0 && len(w.state) == 0 && len(w.tokens) == 0 {
		rollback(conn) // every batch was fenced: nothing to write
		return nil
	}
	if err := b.write(ctx, conn, w, rows); err != nil {
		rollback(conn)
		for i := range firsts {
			firsts[i], errs[i] = 0, nil
		}
		return err
	}
	// Wake local tails now rather than after NOTIFY's round trip.
	for _, p := range w.partitions {
		b.signals[p].Notify()
	}
	return nil
}

// lockSet lists the partitions and token segments the group touches, in
// lock order.
func lockSet(batches []*storage.Batch) ([]int32, []segmentKey) {
	var parts []int32
	var segs []segmentKey
	seen := map[segmentKey]bool{}
	for _, bt := range batches {
		if !slices.Contains(parts, int32(bt.Partition)) {
			parts = append(parts, int32(bt.Partition))
		}
		for _, tw := range bt.TokenWrites() {
			k := segmentKey{tw.Claim.Processor, tw.Claim.Segment}
			if !seen[k] {
				seen[k] = true
				segs = append(segs, k)
			}
		}
	}
	slices.Sort(parts)
	return parts, segs
}

// lockRows begins the transaction and locks the rows, in one round trip.
func lockRows(ctx context.Context, conn *pgxpool.Conn, parts []int32, segs []segmentKey) (map[int]*partitionRow, map[segmentKey]segmentRow, error) {
	q := &pgx.Batch{}
	q.Queue("BEGIN")
	q.Queue(sqlLockPartitions, parts)
	if len(segs) > 0 {
		procs := make([]string, len(segs))
		ids := make([]int32, len(segs))
		for i, s := range segs {
			procs[i], ids[i] = s.processor, int32(s.segment)
		}
		q.Queue(sqlLockTokens, procs, ids)
	}
	br := conn.SendBatch(ctx, q)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, nil, fmt.Errorf("postgres: commit: begin: %w", err)
	}
	rows := make(map[int]*partitionRow, len(parts))
	r, err := br.Query()
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: commit: locking partitions: %w", err)
	}
	for r.Next() {
		var p int
		var next, epoch int64
		row := &partitionRow{}
		if err := r.Scan(&p, &next, &row.lastTS, &epoch, &row.owner); err != nil {
			r.Close()
			return nil, nil, fmt.Errorf("postgres: commit: reading partitions: %w", err)
		}
		row.next, row.epoch = uint64(next), uint64(epoch)
		rows[p] = row
	}
	if err := r.Err(); err != nil {
		return nil, nil, fmt.Errorf("postgres: commit: locking partitions: %w", err)
	}
	for _, p := range parts {
		if rows[int(p)] == nil {
			return nil, nil, &storage.CorruptError{File: "table eddy_partitions", Detail: fmt.Sprintf("partition %d has no row", p)}
		}
	}
	tokens := make(map[segmentKey]segmentRow, len(segs))
	if len(segs) > 0 {
		r, err := br.Query()
		if err != nil {
			return nil, nil, fmt.Errorf("postgres: commit: locking tokens: %w", err)
		}
		for r.Next() {
			var k segmentKey
			var row segmentRow
			var epoch int64
			if err := r.Scan(&k.processor, &k.segment, &row.owner, &epoch); err != nil {
				r.Close()
				return nil, nil, fmt.Errorf("postgres: commit: reading tokens: %w", err)
			}
			row.epoch = uint64(epoch)
			tokens[k] = row
		}
		if err := r.Err(); err != nil {
			return nil, nil, fmt.Errorf("postgres: commit: locking tokens: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, nil, fmt.Errorf("postgres: commit: %w", err)
	}
	return rows, tokens, nil
}

// decide checks each batch against the locked rows and collects the writes of
// those that pass, assigning positions in group order.
func (b *backend) decide(batches []*storage.Batch, rows map[int]*partitionRow, tokens map[segmentKey]segmentRow, firsts []uint64, errs []error) *groupWrites {
	w := &groupWrites{}
	now := b.clock().UnixMilli()
	for i, bt := range batches {
		if errs[i] = fence(bt, rows[bt.Partition], tokens); errs[i] != nil {
			continue
		}
		row := rows[bt.Partition]
		if entries := bt.Entries(); len(entries) > 0 {
			if !row.appended {
				row.appended, row.ts = true, max(now, row.lastTS)
				w.partitions = append(w.partitions, bt.Partition)
			}
			firsts[i] = row.next
			for _, e := range entries {
				if e == nil {
					e = []byte{} // nil would be NULL
				}
				w.logPartition = append(w.logPartition, int32(bt.Partition))
				w.logPosition = append(w.logPosition, int64(row.next))
				w.logTS = append(w.logTS, row.ts)
				w.logData = append(w.logData, e)
				row.next++
			}
		}
		for _, sw := range bt.Writes() {
			if w.state == nil {
				w.state = make(map[stateKey]storage.StateWrite)
			}
			k := stateKey{bt.Partition, string(sw.Key)}
			if _, seen := w.state[k]; !seen {
				w.stateOrder = append(w.stateOrder, k)
			}
			w.state[k] = sw
		}
		for _, tw := range bt.TokenWrites() {
			if w.tokens == nil {
				w.tokens = make(map[segmentKey][]byte)
			}
			k := segmentKey{tw.Claim.Processor, tw.Claim.Segment}
			if _, seen := w.tokens[k]; !seen {
				w.tokenOrder = append(w.tokenOrder, k)
			}
			w.tokens[k] = tw.Token
		}
	}
	return w
}

// fence checks a batch's partition epoch and token claims.
func fence(bt *storage.Batch, row *partitionRow, tokens map[segmentKey]segmentRow) error {
	if bt.Epoch != row.epoch {
		return fmt.Errorf("%w: partition %d: batch epoch %d, current epoch %d (owner %q)", storage.ErrFenced, bt.Partition, bt.Epoch, row.epoch, row.owner)
	}
	for _, tw := range bt.TokenWrites() {
		c := tw.Claim
		seg, ok := tokens[segmentKey{c.Processor, c.Segment}]
		if !ok {
			return fmt.Errorf("%w: partition %d: token write for processor %s segment %d: no such segment", storage.ErrNotFound, bt.Partition, c.Processor, c.Segment)
		}
		if seg.owner != c.Owner || seg.epoch != c.Epoch {
			return fmt.Errorf("%w: partition %d: token write for %s: segment is owned by %q at epoch %d", storage.ErrFenced, bt.Partition, c, seg.owner, seg.epoch)
		}
	}
	return nil
}

// write sends every write of the group and COMMIT in one round trip.
func (b *backend) write(ctx context.Context, conn *pgxpool.Conn, w *groupWrites, rows map[int]*partitionRow) error {
	q := &pgx.Batch{}
	switch n := len(w.logData); {
	case n >= copyThreshold:
		rows := pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return []any{w.logPartition[i], w.logPosition[i], w.logTS[i], w.logData[i]}, nil
		})
		if _, err := conn.CopyFrom(ctx, pgx.Identifier{"eddy_log"}, logColumns, rows); err != nil {
			return fmt.Errorf("postgres: commit: copying %d entries: %w", n, err)
		}
	case n > 0:
		q.Queue(sqlInsertLog, w.logPartition, w.logPosition, w.logTS, w.logData)
	}
	if len(w.stateOrder) > 0 {
		var putP, delP []int32
		var putK, putV, delK [][]byte
		for _, k := range w.stateOrder {
			sw := w.state[k]
			if sw.Delete {
				delP, delK = append(delP, int32(k.partition)), append(delK, sw.Key)
				continue
			}
			v := sw.Value
			if v == nil {
				v = []byte{}
			}
			putP, putK, putV = append(putP, int32(k.partition)), append(putK, sw.Key), append(putV, v)
		}
		if len(putK) > 0 {
			q.Queue(sqlPutState, putP, putK, putV)
		}
		if len(delK) > 0 {
			q.Queue(sqlDeleteState, delP, delK)
		}
	}
	if len(w.tokenOrder) > 0 {
		procs := make([]string, len(w.tokenOrder))
		ids := make([]int32, len(w.tokenOrder))
		toks := make([][]byte, len(w.tokenOrder))
		for i, k := range w.tokenOrder {
			procs[i], ids[i], toks[i] = k.processor, int32(k.segment), w.tokens[k]
		}
		q.Queue(sqlSaveTokens, procs, ids, toks, b.clock().UnixNano())
	}
	if len(w.partitions) > 0 {
		ps := make([]int32, len(w.partitions))
		next := make([]int64, len(w.partitions))
		ts := make([]int64, len(w.partitions))
		for i, p := range w.partitions {
			ps[i], next[i], ts[i] = int32(p), int64(rows[p].next), rows[p].ts
		}
		q.Queue(sqlAdvancePartitions, ps, next, ts)
		q.Queue(sqlNotify, b.listener.channel, ps)
	}
	q.Queue("COMMIT")
	// Once this batch is on its way the group may commit whatever goes
	// wrong after: commitSentErr tells a failure that proves nothing
	// committed from one that leaves the outcome unknown.
	br := conn.SendBatch(ctx, q)
	var tag pgconn.CommandTag
	for range q.Len() {
		var err error
		if tag, err = br.Exec(); err != nil {
			br.Close()
			return commitSentErr(err)
		}
	}
	closeErr := br.Close()
	switch {
	case tag.String() != "COMMIT":
		// The server answers COMMIT in an aborted transaction with
		// ROLLBACK; nothing before it failed, so this cannot happen, but
		// if it does, nothing was written.
		return fmt.Errorf("postgres: commit: the server answered COMMIT with %q: the transaction was rolled back", tag)
	case closeErr != nil:
		// The server acknowledged COMMIT, which it does once the commit
		// is durable: only the end of the exchange failed. The group is
		// committed; the broken connection leaves the pool on release.
		b.logger.Warn("postgres: commit acknowledged, then the connection failed", "err", closeErr)
	}
	return nil
}

// rollback ends a transaction that will not commit. A connection left inside
// a transaction is discarded by the pool on release, so failure here only
// costs a reconnect.
func rollback(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = conn.Exec(ctx, "ROLLBACK")
}
