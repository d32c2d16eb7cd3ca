package queue

import (
	"context"
	"errors"
	"net/http"

	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/httpjson"
)

// Handler is the queue's HTTP API, for the front end, and the endpoint its
// triggers deliver to:
//
//	POST /join              {"sessionId": "..."}  → the customer's Status
//	POST /abandon           {"sessionId": "..."}  → the customer's Status
//	GET  /customers/{id}                          → the customer's Status
//	GET  /stats                                   → Stats
//	POST /events            CloudEvents from triggers
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /join", func(w http.ResponseWriter, r *http.Request) {
		s.serveCommand(w, r, s.Join)
	})
	mux.HandleFunc("POST /abandon", func(w http.ResponseWriter, r *http.Request) {
		s.serveCommand(w, r, s.Abandon)
	})
	mux.HandleFunc("GET /customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Status(r.PathValue("id"))
		if err != nil {
			httpjson.Error(w, http.StatusNotFound, err)
			return
		}
		httpjson.Write(w, http.StatusOK, st)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, s.Stats())
	})
	mux.Handle("POST /events", s.receiver)
	return mux
}

type sessionBody struct {
	SessionID string `json:"sessionId"`
}

func (s *Service) serveCommand(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, session string) (Status, error)) {
	var b sessionBody
	if !httpjson.Read(w, r, &b) {
		return
	}
	if err := events.CheckSessionID(b.SessionID); err != nil {
		httpjson.Error(w, http.StatusBadRequest, err)
		return
	}
	st, err := do(r.Context(), b.SessionID)
	switch {
	case errors.Is(err, ErrUnknown):
		httpjson.Error(w, http.StatusNotFound, err)
	case err != nil:
		httpjson.Error(w, http.StatusServiceUnavailable, err)
	default:
		httpjson.Write(w, http.StatusOK, st)
	}
}
