package storage

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: the key, token or segment does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrFenced: the caller's epoch or claim is no longer current (another
	// owner claimed the partition or the segment since), so the write was
	// refused.
	ErrFenced = errors.New("storage: fenced: claim or epoch is no longer current")
	// ErrClaimed: another owner holds a claim that has not timed out.
	ErrClaimed = errors.New("storage: claimed by another owner")
	// ErrExists: the thing to create exists already.
	ErrExists = errors.New("storage: already exists")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("storage: closed")
	// ErrOutcomeUnknown: the commit may or may not have become durable (the
	// connection broke after the commit was sent, or a sync failed after
	// the write). Read the log before retrying, or an entry may be written
	// twice.
	ErrOutcomeUnknown = errors.New("storage: outcome of the commit is unknown")
	// ErrInvalid: the request itself is malformed (bad partition, empty key,
	// oversized entry, ...). The wrapped message says what and where.
	ErrInvalid = errors.New("storage: invalid request")
)

// CorruptError reports data that failed a consistency check. It names the
// file (or table) and what is wrong; corrupt data is never skipped silently.
type CorruptError struct {
	File   string
	Detail string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("storage: corrupt data in %s: %s", e.File, e.Detail)
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
