package cluster

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

// maxCommandSize bounds a forwarded command's body: commands carry at most
// a variables document and a deployment's resources.
const maxCommandSize = 64 << 20

// Engines yields the engine that serves a request, a context that ends
// when that engine is about to be replaced, and a function to call
// when the request is over (a node may switch engines when its partitions
// change).
type Engines interface {
	Acquire(ctx context.Context) (*engine.Engine, context.Context, func())
}

// Handler serves the requests peers forward to this node. secret, if not
// empty, must come as a bearer token: the endpoints act on any partition
// this node owns and belong on a trusted network. log (slog.Default() when
// nil) is told of requests refused for their secret.
func Handler(engines Engines, secret string, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &handler{engines: engines, secret: secret, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathCommands, h.command)
	mux.HandleFunc("GET "+pathIncidents, h.incidents)
	mux.HandleFunc("GET "+pathInstance, h.instance)
	mux.HandleFunc("GET "+pathDefinitions, h.definitions)
	mux.HandleFunc("GET "+pathPing, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	return h.auth(mux)
}

type handler struct {
	engines Engines
	secret  string
	log     *slog.Logger
	// warned is when a refused request was last logged (Unix
	// nanoseconds): a misconfigured peer sends many.
	warned atomic.Int64
}

// refusedLogGap spaces the lines logged of refused forwarded requests.
const refusedLogGap = 10 * time.Second

// warnRefused logs a forwarded request refused for its secret, at most
// once a refusedLogGap.
func (h *handler) warnRefused(r *http.Request, msg string) {
	now := time.Now().UnixNano()
	last := h.warned.Load()
	if now-last < int64(refusedLogGap) || !h.warned.CompareAndSwap(last, now) {
		return
	}
	h.log.Warn("refused a request another node forwarded: its cluster secret is not this node's", "from", r.RemoteAddr, "reason", msg)
}

func (h *handler) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.secret != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+h.secret)) != 1 {
			msg := "cluster: a forwarded request needs the cluster secret as a bearer token, and this one has none"
			if r.Header.Get("Authorization") != "" {
				msg = "cluster: the cluster secret of this forwarded request is not this node's: give every node the same --cluster-secret (or EDDY_CLUSTER_SECRET)"
			}
			h.warnRefused(r, msg)
			writeFailure(w, http.StatusUnauthorized, failure{Message: msg})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) command(w http.ResponseWriter, r *http.Request) {
	p, ok := pathInt(w, r, "partition")
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCommandSize))
	if err != nil {
		writeFailure(w, http.StatusRequestEntityTooLarge, failure{Message: fmt.Sprintf("cluster: reading the command: %v", err)})
		return
	}
	var cmd record.Record
	if err := json.Unmarshal(body, &cmd); err != nil {
		writeFailure(w, http.StatusBadRequest, failure{Message: fmt.Sprintf("cluster: the command does not decode: %v", err)})
		return
	}
	h.serve(w, r, func(e *engine.Engine, ctx context.Context) (any, error) {
		resp, err := e.ServeCommand(ctx, p, cmd)
		var rej *engine.Rejection
		if errors.As(err, &rej) {
			err = nil // the response carries it
		}
		return commandAnswer{Response: resp}, err
	})
}

// serve runs call on the node's current engine and answers with what it
// returns, as JSON, or with its error.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, call func(*engine.Engine, context.Context) (any, error)) {
	e, ctx, done := h.engines.Acquire(r.Context())
	defer done()
	if e == nil {
		writeError(w, engine.ErrNoPartition)
		return
	}
	v, err := call(e, ctx)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *handler) instance(w http.ResponseWriter, r *http.Request) {
	key, err := strconv.ParseInt(r.PathValue("key"), 10, 64)
	if err != nil {
		writeFailure(w, http.StatusBadRequest, failure{Message: fmt.Sprintf("cluster: instance key %q is not a number", r.PathValue("key"))})
		return
	}
	h.serve(w, r, func(e *engine.Engine, ctx context.Context) (any, error) { return e.ServeInstanceState(ctx, key) })
}

func (h *handler) incidents(w http.ResponseWriter, r *http.Request) {
	p, ok := pathInt(w, r, "partition")
	if !ok {
		return
	}
	var q engine.IncidentQuery
	var limit int64
	for name, dst := range map[string]*int64{"instance": &q.ProcessInstanceKey, "after": &q.After, "limit": &limit} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeFailure(w, http.StatusBadRequest, failure{Message: fmt.Sprintf("cluster: query parameter %s=%q is not a number", name, v)})
				return
			}
			*dst = n
		}
	}
	q.Limit = int(limit)
	h.serve(w, r, func(e *engine.Engine, ctx context.Context) (any, error) { return e.ServeIncidents(ctx, p, q) })
}

func (h *handler) definitions(w http.ResponseWriter, r *http.Request) {
	p, ok := pathInt(w, r, "partition")
	if !ok {
		return
	}
	var keys []int64
	for _, k := range strings.Split(r.URL.Query().Get("keys"), ",") {
		key, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			writeFailure(w, http.StatusBadRequest, failure{Message: fmt.Sprintf("cluster: definition key %q is not a number", k)})
			return
		}
		keys = append(keys, key)
	}
	ms, err := strconv.ParseInt(r.URL.Query().Get("wait"), 10, 64)
	if err != nil || ms < 0 {
		writeFailure(w, http.StatusBadRequest, failure{Message: fmt.Sprintf("cluster: wait %q is not a number of milliseconds", r.URL.Query().Get("wait"))})
		return
	}
	h.serve(w, r, func(e *engine.Engine, ctx context.Context) (any, error) {
		held, err := e.ServeDefinitions(ctx, p, keys, time.Duration(ms)*time.Millisecond)
		return definitionsAnswer{Held: held}, err
	})
}

func pathInt(w http.ResponseWriter, r *http.Request, name string) (int, bool) {
	n, err := strconv.Atoi(r.PathValue(name))
	if err != nil {
		writeFailure(w, http.StatusBadRequest, failure{Message: fmt.Sprintf("cluster: %s %q is not a number", name, r.PathValue(name))})
		return 0, false
	}
	return n, true
}

func writeError(w http.ResponseWriter, err error) {
	var rej *engine.Rejection
	switch {
	case errors.As(err, &rej):
		writeFailure(w, http.StatusConflict, failure{Rejection: rej.Type, Message: rej.Reason})
	case errors.Is(err, engine.ErrNoPartition):
		writeFailure(w, http.StatusMisdirectedRequest, failure{NotOwner: true, Message: err.Error()})
	case errors.Is(err, storage.ErrOutcomeUnknown) || errors.Is(err, storage.ErrFenced):
		// The command may have been written: the caller must not retry
		// blindly.
		writeFailure(w, http.StatusServiceUnavailable, failure{Unknown: true, Message: err.Error()})
	default:
		writeFailure(w, http.StatusServiceUnavailable, failure{Message: err.Error()})
	}
}

func writeFailure(w http.ResponseWriter, status int, f failure) { writeJSON(w, status, f) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
