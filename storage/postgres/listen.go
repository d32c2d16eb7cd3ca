package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"eddy/storage"
)

// listener holds one dedicated connection that LISTENs for appends by any
// node and wakes the partition's waiters. Commits NOTIFY the partition number
// on a channel named after the schema, so stores in different schemas of
// one database do not wake each other.
type listener struct {
	cfg     *pgx.ConnConfig
	channel string
	signals []storage.Signal
	logger  *slog.Logger

	pid      atomic.Uint32 // the listening backend, for tests that cut it
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// maxIdentifier is PostgreSQL's identifier limit (NAMEDATALEN-1) in bytes;
// pg_notify refuses longer channel names.
const maxIdentifier = 63

// channelName is the NOTIFY channel for schema. Two schemas whose names agree
// in the first 54 bytes share a channel, which only costs spurious wake-ups.
func channelName(schema string) string {
	ch := "eddy_log_" + schema
	for len(ch) > maxIdentifier {
		_, size := utf8.DecodeLastRuneInString(ch)
		ch = ch[:len(ch)-size]
	}
	return ch
}

// startListener connects and LISTENs before returning, so that no append
// after Open can go unnoticed, then follows notifications in the background.
func startListener(ctx context.Context, cfg *pgx.ConnConfig, b *backend) (*listener, error) {
	l := &listener{
		cfg:     cfg,
		channel: channelName(b.schema),
		signals: b.signals,
		logger:  b.logger,
		done:    make(chan struct{}),
	}
	conn, err := l.connect(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(runCtx, conn)
	return l, nil
}

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, connectError(l.cfg, err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("postgres: LISTEN on channel %q: %w", l.channel, err)
	}
	l.pid.Store(conn.PgConn().PID())
	return conn, nil
}

func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.done)
	for {
		err := l.follow(ctx, conn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		l.logger.Warn("postgres: lost the connection listening for appends; reconnecting", "channel", l.channel, "err", err)
		if conn = l.reconnect(ctx); conn == nil {
			return
		}
		l.logger.Info("postgres: listening for appends again", "channel", l.channel)
		// Appends may have landed while nobody listened: wake every waiter
		// so that it reads again.
		for i := range l.signals {
			l.signals[i].Notify()
		}
	}
}

// follow wakes partitions as notifications arrive, until the connection
// fails or ctx ends.
func (l *listener) follow(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		p, err := strconv.Atoi(n.Payload)
		if err != nil || p < 0 || p >= len(l.signals) {
			// Not ours (a schema sharing the channel name, or a stray
			// NOTIFY): waking everybody is safe.
			for i := range l.signals {
				l.signals[i].Notify()
			}
			continue
		}
		l.signals[p].Notify()
	}
}

// reconnect retries with backoff until it is listening again or ctx ends
// (then it returns nil).
func (l *listener) reconnect(ctx context.Context) *pgx.Conn {
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		conn, err := l.connect(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		backoff = min(2*backoff, 5*time.Second)
		l.logger.Warn("postgres: reconnecting to listen for appends", "channel", l.channel, "err", err, "retry_in", backoff)
	}
}

// stop ends the listener and waits for it.
func (l *listener) stop() {
	l.stopOnce.Do(func() {
		l.cancel()
		<-l.done
	})
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}
