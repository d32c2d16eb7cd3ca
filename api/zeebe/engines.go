package zeebe

import (
	"context"

	"eddy/engine"
)

// Engines yields the engine a request runs on. A node replaces its engine
// when the partitions it holds change; a request holds the engine it was
// given until it releases it, and the replacement waits for that.
type Engines interface {
	// Acquire returns the current engine and the context to run the request
	// in: it ends with ctx, or earlier when the engine is about to be
	// replaced (so that a long poll does not hold the replacement up).
	// release must be called once the request is over.
	Acquire(ctx context.Context) (e *engine.Engine, reqCtx context.Context, release func())
}

// Static serves one engine for the server's whole life.
func Static(e *engine.Engine) Engines { return static{e} }

type static struct{ e *engine.Engine }

func (s static) Acquire(ctx context.Context) (*engine.Engine, context.Context, func()) {
	return s.e, ctx, func() {}
}

type engineKey struct{}

// engineOf returns the engine the interceptors put in a request's context.
func engineOf(ctx context.Context) *engine.Engine {
	return ctx.Value(engineKey{}).(*engine.Engine)
}
