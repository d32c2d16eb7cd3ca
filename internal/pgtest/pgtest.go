// Package pgtest gives tests a real PostgreSQL: the server named by the DSN
// in EDDY_TEST_POSTGRES, or a local default. Tests skip when it cannot be
// reached, except under CI=true, where PostgreSQL must be there and they fail.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is used when EDDY_TEST_POSTGRES is not set.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

const startHint = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// The server is probed once per test binary: when it is down, every test
// skips at once instead of each waiting for the timeout.
var probe = sync.OnceValues(func() (string, error) {
	dsn := os.Getenv("EDDY_TEST_POSTGRES")
	if dsn == "" {
		dsn = DefaultDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return dsn, err
	}
	return dsn, conn.Close(ctx)
})

// DSN returns the test server's DSN, skipping the test (failing it under
// CI=true) when the server is unreachable.
func DSN(t testing.TB) string {
	t.Helper()
	dsn, err := probe()
	if err != nil {
		msg := fmt.Sprintf("not reachable at %s: %s; start it with: %s", where(dsn), oneLine(err), startHint)
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true but is %s", msg)
		}
		t.Skipf("PostgreSQL is %s (or set EDDY_TEST_POSTGRES to another server)", msg)
	}
	return dsn
}

// Schema creates a schema of its own for the test, dropped (with all it
// holds) when the test ends, and returns a DSN whose search_path is that
// schema.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	name := schemaName(t)
	Exec(t, dsn, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() { Exec(t, dsn, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE") })
	return withSearchPath(dsn, name)
}

// Exec runs statements, in order, on one connection to dsn, failing the
// test on the first error.
func Exec(t testing.TB, dsn string, statements ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connecting to %s: %s", where(dsn), oneLine(err))
	}
	defer conn.Close(ctx)
	for _, sql := range statements {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("pgtest: %s: %v", sql, err)
		}
	}
}

// schemaName is unique and still says which test made it.
func schemaName(t testing.TB) string {
	var b strings.Builder
	b.WriteString("eddy_test_")
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 40 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	return b.String() + "_" + hex.EncodeToString(suffix)
}

// withSearchPath adds search_path to a URL or keyword/value DSN.
func withSearchPath(dsn, schema string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// where names the server without the password.
func where(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "EDDY_TEST_POSTGRES (not a valid DSN)"
	}
	return fmt.Sprintf("%s database %s", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), cfg.Database)
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
