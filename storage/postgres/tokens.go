package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"eddy/storage"
)

// Every token-store operation is one transaction that locks the rows it
// decides on (SELECT ... FOR UPDATE), so the decision and the write see the
// same claim.

const segmentColumns = `processor, segment, mask, token, owner, claimed_at, epoch`

func scanSegment(row pgx.Row) (storage.Segment, error) {
	var s storage.Segment
	var claimedAt *int64
	var epoch int64
	if err := row.Scan(&s.Processor, &s.ID, &s.Mask, &s.Token, &s.Owner, &claimedAt, &epoch); err != nil {
		return storage.Segment{}, err
	}
	s.ClaimedAt, s.Epoch = fromNanos(claimedAt), uint64(epoch)
	return s, nil
}

// lockSegment locks and reads one segment; ErrNotFound if it does not exist.
func lockSegment(ctx context.Context, tx pgx.Tx, processor string, segment int) (storage.Segment, error) {
	s, err := scanSegment(tx.QueryRow(ctx, `SELECT `+segmentColumns+` FROM eddy_tokens
		WHERE processor = $1 AND segment = $2 FOR UPDATE`, processor, segment))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return s, fmt.Errorf("%w: processor %s has no segment %d", storage.ErrNotFound, processor, segment)
	case err != nil:
		return s, fmt.Errorf("postgres: reading processor %s segment %d: %w", processor, segment, err)
	}
	return s, nil
}

// lockClaim locks the claim's segment and checks that the claim is current.
func lockClaim(ctx context.Context, tx pgx.Tx, c storage.Claim) (storage.Segment, error) {
	s, err := lockSegment(ctx, tx, c.Processor, c.Segment)
	if err != nil {
		return s, err
	}
	if s.Owner != c.Owner || s.Epoch != c.Epoch {
		return s, fmt.Errorf("%w: claim on %s: the segment is owned by %q at epoch %d", storage.ErrFenced, c, s.Owner, s.Epoch)
	}
	return s, nil
}

func (b *backend) InitializeSegments(ctx context.Context, processor string, count int, token []byte) error {
	if err := b.live(); err != nil {
		return err
	}
	tag, err := b.pool.Exec(ctx, `INSERT INTO eddy_tokens (processor, segment, mask, token)
		SELECT $1::text, s, $2::int - 1, $3::bytea FROM generate_series(0, $2::int - 1) AS s
		WHERE NOT EXISTS (SELECT 1 FROM eddy_tokens WHERE processor = $1)`, processor, count, token)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // a concurrent initialization won
		tag, err = pgconn.NewCommandTag("INSERT 0 0"), nil
	}
	if err != nil {
		return fmt.Errorf("postgres: initializing %d segments of processor %s: %w", count, processor, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: processor %s has segments already", storage.ErrExists, processor)
	}
	return nil
}

func (b *backend) Segments(ctx context.Context, processor string) ([]storage.Segment, error) {
	if err := b.live(); err != nil {
		return nil, err
	}
	rows, err := b.pool.Query(ctx, `SELECT `+segmentColumns+` FROM eddy_tokens WHERE processor = $1 ORDER BY segment`, processor)
	if err != nil {
		return nil, fmt.Errorf("postgres: listing segments of processor %s: %w", processor, err)
	}
	defer rows.Close()
	var segs []storage.Segment
	for rows.Next() {
		s, err := scanSegment(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: listing segments of processor %s: %w", processor, err)
		}
		segs = append(segs, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: listing segments of processor %s: %w", processor, err)
	}
	return segs, nil
}

func (b *backend) ClaimSegment(ctx context.Context, processor string, segment int, owner string, timeout time.Duration) (storage.Segment, error) {
	var s storage.Segment
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if s, err = lockSegment(ctx, tx, processor, segment); err != nil {
			return err
		}
		now := b.clock()
		if !storage.Claimable(s.Owner, s.ClaimedAt, owner, now, timeout) {
			return fmt.Errorf("%w: processor %s segment %d is held by %q since %s (epoch %d, timeout %v); %q cannot claim it",
				storage.ErrClaimed, processor, segment, s.Owner, s.ClaimedAt.Format(time.RFC3339Nano), s.Epoch, timeout, owner)
		}
		s.Owner, s.ClaimedAt, s.Epoch = owner, now, s.Epoch+1
		_, err = tx.Exec(ctx, `UPDATE eddy_tokens SET owner = $3, claimed_at = $4, epoch = $5
			WHERE processor = $1 AND segment = $2`, processor, segment, owner, nanos(now), int64(s.Epoch))
		return err
	})
	if err != nil {
		return storage.Segment{}, wrapTokenErr(err, "claiming", processor, segment)
	}
	return s, nil
}

func (b *backend) ExtendClaim(ctx context.Context, c storage.Claim) error {
	return b.updateClaimed(ctx, c, "extending", `UPDATE eddy_tokens SET claimed_at = $3
		WHERE processor = $1 AND segment = $2`, nanos(b.clock()))
}

func (b *backend) StoreToken(ctx context.Context, c storage.Claim, token []byte) error {
	return b.updateClaimed(ctx, c, "storing the token of", `UPDATE eddy_tokens SET claimed_at = $3, token = $4
		WHERE processor = $1 AND segment = $2`, nanos(b.clock()), token)
}

