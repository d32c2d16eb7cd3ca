package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"eddy/internal/pgtest"
	"eddy/storage"
)

// sentNothing is an error that pgconn marks as raised before anything was
// sent, as its own are.
type sentNothing struct{}

func (sentNothing) Error() string     { return "conn busy" }
func (sentNothing) SafeToRetry() bool { return true }

func TestCommitSentErr(t *testing.T) {
	uniqueViolation := &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "23505", Message: "duplicate key value"}
	for _, tc := range []struct {
		name    string
		err     error
		unknown bool
	}{
		{"a statement failed", uniqueViolation, false},
		{"a statement failed, wrapped", fmt.Errorf("batch: %w", uniqueViolation), false},
		{"COMMIT failed (localized severity)", &pgconn.PgError{Severity: "FEHLER", SeverityUnlocalized: "ERROR", Code: "40001"}, false},
		{"no severity in English (old server)", &pgconn.PgError{Severity: "ERROR", Code: "40001"}, false},
		{"nothing was sent", sentNothing{}, false},
		{"server shut the session", &pgconn.PgError{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"server crashed", &pgconn.PgError{Severity: "PANIC", SeverityUnlocalized: "PANIC", Code: "XX000"}, true},
		{"connection cut", io.ErrUnexpectedEOF, true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{"timed out", context.DeadlineExceeded, true},
	} {
		err := commitSentErr(tc.err)
		if errors.Is(err, storage.ErrOutcomeUnknown) != tc.unknown {
			t.Errorf("%s: %v; want outcome unknown: %v", tc.name, err, tc.unknown)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v does not wrap %v", tc.name, err, tc.err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: message on several lines: %q", tc.name, err)
		}
	}
	if err := commitSentErr(nil); err != nil {
		t.Errorf("no error: %v", err)
	}
}

// cutProxy stands between the backend and the server. Armed with a command
// tag, it cuts the client's connection at the server's CommandComplete with
// that tag, instead of passing it on (the server did the command, the
// client never hears of it) or right after passing it on.
type cutProxy struct {
	ln       net.Listener
	network  string
	target   string
	cutAt    atomic.Pointer[cutRule]
	cut      chan struct{} // gets a value at each cut
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
	shutdown atomic.Bool
}

// newCutProxy starts a proxy to the server of dsn and returns it with a DSN
// that goes through it.
func newCutProxy(t testing.TB, dsn string) (*cutProxy, string) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{network: "tcp", target: net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), cut: make(chan struct{}, 1)}
	if strings.HasPrefix(cfg.Host, "/") {
		p.network, p.target = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	if p.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(p.ln.Addr().String())
	// TLS would hide the messages: the proxy speaks plain.
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = p.ln.Addr().String()
		q := u.Query()
		q.Set("sslmode", "disable")
		u.RawQuery = q.Encode()
		dsn = u.String()
	} else {
		dsn += fmt.Sprintf(" host=%s port=%s sslmode=disable", host, port)
	}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p, dsn
}

type cutRule struct {
	tag   string
	after bool // pass the CommandComplete on, then cut
}

// arm makes the proxy cut at the next CommandComplete with tag, once.
func (p *cutProxy) arm(tag string, after bool) { p.cutAt.Store(&cutRule{tag, after}) }

