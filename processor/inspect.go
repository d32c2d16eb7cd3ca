package processor

import (
	"context"
	"fmt"
	"time"

	"eddy/storage"
)

// SegmentInfo is one segment of a processor as the token store holds it,
// whichever node processes it.
type SegmentInfo struct {
	Segment   int
	Mask      int
	Owner     string // "" when unclaimed
	ClaimedAt time.Time
	Position  Token
	Replaying bool
	Merging   bool
}

// Inspect lists a processor's segments from the token store: the view of the
// whole cluster, where Status is one node's. It works whether or not the
// processor runs.
func Inspect(ctx context.Context, store *storage.Store, name string) ([]SegmentInfo, error) {
	segs, err := store.Tokens().Segments(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("processor %s: reading segments: %w", name, err)
	}
	out := make([]SegmentInfo, len(segs))
	for i, s := range segs {
		prog, err := decodeProgress(s.Token)
		if err != nil {
			return nil, fmt.Errorf("processor %s segment %d: %w", name, s.ID, err)
		}
		out[i] = SegmentInfo{
			Segment: s.ID, Mask: s.Mask, Owner: s.Owner, ClaimedAt: s.ClaimedAt,
			Position: prog.position(), Replaying: prog.replaying(), Merging: prog.merging(),
		}
	}
	return out, nil
}
