package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"eddy/engine"
	"eddy/record"
)

// Problem is an RFC 9457 problem details object, the body of every error
// response (Content-Type application/problem+json). Besides the standard
// members it may name the request field at fault, the engine's rejection
// type, and the keys of what a timed-out request started, which goes on.
type Problem struct {
	Type               string `json:"type"`
	Title              string `json:"title"`
	Status             int    `json:"status"`
	Detail             string `json:"detail,omitempty"`
	Instance           string `json:"instance,omitempty"`
	Field              string `json:"field,omitempty"`
	RejectionType      string `json:"rejectionType,omitempty"`
	ProcessInstanceKey Key    `json:"processInstanceKey,omitempty"`
	MessageKey         Key    `json:"messageKey,omitempty"`
}

func (p *Problem) Error() string {
	msg := p.Title
	if p.Detail != "" {
		msg = p.Detail
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, p.Status)
}

// Problem types: URNs, as they identify kinds of problem rather than pages.
const (
	TypeInvalidArgument = "urn:eddy:problem:invalid-argument"
	TypeMalformed       = "urn:eddy:problem:malformed-request"
	TypeNotFound        = "urn:eddy:problem:not-found"
	TypeAlreadyExists   = "urn:eddy:problem:already-exists"
	TypeInvalidState    = "urn:eddy:problem:invalid-state"
	TypeTimeout         = "urn:eddy:problem:timeout"
	TypeTooLarge        = "urn:eddy:problem:too-large"
	TypeUnsupportedType = "urn:eddy:problem:unsupported-media-type"
	TypeMethod          = "urn:eddy:problem:method-not-allowed"
	TypeCrossOrigin     = "urn:eddy:problem:cross-origin"
	TypeUnavailable     = "urn:eddy:problem:unavailable"
	TypeInternal        = "urn:eddy:problem:internal"
)

func newProblem(status int, typ, detail string) *Problem {
	return &Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail}
}

// invalid is a 400 about one request field.
func invalid(field, format string, args ...any) *Problem {
	p := newProblem(http.StatusBadRequest, TypeInvalidArgument, fmt.Sprintf(format, args...))
	p.Field = field
	return p
}

// crossOriginProblem is the 403 of a request that net/http's
// CrossOriginProtection refused: a POST, PUT, PATCH or DELETE that the
// browser says a page of another origin sent (Sec-Fetch-Site, or an Origin
// other than the host). The API takes no credentials, so any page the
// user opens could otherwise deploy or start processes on a local Eddy
// with a "simple" request (a form, a text/plain fetch), which no CORS
// preflight stops. Clients that are no browser page send neither header
// and are not refused; reads are not refused either, as the same-origin
// policy keeps their answers from the page.
func crossOriginProblem(r *http.Request) *Problem {
	from := "another origin"
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		from = "origin " + strconv.Quote(o)
	}
	return newProblem(http.StatusForbidden, TypeCrossOrigin, fmt.Sprintf(
		"a page of %s may not change Eddy's state through this API (%s %s): send it from a page of Eddy's own origin, or from a client that is no browser page (curl, an SDK)",
		from, r.Method, r.URL.Path))
}

// rejectionStatus maps the engine's rejection types to HTTP.
var rejectionStatus = map[record.RejectionType]struct {
	status int
	typ    string
}{
	record.InvalidArgument:         {http.StatusBadRequest, TypeInvalidArgument},
	record.NotFound:                {http.StatusNotFound, TypeNotFound},
	record.AlreadyExists:           {http.StatusConflict, TypeAlreadyExists},
	record.InvalidState:            {http.StatusConflict, TypeInvalidState},
	record.ExceededBatchRecordSize: {http.StatusRequestEntityTooLarge, TypeTooLarge},
	record.ProcessingError:         {http.StatusInternalServerError, TypeInternal},
}

// problemFor turns an error of a handler or of the engine into a problem.
func problemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var rej *engine.Rejection
	if errors.As(err, &rej) {
		m, ok := rejectionStatus[rej.Type]
		if !ok {
			m.status, m.typ = http.StatusInternalServerError, TypeInternal
		}
		p := newProblem(m.status, m.typ, rej.Reason)
		p.RejectionType = rej.Type.String()
		return p
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return newProblem(http.StatusRequestEntityTooLarge, TypeTooLarge, "the request body is larger than "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes")
	case errors.Is(err, engine.ErrNotCorrelated):
		return newProblem(http.StatusNotFound, TypeNotFound, err.Error())
	case errors.Is(err, engine.ErrTimeout):
		return newProblem(http.StatusGatewayTimeout, TypeTimeout, err.Error())
	case errors.Is(err, engine.ErrNoPartition):
		return newProblem(http.StatusServiceUnavailable, TypeUnavailable, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return newProblem(http.StatusServiceUnavailable, TypeUnavailable, "the request ended before the engine answered: "+err.Error())
	}
	return newProblem(http.StatusInternalServerError, TypeInternal, err.Error())
}

// writeProblem sends p.
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" {
		p.Instance = r.URL.Path
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	w.Write(append(body, '\n'))
}
