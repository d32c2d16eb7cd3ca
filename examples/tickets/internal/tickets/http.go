package tickets

import (
	"context"
	"errors"
	"net/http"

	"eddy/examples/tickets/internal/events"
	"eddy/examples/tickets/internal/httpjson"
)

// Handler is the tickets service's HTTP API, for the front end, and the
// endpoint its triggers deliver to:
//
//	POST /reservations               {"sessionId", "ticketsQuantity", "ticketsType"} → View
//	GET  /reservations/{id}                                                          → View
//	POST /reservations/{id}/payment  {"sessionId"}                                   → View
//	GET  /stock                                                                      → Stock
//	POST /events                     CloudEvents from triggers
//
// Errors: 400 for a bad request, 403 for a customer still in the queue,
// 404 for an unknown reservation, 409 when tickets ran out or the
// reservation was released, 503 when the broker did not take an event.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reservations", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			SessionID       string `json:"sessionId"`
			TicketsQuantity int    `json:"ticketsQuantity"`
			TicketsType     string `json:"ticketsType"`
		}
		if !httpjson.Read(w, r, &b) {
			return
		}
		if err := events.CheckSessionID(b.SessionID); err != nil {
			httpjson.Error(w, http.StatusBadRequest, err)
			return
		}
		v, err := s.Reserve(r.Context(), b.SessionID, b.TicketsQuantity, b.TicketsType)
		answer(w, v, err)
	})
	mux.HandleFunc("GET /reservations/{id}", func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Reservation(r.PathValue("id"))
		answer(w, v, err)
	})
	mux.HandleFunc("POST /reservations/{id}/payment", func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			SessionID string `json:"sessionId"`
		}
		if !httpjson.Read(w, r, &b) {
			return
		}
		v, err := s.Pay(r.Context(), b.SessionID, r.PathValue("id"))
		answer(w, v, err)
	})
	mux.HandleFunc("GET /stock", func(w http.ResponseWriter, r *http.Request) {
		httpjson.Write(w, http.StatusOK, s.Stock())
	})
	mux.Handle("POST /events", s.receiver)
	return mux
}

func answer(w http.ResponseWriter, v View, err error) {
	status := http.StatusOK
	switch {
	case err == nil:
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotAdmitted), errors.Is(err, ErrLeft):
		status = http.StatusForbidden
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrSoldOut), errors.Is(err, ErrReleased):
		status = http.StatusConflict
	case errors.Is(err, context.Canceled):
		return
	default:
		status = http.StatusServiceUnavailable
	}
	if err != nil {
		httpjson.Error(w, status, err)
		return
	}
	httpjson.Write(w, status, v)
}
