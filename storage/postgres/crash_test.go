package postgres

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"eddy/internal/pgtest"
	"eddy/storage/crashtest"
)

func TestMain(m *testing.M) {
	crashtest.MaybeChild()
	os.Exit(m.Run())
}

// TestCrash kills the appending process with SIGKILL at random moments and,
// while it runs, cuts its database connections from the server side: every
// acknowledged entry must survive both, gapless and whole.
func TestCrash(t *testing.T) {
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	dsn := pgtest.Schema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	app := "eddy-crash-" + strings.TrimPrefix(u.Query().Get("search_path"), "eddy_")
	if len(app) > 63 {
		app = app[:63]
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	cuts := 0
	crashtest.Run(t, crashtest.Config{
		Backend:   "postgres",
		Location:  u.String(),
		Rounds:    rounds,
		Appenders: 8,
		Disturb: func(t testing.TB) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			tag, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
			if err != nil {
				t.Fatalf("cutting the child's connections: %v", err)
			}
			cuts += int(tag.RowsAffected())
		},
		Settle: func(t testing.TB) {
			// The server ends a killed client's sessions once their current
			// statement (perhaps a COMMIT) is done.
			ctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			for {
				var sessions int
				if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&sessions); err != nil {
					t.Fatalf("waiting for the child's sessions to end: %v", err)
				}
				if sessions == 0 {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		},
	})
	if cuts == 0 {
		t.Fatal("no connection was cut: the test did not test what it says")
	}
	t.Logf("%d connections cut", cuts)
}
