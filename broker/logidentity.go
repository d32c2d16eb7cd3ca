package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"eddy/storage"
)

// A live push id names log positions, which a log started afresh (a new
// data directory, a new schema) reuses: an id from the old log, within the
// new one's positions, would resume from the wrong place and skip events.
// So ids begin with the log's identity, made once when the first node
// starts on the store and kept in its token store (whose segment creation
// is once-only on every backend, so that two nodes starting together agree):
// "3fa9c2e17d0b4e55@1-57.0-100". An id of another identity is refused; an
// id without one (from before identities) is taken as it is.

// logIdentityName is the token store entry that holds the identity.
const logIdentityName = "broker/log-identity"

// logIdentity returns the store's log identity, made if there is none.
// It is read first: only a store's first start writes.
func logIdentity(ctx context.Context, store *storage.Store) (string, error) {
	tokens := store.Tokens()
	segs, err := tokens.Segments(ctx, logIdentityName)
	if err == nil && len(segs) == 0 {
		made := make([]byte, 8)
		if _, err := rand.Read(made); err != nil {
			return "", err
		}
		if err := tokens.InitializeSegments(ctx, logIdentityName, 1, made); err != nil && !errors.Is(err, storage.ErrExists) {
			return "", fmt.Errorf("broker: making the log's identity: %w", err)
		}
		segs, err = tokens.Segments(ctx, logIdentityName)
	}
	if err != nil {
		return "", fmt.Errorf("broker: reading the log's identity: %w", err)
	}
	if len(segs) != 1 || len(segs[0].Token) != 8 {
		return "", fmt.Errorf("broker: the log's identity (%s) is damaged: %d entries", logIdentityName, len(segs))
	}
	return hex.EncodeToString(segs[0].Token), nil
}
