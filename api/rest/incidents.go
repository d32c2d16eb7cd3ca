package rest

import (
	"net/http"
	"strconv"

	"eddy/engine"
)

const (
	defaultIncidentPage = 100
	maxIncidentPage     = 1000
)

// listIncidents pages through the open incidents of every partition (the
// engine asks other nodes for theirs), by key:
// ?processInstanceKey=K&after=K&limit=N.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	q := engine.IncidentQuery{Limit: defaultIncidentPage}
	for name, values := range r.URL.Query() {
		raw := values[len(values)-1]
		switch name {
		case "processInstanceKey", "after":
			k, err := ParseKey(raw)
			if err != nil {
				return invalid(name, "query parameter %q must be a key (a positive 64-bit integer), got %q", name, raw)
			}
			if name == "after" {
				q.After = int64(k)
			} else {
				q.ProcessInstanceKey = int64(k)
			}
		case "limit":
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 || n > maxIncidentPage {
				return invalid(name, "query parameter \"limit\" must be 1 to %d, got %q", maxIncidentPage, raw)
			}
			q.Limit = n
		default:
			return invalid(name, "unknown query parameter %q; use processInstanceKey, after or limit", name)
		}
	}
	page := q.Limit
	q.Limit++ // one more tells whether there is a next page
	found, err := s.engine.Incidents(r.Context(), q)
	if err != nil {
		return err
	}
	out := IncidentList{Items: make([]Incident, 0, min(len(found), page))}
	for i, in := range found {
		if i == page {
			out.Next = out.Items[page-1].Key
			break
		}
		out.Items = append(out.Items, incidentOf(in))
	}
	return writeJSON(w, http.StatusOK, out)
}

func incidentOf(in engine.Incident) Incident {
	v := &in.Value
	return Incident{Key: Key(in.Key), ErrorType: v.ErrorType, ErrorMessage: v.ErrorMessage, ProcessInstanceKey: Key(v.ProcessInstanceKey),
		BpmnProcessID: v.BpmnProcessID, ProcessDefinitionKey: Key(v.ProcessDefinitionKey), ElementID: v.ElementID,
		ElementInstanceKey: Key(v.ElementInstanceKey), JobKey: Key(v.JobKey)}
}

func (s *Server) resolveIncident(w http.ResponseWriter, r *http.Request) error {
	key, err := pathKey(r, "incidentKey")
	if err != nil {
		return err
	}
	return noContent(w, s.engine.ResolveIncident(r.Context(), key))
}
