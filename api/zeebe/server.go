package zeebe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/camunda/zeebe/clients/go/v8/pkg/pb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"

	"eddy/engine"
)

// Server implements the Zeebe gateway service over Eddy's engine.
type Server struct {
	pb.UnimplementedGatewayServer

	engines   Engines
	log       *slog.Logger
	tls       *tls.Config
	tokens    tokenSet
	limit     int64
	inFlight  atomic.Int64
	node      string
	liveNodes func(ctx context.Context) ([]Node, error)
	probe     func(ctx context.Context, node string) bool
	address   string
	// maxResponse bounds the bytes of jobs in one ActivateJobs response.
	maxResponse int
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger of unexpected errors (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithTLS serves over TLS with cfg (see LoadTLS); the default is plaintext.
func WithTLS(cfg *tls.Config) Option { return func(s *Server) { s.tls = cfg } }

// WithBearerTokens makes every request carry "authorization: Bearer T" with
// T one of tokens; without tokens (the default) requests are not checked.
func WithBearerTokens(tokens ...string) Option {
	return func(s *Server) { s.tokens = newTokenSet(tokens) }
}

// WithMaxInFlight bounds the requests (all but job activations and
// topology) the server works on at once; beyond it a request is refused
// with RESOURCE_EXHAUSTED, as Zeebe does under back-pressure, and clients
// retry later. n <= 0 lifts the bound.
func WithMaxInFlight(n int) Option { return func(s *Server) { s.limit = int64(n) } }

// WithNode names this node and the address clients reach it on, for the
// topology.
func WithNode(name, address string) Option {
	return func(s *Server) { s.node, s.address = name, address }
}

// Node is a live node as the topology shows it: its id, stable while it
// lives, and the host and port its gRPC gateway is reached at (0 for a node
// that serves none). An empty Host is the one the node's name carries, if
// it is a claim owner's ("node@http://host:port").
type Node struct {
	Name string
	ID   int32
	Host string
	Port int32
}

// WithNodes gives the topology the live nodes (this one among them), so
// that it shows the nodes that hold no partition too, and every gateway
// numbers and addresses the brokers alike.
func WithNodes(live func(ctx context.Context) ([]Node, error)) Option {
	return func(s *Server) { s.liveNodes = live }
}

// WithProbe gives the topology a probe of another node by name: the
// partitions of a node that does not answer are shown UNHEALTHY, as a Zeebe
// gateway shows a broker its failure detection lost, rather than healthy
// until its claims lapse.
func WithProbe(probe func(ctx context.Context, node string) bool) Option {
	return func(s *Server) { s.probe = probe }
}

// DefaultMaxInFlight is the default bound of WithMaxInFlight.
const DefaultMaxInFlight = 8192

// Defaults of the waits a request may leave unset, as in Zeebe's gateway.
const (
	// DefaultLongPoll is how long an activation waits for jobs when its
	// requestTimeout is 0.
	DefaultLongPoll = 10 * time.Second
	// DefaultResultTimeout is how long a with-result creation waits when
	// its requestTimeout is not positive.
	DefaultResultTimeout = 10 * time.Second
)

// New returns a server that runs each request on the engine engines yields.
func New(engines Engines, opts ...Option) *Server {
	s := &Server{engines: engines, log: slog.Default(), limit: DefaultMaxInFlight, node: "eddy", maxResponse: maxResponseBytes}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewGRPC returns a gRPC server serving s, with its TLS and checks.
func (s *Server) NewGRPC(extra ...grpc.ServerOption) *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unary),
		grpc.ChainStreamInterceptor(s.stream),
		// Zeebe clients ping every 45 s (zbctl, the Go client) or 30 s
		// (zeebe-node) when idle; grpc-go's default policy would answer such
		// pings by closing the connection.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	if s.tls != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.tls)))
	}
	g := grpc.NewServer(append(opts, extra...)...)
	pb.RegisterGatewayServer(g, s)
	return g
}

// methodTopology is served without partitions and not counted in flight:
// it reads no partition.
const methodTopology = "/gateway_protocol.Gateway/Topology"

