package processor

import (
	"context"
	"errors"
)

// Handlers combines several handlers into one that calls each in turn, the
// way one processor serves several event handling components. It keeps their
// abilities: replays go only to those that accept them, and Reset reaches
// every ResetHandler among them that accepts replays.
func Handlers(hs ...Handler) Handler {
	g := group{all: hs}
	for _, h := range hs {
		if !skipsReplays(h) {
			g.replay = append(g.replay, h)
		}
	}
	return g
}

type group struct{ all, replay []Handler }

func (g group) Handle(ctx context.Context, d Delivery) error {
	hs := g.all
	if d.Replay {
		hs = g.replay
	}
	for _, h := range hs {
		if err := h.Handle(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// SkipsReplays is true only when no handler of the group takes replays.
func (g group) SkipsReplays() bool { return len(g.replay) == 0 }

func (g group) Reset(ctx context.Context, r Reset) error {
	var errs []error
	for _, h := range g.replay {
		if rh, ok := h.(ResetHandler); ok {
			errs = append(errs, rh.Reset(ctx, r))
		}
	}
	return errors.Join(errs...)
}

// SkipReplays wraps h so that it is never called for replayed events and
// never reset.
func SkipReplays(h Handler) Handler { return noReplay{h} }

type noReplay struct{ h Handler }

func (n noReplay) Handle(ctx context.Context, d Delivery) error {
	if d.Replay {
		return nil
	}
	return n.h.Handle(ctx, d)
}

func (noReplay) SkipsReplays() bool { return true }

func skipsReplays(h Handler) bool {
	ra, ok := h.(ReplayAware)
	return ok && ra.SkipsReplays()
}

// resetHandlers calls h's Reset unless h skips replays.
func resetHandler(ctx context.Context, h Handler, r Reset) error {
	if skipsReplays(h) {
		return nil
	}
	if rh, ok := h.(ResetHandler); ok {
		return rh.Reset(ctx, r)
	}
	return nil
}
