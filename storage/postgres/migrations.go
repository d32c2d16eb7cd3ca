package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"eddy/storage"
)

// migrations are the schema's versions, in order: migrations[i] takes the
// schema from version i to i+1. Append only; never edit one that has shipped.
var migrations = []string{
	// 1: the log, the state, the token store and partition ownership.
	`
CREATE TABLE eddy_meta (
	id         int PRIMARY KEY CHECK (id = 1),
	partitions int NOT NULL CHECK (partitions > 0)
);
CREATE TABLE eddy_partitions (
	partition     int PRIMARY KEY,
	next_position bigint NOT NULL DEFAULT 1,
	last_ts       bigint NOT NULL DEFAULT 0,
	owner         text NOT NULL DEFAULT '',
	epoch         bigint NOT NULL DEFAULT 0,
	claimed_at    bigint
);
CREATE TABLE eddy_log (
	partition int NOT NULL,
	position  bigint NOT NULL,
	ts        bigint NOT NULL,
	data      bytea NOT NULL,
	PRIMARY KEY (partition, position)
);
CREATE TABLE eddy_state (
	partition int NOT NULL,
	key       bytea NOT NULL,
	value     bytea NOT NULL,
	PRIMARY KEY (partition, key)
);
CREATE TABLE eddy_tokens (
	processor  text NOT NULL,
	segment    int NOT NULL,
	mask       int NOT NULL,
	token      bytea,
	owner      text NOT NULL DEFAULT '',
	claimed_at bigint,
	epoch      bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (processor, segment)
);`,
}

// lockClass namespaces Eddy's advisory locks (the first key of the two-key
// form); the second key is a hash of the schema, so stores in different
// schemas do not wait for each other.
const lockClass = 0x0edd1

// migrate brings the schema up to date and settles the partition count, in
// one transaction under an advisory lock so that nodes starting together do
// not race. It returns the partition count.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string, partitions int) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, lockClass); err != nil {
			return fmt.Errorf("postgres: locking schema %q for migration: %w", schema, err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS eddy_schema_version (
			id      int PRIMARY KEY CHECK (id = 1),
			version int NOT NULL
		)`); err != nil {
			return fmt.Errorf("postgres: creating eddy_schema_version in schema %q: %w", schema, err)
		}
		var version int
		err := tx.QueryRow(ctx, `SELECT version FROM eddy_schema_version WHERE id = 1`).Scan(&version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: reading schema version in schema %q: %w", schema, err)
		}
		if version > len(migrations) {
			return fmt.Errorf("postgres: schema %q is at version %d, newer than this build knows (%d): run a newer eddy", schema, version, len(migrations))
		}
		for v := version; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("postgres: migrating schema %q to version %d: %w", schema, v+1, err)
			}
		}
		if version < len(migrations) {
			if _, err := tx.Exec(ctx, `INSERT INTO eddy_schema_version (id, version) VALUES (1, $1)
				ON CONFLICT (id) DO UPDATE SET version = excluded.version`, len(migrations)); err != nil {
				return fmt.Errorf("postgres: recording schema version in schema %q: %w", schema, err)
			}
		}
		n, err = settlePartitions(ctx, tx, schema, partitions)
		return err
	})
	return n, err
}

// settlePartitions creates the partition rows of a new store, or checks the
// requested count against an existing one.
func settlePartitions(ctx context.Context, tx pgx.Tx, schema string, want int) (int, error) {
	var have int
	err := tx.QueryRow(ctx, `SELECT partitions FROM eddy_meta WHERE id = 1`).Scan(&have)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if want == 0 {
			want = storage.DefaultPartitions
		}
		if _, err := tx.Exec(ctx, `INSERT INTO eddy_meta (id, partitions) VALUES (1, $1)`, want); err != nil {
			return 0, fmt.Errorf("postgres: recording partition count in schema %q: %w", schema, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO eddy_partitions (partition) SELECT generate_series(0, $1::int - 1)`, want); err != nil {
			return 0, fmt.Errorf("postgres: creating partitions in schema %q: %w", schema, err)
		}
		return want, nil
	case err != nil:
		return 0, fmt.Errorf("postgres: reading partition count in schema %q: %w", schema, err)
	case want != 0 && want != have:
		// Said as the pebble backend says it: "pass 0" was advice for Go
		// callers, and eddy dev, which refuses --partitions 0, printed it
		// to users who had to leave the flag out instead.
		return 0, fmt.Errorf("%w: the store in schema %q has %d partitions, %d were requested (the count is fixed when a store is created)", storage.ErrInvalid, schema, have, want)
	}
	return have, nil
}