func (b *backend) ReleaseClaim(ctx context.Context, c storage.Claim) error {
	return b.updateClaimed(ctx, c, "releasing", `UPDATE eddy_tokens SET owner = '', claimed_at = NULL
		WHERE processor = $1 AND segment = $2`)
}

// updateClaimed runs update ($1 processor, $2 segment, then args) on the
// claim's segment if the claim is current.
func (b *backend) updateClaimed(ctx context.Context, c storage.Claim, what, update string, args ...any) error {
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockClaim(ctx, tx, c); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, update, append([]any{c.Processor, c.Segment}, args...)...)
		return err
	})
	return wrapTokenErr(err, what, c.Processor, c.Segment)
}

func (b *backend) SplitSegment(ctx context.Context, c storage.Claim) (storage.Segment, error) {
	var sibling storage.Segment
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		s, err := lockClaim(ctx, tx, c)
		if err != nil {
			return err
		}
		if s.Mask >= 1<<30 {
			return fmt.Errorf("%w: processor %s segment %d (mask %#x) cannot be split further", storage.ErrInvalid, c.Processor, c.Segment, s.Mask)
		}
		_, id, mask := storage.SplitIDs(s.ID, s.Mask)
		if _, err := tx.Exec(ctx, `UPDATE eddy_tokens SET mask = $3 WHERE processor = $1 AND segment = $2`, c.Processor, c.Segment, mask); err != nil {
			return err
		}
		// The sibling starts unclaimed at the parent's epoch, not at 0: its
		// id may have existed before a merge, and claims on it from then
		// must stay fenced (its next claim gets a higher epoch than any).
		sibling = storage.Segment{Processor: c.Processor, ID: id, Mask: mask, Token: s.Token, Epoch: s.Epoch}
		_, err = tx.Exec(ctx, `INSERT INTO eddy_tokens (processor, segment, mask, token, epoch) VALUES ($1, $2, $3, $4, $5)`,
			c.Processor, id, mask, s.Token, int64(s.Epoch))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return &storage.CorruptError{File: "table eddy_tokens", Detail: fmt.Sprintf("splitting processor %s segment %d (mask %#x): segment %d exists already", c.Processor, c.Segment, s.Mask, id)}
		}
		return err
	})
	if err != nil {
		return storage.Segment{}, wrapTokenErr(err, "splitting", c.Processor, c.Segment)
	}
	return sibling, nil
}

func (b *backend) MergeSegments(ctx context.Context, a, c storage.Claim, token []byte) (storage.Segment, error) {
	var merged storage.Segment
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		if a.Segment == c.Segment {
			return fmt.Errorf("%w: merging processor %s segment %d with itself", storage.ErrInvalid, a.Processor, a.Segment)
		}
		// Lock both in id order, as every other path does.
		first, second := a, c
		if second.Segment < first.Segment {
			first, second = second, first
		}
		low, err := lockClaim(ctx, tx, first)
		if err != nil {
			return err
		}
		high, err := lockClaim(ctx, tx, second)
		if err != nil {
			return err
		}
		if low.Mask != high.Mask {
			return fmt.Errorf("%w: processor %s segments %d (mask %#x) and %d (mask %#x) have different masks and cannot merge",
				storage.ErrInvalid, a.Processor, low.ID, low.Mask, high.ID, high.Mask)
		}
		sib, mask, ok := storage.MergeSibling(low.ID, low.Mask)
		if !ok || sib != high.ID {
			return fmt.Errorf("%w: processor %s segments %d and %d (mask %#x) are not siblings", storage.ErrInvalid, a.Processor, low.ID, high.ID, low.Mask)
		}
		// The merged segment is a new claim by a's owner: its epoch is above
		// both old ones, so both old claims are fenced, and a split of it
		// later hands the removed id an epoch above any it had.
		merged = low
		merged.Mask, merged.Token, merged.Owner, merged.ClaimedAt = mask, token, a.Owner, b.clock()
		merged.Epoch = max(low.Epoch, high.Epoch) + 1
		if _, err := tx.Exec(ctx, `DELETE FROM eddy_tokens WHERE processor = $1 AND segment = $2`, a.Processor, high.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE eddy_tokens SET mask = $3, token = $4, owner = $5, claimed_at = $6, epoch = $7
			WHERE processor = $1 AND segment = $2`, a.Processor, low.ID, mask, token, a.Owner, nanos(merged.ClaimedAt), int64(merged.Epoch))
		return err
	})
	if err != nil {
		return storage.Segment{}, wrapTokenErr(err, "merging", a.Processor, a.Segment)
	}
	return merged, nil
}

func (b *backend) DeleteSegments(ctx context.Context, processor string) error {
	if err := b.live(); err != nil {
		return err
	}
	if _, err := b.pool.Exec(ctx, `DELETE FROM eddy_tokens WHERE processor = $1`, processor); err != nil {
		return fmt.Errorf("postgres: deleting segments of processor %s: %w", processor, err)
	}
	return nil
}

// wrapTokenErr leaves storage's own errors (which already say what and
// where) as they are and names the operation on database errors.
func wrapTokenErr(err error, what, processor string, segment int) error {
	if err == nil || isStorageErr(err) {
		return err
	}
	return fmt.Errorf("postgres: %s processor %s segment %d: %w", what, processor, segment, err)
}
