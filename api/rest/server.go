package rest

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"eddy/engine"
)

// Server serves the API over an engine. It is an http.Handler.
type Server struct {
	engine  *engine.Engine
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []route
	origins *http.CrossOriginProtection
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger of unexpected errors (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// handlerFunc is a route's handler: it writes a success itself and returns
// any failure, which the server writes as a problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type route struct {
	pattern string // a net/http pattern: "METHOD /path/{param}"
	handle  handlerFunc
}

// DefaultAwaitTimeout bounds a wait for a process's result when the request
// gives no requestTimeout.
const DefaultAwaitTimeout = 10 * time.Second

// New returns a server for e.
func New(e *engine.Engine, opts ...Option) *Server {
	s := &Server{engine: e, log: slog.Default(), mux: http.NewServeMux(), origins: http.NewCrossOriginProtection()}
	for _, o := range opts {
		o(s)
	}
	s.routes = []route{
		{"POST /v1/deployments", s.deploy},
		{"POST /v1/resources/{resourceKey}/deletion", s.deleteResource},
		{"POST /v1/process-instances", s.createInstance},
		{"GET /v1/process-instances/{processInstanceKey}", s.getInstance},
		{"POST /v1/process-instances/{processInstanceKey}/cancellation", s.cancelInstance},
		{"POST /v1/process-instances/{processInstanceKey}/modification", s.modifyInstance},
		{"PUT /v1/element-instances/{elementInstanceKey}/variables", s.setVariables},
		{"POST /v1/messages", s.publishMessage},
		{"POST /v1/signals", s.broadcastSignal},
		{"POST /v1/jobs/activation", s.activateJobs},
		{"POST /v1/jobs/{jobKey}/completion", s.completeJob},
		{"POST /v1/jobs/{jobKey}/failure", s.failJob},
		{"POST /v1/jobs/{jobKey}/error", s.throwError},
		{"PATCH /v1/jobs/{jobKey}", s.updateJob},
		{"GET /v1/incidents", s.listIncidents},
		{"POST /v1/incidents/{incidentKey}/resolution", s.resolveIncident},
		{"GET /v1/openapi.json", serveOpenAPI},
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.pattern, s.wrap(rt.handle))
	}
	s.mux.Handle("/", s.wrap(s.noRoute))
	return s
}

// Routes returns the patterns the server serves, as registered.
func (s *Server) Routes() []string {
	out := make([]string, len(s.routes))
	for i, rt := range s.routes {
		out[i] = rt.pattern
	}
	return out
}

// ServeHTTP serves the API. A request that would change state from a
// browser page of another origin is refused before any route (see
// crossOriginProblem).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.origins.Check(r) != nil {
		writeProblem(w, r, crossOriginProblem(r))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// wrap writes a handler's error as a problem, and a panic as a 500 rather
// than a dropped connection.
func (s *Server) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("REST handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeProblem(w, r, newProblem(http.StatusInternalServerError, TypeInternal, fmt.Sprintf("the server failed: %v", v)))
			}
		}()
		err := h(w, r)
		if err == nil {
			return
		}
		p := problemFor(err)
		if p.Status >= 500 && r.Context().Err() == nil {
			s.log.Error("REST request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "err", err)
		}
		writeProblem(w, r, p)
	})
}

// noRoute answers what no route matched: 405 if the path exists with other
// methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) error {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		for _, m := range allowed {
			w.Header().Add("Allow", m)
		}
		return newProblem(http.StatusMethodNotAllowed, TypeMethod, fmt.Sprintf("%s %s is not served; use %v", r.Method, r.URL.Path, allowed))
	}
	return newProblem(http.StatusNotFound, TypeNotFound, fmt.Sprintf("no route for %s %s; the API is described at /v1/openapi.json", r.Method, r.URL.Path))
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A failed write means the client went away: nothing to answer.
	w.Write(append(body, '\n'))
	return nil
}

// pathKey reads a key from the path.
func pathKey(r *http.Request, name string) (int64, error) {
	raw := r.PathValue(name)
	k, err := ParseKey(raw)
	if err != nil {
		p := newProblem(http.StatusBadRequest, TypeInvalidArgument, fmt.Sprintf("%s in the path must be a key (a positive 64-bit integer), got %q", name, raw))
		p.Field = name
		return 0, p
	}
	return int64(k), nil
}

// checker is a request that validates itself, naming the field at fault.
type checker interface{ check() error }

// body decodes and checks a request's JSON body.
func body[T any](w http.ResponseWriter, r *http.Request) (*T, error) {
	req := new(T)
	if err := decodeBody(w, r, req); err != nil {
		return nil, err
	}
	if c, ok := any(req).(checker); ok {
		if err := c.check(); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// command reads a command on one entity: the key named param in the path,
// and the body.
func command[T any](w http.ResponseWriter, r *http.Request, param string) (int64, *T, error) {
	key, err := pathKey(r, param)
	if err != nil {
		return 0, nil, err
	}
	req, err := body[T](w, r)
	return key, req, err
}

// noContent answers 204 unless err.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// awaitTimeout is the wait a request asked for, or the default.
func awaitTimeout(a Await) time.Duration {
	if a.RequestTimeout > 0 {
		return time.Duration(a.RequestTimeout)
	}
	return DefaultAwaitTimeout
}

// checkAwait refuses wait options given without awaitCompletion, which
// would be silently ignored.
func checkAwait(a Await) error {
	switch {
	case a.AwaitCompletion:
		return nil
	case a.RequestTimeout != 0:
		return invalid("requestTimeout", `field "requestTimeout" applies only with "awaitCompletion": true`)
	case len(a.FetchVariables) > 0:
		return invalid("fetchVariables", `field "fetchVariables" applies only with "awaitCompletion": true`)
	}
	return nil
}
