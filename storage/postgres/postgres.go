// Package postgres is Eddy's PostgreSQL storage backend, for several nodes
// sharing one database. It registers itself as "postgres"; the location given
// to storage.Open is a pgx DSN, and everything lives in the DSN's current
// schema (its search_path), so several stores can share one database.
//
// One row per partition in eddy_partitions carries the next log position and
// the ownership epoch; a commit locks the rows it needs, decides in Go which
// batches pass the fence, and writes all of them in one pipelined
// transaction, so positions stay gapless whichever node writes. Appends are
// announced with NOTIFY on a channel named after the schema, so a Tail on any
// node wakes without polling.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"eddy/storage"
)

func init() { storage.Register("postgres", Open) }

// minConns is the pool size unless the DSN sets pool_max_conns: readers,
// scans and the commit path hold connections at the same time, and pgxpool's
// default (the CPU count, at least 4) is tight on a small machine.
const minConns = 16

type backend struct {
	pool       *pgxpool.Pool
	partitions int
	clock      func() time.Time
	logger     *slog.Logger
	schema     string

	// signals[p] wakes waiters on partition p; the committer notifies them
	// after its own commits and the listener after anybody's.
	signals  []storage.Signal
	listener *listener
	closed   atomic.Bool

	// entrySize[p] is the mean entry size of partition p's last read chunk,
	// by which Read sizes its next queries.
	entrySize []atomic.Int64
}

// Open connects to the database at dsn, creates or migrates the schema in
// the DSN's current schema and starts listening for appends.
func Open(ctx context.Context, dsn string, o storage.Options) (storage.Backend, error) {
	if o.Partitions < 0 || o.Partitions > storage.MaxPartitions {
		return nil, fmt.Errorf("%w: partition count %d out of range [1, %d]", storage.ErrInvalid, o.Partitions, storage.MaxPartitions)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: invalid DSN: %v", err)
	}
	if !strings.Contains(dsn, "pool_max_conns") && cfg.MaxConns < minConns {
		cfg.MaxConns = minConns
	}
	// Acknowledged means durable: commits wait for the WAL flush even on a
	// server whose default is synchronous_commit=off, unless the DSN itself
	// says otherwise.
	if _, set := cfg.ConnConfig.RuntimeParams["synchronous_commit"]; !set {
		cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, connectError(cfg.ConnConfig, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, connectError(cfg.ConnConfig, err)
	}
	b := &backend{pool: pool, clock: o.Clock, logger: o.Logger}
	if err := b.setUp(ctx, o.Partitions); err != nil {
		pool.Close()
		return nil, err
	}
	b.signals = make([]storage.Signal, b.partitions)
	b.entrySize = make([]atomic.Int64, b.partitions)
	b.listener, err = startListener(ctx, cfg.ConnConfig, b)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return b, nil
}

// setUp finds the schema, migrates it and settles the partition count.
func (b *backend) setUp(ctx context.Context, partitions int) error {
	var schema *string
	if err := b.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: reading current schema: %w", err)
	}
	if schema == nil {
		var path string
		_ = b.pool.QueryRow(ctx, `SHOW search_path`).Scan(&path)
		return fmt.Errorf("postgres: no current schema: search_path %q names no existing schema (create it first)", path)
	}
	b.schema = *schema
	n, err := migrate(ctx, b.pool, b.schema, partitions)
	if err != nil {
		return err
	}
	b.partitions = n
	return nil
}

// connectError turns a failed connection into one line that names the
// server and the cause, never the password.
func connectError(cfg *pgx.ConnConfig, err error) error {
	addr := net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		addr = fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	return fmt.Errorf("postgres: cannot connect to %s: %s", addr, connectCause(err))
}

func connectCause(err error) string {
	var pgErr *pgconn.PgError
	var errno syscall.Errno
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &pgErr):
		return fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	case errors.As(err, &errno):
		return errno.Error()
	case errors.As(err, &dnsErr):
		return dnsErr.Error()
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	// pgconn's own messages name user and database but not the password;
	// keep them on one line.
	return strings.Join(strings.Fields(err.Error()), " ")
}

func (b *backend) Partitions() int { return b.partitions }

// Close refuses further calls, wakes waiting tails (which then read and get
// ErrClosed), stops the listener and closes the pool, waiting for calls in
// flight.
func (b *backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	for i := range b.signals {
		b.signals[i].Notify()
	}
	b.listener.stop()
	b.pool.Close()
	return nil
}

// live refuses calls on a closed store.
func (b *backend) live() error {
	if b.closed.Load() {
		return storage.ErrClosed
	}
	return nil
}

// closedErr reports a call cut short by Close (the pool closed under it) as
// ErrClosed, not as whatever the pool said.
func (b *backend) closedErr(err error) error {
	if err != nil && b.closed.Load() {
		return fmt.Errorf("%w (%v)", storage.ErrClosed, err)
	}
	return err
}

// inTx runs fn in one transaction, committing when it returns nil.
func (b *backend) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := b.live(); err != nil {
		return err
	}
	return b.closedErr(pgx.BeginFunc(ctx, b.pool, fn))
}

// nanos stores a time as Unix nanoseconds; the zero time is NULL.
func nanos(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func fromNanos(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n)
}