// unary checks a request, admits it and runs it on the current engine.
func (s *Server) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	if err := s.tokens.check(ctx); err != nil {
		return nil, err
	}
	if info.FullMethod != methodTopology {
		if err := s.admit(); err != nil {
			return nil, err
		}
		defer s.inFlight.Add(-1)
	}
	defer s.recoverPanic(info.FullMethod, &err)
	for attempt := 1; ; attempt++ {
		var switched bool
		resp, switched, err = s.unaryOnce(ctx, req, info, handler)
		var cut *waitCut
		if errors.As(err, &cut) {
			if switched && ctx.Err() == nil {
				resp, err = s.awaitAgain(ctx, cut)
			} else {
				err = cut.status()
			}
			break
		}
		if !switched || ctx.Err() != nil {
			break
		}
		if status.Code(err) == codes.Unavailable && attempt < maxSwitchRetries {
			// Cut short by a switch while it found no owner for its
			// partition (its node died, and this one is taking the
			// partition over): the request reached no partition, so
			// the new engine takes it, as a Zeebe gateway serves a
			// request once a new leader is elected.
			continue
		}
		if status.Code(err) == codes.Canceled {
			// Cut short by a switch, not by the client: nothing was
			// done that the handler did not say otherwise.
			return nil, errSwitching
		}
		break
	}
	s.logFailure(info.FullMethod, err)
	return resp, err
}

// maxSwitchRetries bounds how often one request is run again on a new
// engine: switches follow claim rounds, seconds apart.
const maxSwitchRetries = 4

// unaryOnce runs the request on the current engine; switched says a switch
// of the engine cut it short (not the client).
func (s *Server) unaryOnce(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, switched bool, err error) {
	e, reqCtx, release := s.engines.Acquire(ctx)
	defer release()
	if info.FullMethod != methodTopology && !serves(e) {
		return nil, false, errNoPartition
	}
	resp, err = handler(context.WithValue(reqCtx, engineKey{}, e), req)
	return resp, err != nil && reqCtx.Err() != nil && ctx.Err() == nil, err
}

// stream does for job activation what unary does for the other RPCs, but
// does not count it in flight: a long poll waits rather than loads.
func (s *Server) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	ctx := ss.Context()
	if err := s.tokens.check(ctx); err != nil {
		return err
	}
	e, reqCtx, release := s.engines.Acquire(ctx)
	defer release()
	if !serves(e) {
		return errNoPartition
	}
	defer s.recoverPanic(info.FullMethod, &err)
	err = handler(srv, &requestStream{ServerStream: ss, ctx: context.WithValue(reqCtx, engineKey{}, e)})
	if err != nil && reqCtx.Err() != nil && ctx.Err() == nil {
		// The engine is being replaced: end the poll empty, and the worker
		// polls again, on the new engine.
		return nil
	}
	s.logFailure(info.FullMethod, err)
	return err
}

// serves reports whether e can serve requests: it runs partitions, or it
// forwards to the nodes that do (as a Zeebe gateway does).
func serves(e *engine.Engine) bool { return e.Forwards() || len(e.Partitions()) > 0 }

// logFailure logs what fails on the server's side (INTERNAL, UNKNOWN):
// refusals of bad requests are the client's to see, not the operator's.
func (s *Server) logFailure(method string, err error) {
	if c := status.Code(err); c == codes.Internal || c == codes.Unknown {
		s.log.Error("gRPC request failed", "method", method, "code", c, "err", err)
	}
}

// requestStream is a server stream whose context carries the engine.
type requestStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (r *requestStream) Context() context.Context { return r.ctx }

var (
	errNoPartition = status.Error(codes.Unavailable, "Expected to handle the request, but this Eddy node owns no partition at the moment and forwards to no other node; retry, or send it to another node")
	errSwitching   = status.Error(codes.Unavailable, "Expected to handle the request, but this Eddy node is restarting its engine on a new set of partitions; retry")
)

// admit counts a request in flight, refusing it over the limit.
func (s *Server) admit() error {
	n := s.inFlight.Add(1)
	if s.limit > 0 && n > s.limit {
		s.inFlight.Add(-1)
		return status.Errorf(codes.ResourceExhausted, "Expected to handle the request, but the gateway is under back-pressure: %d requests are in flight, the limit is %d; retry later", n-1, s.limit)
	}
	return nil
}

// recoverPanic answers INTERNAL for a handler that panicked rather than
// letting it end the process.
func (s *Server) recoverPanic(method string, err *error) {
	if v := recover(); v != nil {
		s.log.Error("gRPC handler panicked", "method", method, "panic", v, "stack", string(debug.Stack()))
		*err = status.Error(codes.Internal, fmt.Sprintf("the server failed: %v", v))
	}
}
