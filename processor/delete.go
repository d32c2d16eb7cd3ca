package processor

import (
	"context"
	"errors"
	"fmt"

	"eddy/storage"
)

// Delete removes what the processor named name keeps in the token store:
// its segments, with their tokens, and its node slots. It is for a
// processor that is gone for good: one still running on some node would
// create them again.
func Delete(ctx context.Context, store *storage.Store, name string) error {
	tokens := store.Tokens()
	err := errors.Join(tokens.DeleteSegments(ctx, name), tokens.DeleteSegments(ctx, name+membersSuffix))
	if err != nil {
		return fmt.Errorf("processor %s: deleting its segments: %w", name, err)
	}
	return nil
}