func (p *cutProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial(p.network, p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.shutdown.Load() {
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Go(func() {
			_, _ = io.Copy(server, client)
			server.Close()
		})
		p.wg.Go(func() {
			p.forward(client, server)
			client.Close()
			server.Close()
		})
	}
}

// forward passes the server's messages on one by one, each a type byte and
// a length that counts itself, until it is told to cut one.
func (p *cutProxy) forward(client, server net.Conn) {
	header := make([]byte, 5)
	for {
		if _, err := io.ReadFull(server, header); err != nil {
			return
		}
		body := make([]byte, binary.BigEndian.Uint32(header[1:])-4)
		if _, err := io.ReadFull(server, body); err != nil {
			return
		}
		rule := p.cutAt.Load()
		cut := header[0] == 'C' && rule != nil && bytes.Equal(body, append([]byte(rule.tag), 0)) && p.cutAt.CompareAndSwap(rule, nil)
		if cut && !rule.after {
			p.cut <- struct{}{}
			return
		}
		if _, err := client.Write(append(header, body...)); err != nil {
			return
		}
		if cut {
			p.cut <- struct{}{}
			return
		}
	}
}

func (p *cutProxy) close() {
	p.mu.Lock()
	p.shutdown.Store(true)
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// commitOne commits one batch of one entry to partition 0 and returns the
// group's error.
func commitOne(ctx context.Context, b *backend, data string) error {
	bt := storage.NewBatch(0, 0)
	bt.Append([]byte(data))
	firsts, errs := make([]uint64, 1), make([]error, 1)
	if err := b.Commit(ctx, []*storage.Batch{bt}, firsts, errs); err != nil {
		return err
	}
	return errs[0]
}

// A connection cut once the server has committed, before the client heard
// so: the outcome is unknown to Commit, which must say so; the entry is
// durable.
func TestCommitCutAfterCommitIsOutcomeUnknown(t *testing.T) {
	ctx := guard(t)
	dsn := pgtest.Schema(t)
	proxy, via := newCutProxy(t, dsn)
	b := openBackend(t, via, 1)
	if err := commitOne(ctx, b, "before"); err != nil {
		t.Fatal(err)
	}

	proxy.arm("COMMIT", false)
	err := commitOne(ctx, b, "cut")
	select {
	case <-proxy.cut:
	default:
		t.Fatalf("the proxy saw no COMMIT to cut; commit returned %v", err)
	}
	if !errors.Is(err, storage.ErrOutcomeUnknown) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("commit cut after the server committed: %v; want one line wrapping ErrOutcomeUnknown", err)
	}
	t.Logf("commit cut after the server committed: %v", err)
	if got := fmt.Sprint(readAll(t, openBackend(t, dsn, 0), 0)); got != "[1:before 2:cut]" {
		t.Fatalf("after the cut the log holds %s, want [1:before 2:cut]", got)
	}
	// The backend goes on with a new connection.
	if err := commitOne(ctx, b, "after"); err != nil {
		t.Fatal(err)
	}
}

// A connection cut after the server acknowledged COMMIT, before the end of
// the exchange: the group is committed, and Commit says so.
func TestCommitCutAfterAcknowledgementSucceeds(t *testing.T) {
	ctx := guard(t)
	dsn := pgtest.Schema(t)
	proxy, via := newCutProxy(t, dsn)
	b := openBackend(t, via, 1)
	proxy.arm("COMMIT", true)
	if err := commitOne(ctx, b, "acknowledged"); err != nil {
		t.Fatalf("commit cut after COMMIT was acknowledged: %v", err)
	}
	select {
	case <-proxy.cut:
	default:
		t.Fatal("the proxy saw no COMMIT to cut")
	}
	if got := fmt.Sprint(readAll(t, b, 0)); got != "[1:acknowledged]" {
		t.Fatalf("the log holds %s, want [1:acknowledged]", got)
	}
}

// Errors that prove that nothing committed stay plain: a connection cut in
// the lock phase, and a statement the server refused in the last round trip.
func TestCommitFailureBeforeCommitIsPlain(t *testing.T) {
	ctx := guard(t)
	dsn := pgtest.Schema(t)
	proxy, via := newCutProxy(t, dsn)
	b := openBackend(t, via, 1)

	proxy.arm("BEGIN", false)
	err := commitOne(ctx, b, "cut at begin")
	select {
	case <-proxy.cut:
	default:
		t.Fatalf("the proxy saw no BEGIN to cut; commit returned %v", err)
	}
	if err == nil || errors.Is(err, storage.ErrOutcomeUnknown) {
		t.Fatalf("commit cut in the lock phase: %v; want a plain error", err)
	}

	// A row in the way of the next position: the INSERT fails, and with
	// it the transaction.
	query[int](t, dsn, `WITH i AS (INSERT INTO eddy_log (partition, position, ts, data) VALUES (0, 1, 0, 'squatter') RETURNING 1) SELECT count(*) FROM i`)
	err = commitOne(ctx, b, "refused")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" || errors.Is(err, storage.ErrOutcomeUnknown) {
		t.Fatalf("commit refused by the server: %v; want the plain unique violation", err)
	}
	if n := query[int](t, dsn, `SELECT next_position FROM eddy_partitions WHERE partition = 0`); n != 1 {
		t.Fatalf("next position %d after refused commits, want 1", n)
	}
	query[int](t, dsn, `WITH d AS (DELETE FROM eddy_log RETURNING 1) SELECT count(*) FROM d`)
	if err := commitOne(ctx, b, "after"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(readAll(t, b, 0)); got != "[1:after]" {
		t.Fatalf("the log holds %s, want [1:after]", got)
	}
}
