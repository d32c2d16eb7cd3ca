package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"eddy/storage"
)

// isStorageErr reports whether err is one of storage's own errors, which
// already say what and where, so that callers pass it on as it is instead of
// naming the operation again.
func isStorageErr(err error) bool {
	var corrupt *storage.CorruptError
	for _, e := range []error{storage.ErrNotFound, storage.ErrFenced, storage.ErrClaimed, storage.ErrExists,
		storage.ErrInvalid, storage.ErrClosed, storage.ErrOutcomeUnknown} {
		if errors.Is(err, e) {
			return true
		}
	}
	return errors.As(err, &corrupt)
}

// commitSentErr classifies an error of a commit's last round trip, the
// pipelined batch that ends in COMMIT, which may have reached the server
// and committed before the error (a connection cut while sending or reading
// the results, a server that went away). Only two kinds of error prove that
// nothing committed:
//
//   - an error the server reported with severity ERROR: the statement failed,
//     the transaction is aborted, and the server skips the rest of the
//     pipeline, COMMIT included (or COMMIT itself failed);
//   - an error pgconn marks safe to retry: nothing was sent at all.
//
// Those are returned as they are, like every error before the last round
// trip (acquiring a connection, the lock phase, the COPY of a large group).
// Any other error wraps storage.ErrOutcomeUnknown: the group may be durable,
// and the caller must read the log before writing it again. A FATAL or PANIC
// from the server is no proof either way: it ends the session, and may come
// after the commit record was written.
func commitSentErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if (errors.As(err, &pgErr) && serverSeverity(pgErr) == "ERROR") || pgconn.SafeToRetry(err) {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return fmt.Errorf("%w: postgres: commit: %w", storage.ErrOutcomeUnknown, err)
}

// serverSeverity is the error's severity in English, whatever lc_messages.
func serverSeverity(e *pgconn.PgError) string {
	if e.SeverityUnlocalized != "" {
		return e.SeverityUnlocalized
	}
	return e.Severity
}
