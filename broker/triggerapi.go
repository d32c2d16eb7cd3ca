package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"eddy/broker/trigger"
	"eddy/internal/jsonbody"
)

// maxTriggerBody bounds a trigger document (or delete options) sent to the
// API.
const maxTriggerBody = 1 << 20

// maxReplayBody bounds a replay request, {"from":…}.
const maxReplayBody = 4 << 10

// The REST handlers answer a trigger as Knative shows one: the stored
// document with a "status" member.

// serveList lists the triggers, those of one namespace with
// ?namespace=NS (as Kubernetes lists a namespace's).
func (r *Router) serveList(w http.ResponseWriter, req *http.Request) {
	// Not req.URL.Query(), which drops a pair it cannot read: a namespace
	// lost so would list every namespace's triggers.
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		writeProblem(w, http.StatusBadRequest, fmt.Errorf("the query %q cannot be read: %v (percent-encode '%%', ';' and '&' in values)", truncate(req.URL.RawQuery, 100), err))
		return
	}
	for k := range q {
		if k != "namespace" {
			writeProblem(w, http.StatusBadRequest, fmt.Errorf("query parameter %q: the trigger list takes only namespace", k))
			return
		}
	}
	only, filtered := q.Get("namespace"), q.Has("namespace")
	if filtered {
		// An empty value is refused, not read as the namespace "" (no
		// trigger) nor as every namespace (client-go's NamespaceAll): it
		// is likely a script's unset variable, and either list would pass
		// for the right one. The other query parameters of the API
		// (lastEventId, untilHead, maxEvents, the incidents' filters)
		// refuse an empty value too. A namespace no trigger can have is
		// likely a typo, refused for the same reason.
		switch vals := q["namespace"]; {
		case len(vals) > 1:
			err = fmt.Errorf("query parameter \"namespace\" is given %d times: give it once, or leave it out to list every namespace's triggers", len(vals))
		case only == "":
			err = errors.New("query parameter \"namespace\" is empty: give a namespace, or leave the parameter out to list every namespace's triggers")
		default:
			if msg := trigger.CheckNamespace(only); msg != "" {
				err = fmt.Errorf("query parameter \"namespace\": %s, so no trigger is in it", msg)
			}
		}
		if err != nil {
			writeProblem(w, http.StatusBadRequest, err)
			return
		}
	}
	stored, err := r.storedTriggers(req.Context())
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, err)
		return
	}
	items := make([]json.RawMessage, 0, len(stored))
	for _, key := range sortedKeys(stored) {
		ns, name := splitKey(key)
		if filtered && ns != only {
			continue
		}
		items = append(items, r.withStatus(req, ns, name, stored[key]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
}

func (r *Router) serveGet(w http.ResponseWriter, req *http.Request) {
	ns, name := req.PathValue("namespace"), req.PathValue("name")
	doc, ok, err := r.storedTrigger(req.Context(), ns, name)
	switch {
	case err != nil:
		writeProblem(w, http.StatusInternalServerError, err)
	case !ok:
		writeProblem(w, http.StatusNotFound, fmt.Errorf("%w: %s/%s", ErrTriggerNotFound, ns, name))
	default:
		writeJSON(w, http.StatusOK, r.withStatus(req, ns, name, doc))
	}
}

// deleteOptions is Kubernetes' DeleteOptions: preconditions are checked,
// dryRun is refused, and the rest (about dependents and grace periods,
// which a trigger has none of) is taken and means nothing.
type deleteOptions struct {
	Kind               string        `json:"kind"`
	APIVersion         string        `json:"apiVersion"`
	Preconditions      Preconditions `json:"preconditions"`
	GracePeriodSeconds *int64        `json:"gracePeriodSeconds"`
	PropagationPolicy  string        `json:"propagationPolicy"`
	OrphanDependents   *bool         `json:"orphanDependents"`
	DryRun             []string      `json:"dryRun"`
	IgnoreReadError    *bool         `json:"ignoreStoreReadErrorWithClusterBreakingPotential"`
}

// triggerMediaType says whether a PUT body of Content-Type ct can be a
// trigger: YAML or JSON, or unsaid.
func triggerMediaType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "application/json":
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+yaml")
}

// checkDeclaredJSON refuses a body sent as JSON that is not JSON: YAML, which
// reads it otherwise, forgives what the Kubernetes API server does not
// (a trailing comma, say).
func checkDeclaredJSON(ct string, body []byte) error {
	mt, _, _ := mime.ParseMediaType(ct)
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil
	}
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("the body is sent as %s but is not JSON: %s: %v", mt, jsonPlace(body, se.Offset-1), err)
	}
	if err != nil {
		return fmt.Errorf("the body is sent as %s but is not JSON: %v", mt, err)
	}
	return nil
}

// jsonPlace says where in body the byte at index (from 0) is: "line 2
// (byte 17)", counting bytes from 1; the body's end is its last byte.
func jsonPlace(body []byte, index int64) string {
	line, _ := jsonbody.Position(body, index)
	return fmt.Sprintf("line %d (byte %d)", line, min(index+1, int64(len(body))))
}

// decodeJSONBody decodes body, one JSON value, into v; an empty body leaves
// v as it is. It refuses a member v does not have (a misspelt field would
// drop what it asks for) and anything after the value (a decoder that
// stops at the value's end would act on {"from":"tail"}{"from":"head"} as
// on its first half). Its errors say the line and byte, as a trigger
// PUT's JSON syntax error does, and the field.
func decodeJSONBody(body []byte, v any) error {
	var e *jsonbody.Error
	if err := jsonbody.Decode(body, v); !errors.As(err, &e) {
		return err
	}
	switch e.Kind {
	case jsonbody.Syntax:
		return fmt.Errorf("%s: %v", jsonPlace(body, e.Index), e.Err)
	case jsonbody.Truncated:
		return fmt.Errorf("%s: the body ends before its JSON value does", jsonPlace(body, e.Index))
	case jsonbody.Trailing:
		return fmt.Errorf("%s: more after the JSON value: %s", jsonPlace(body, e.Index), truncate(string(body[e.Index:]), 40))
	case jsonbody.WrongType:
		what := "the body"
		if e.Field != "" {
			what = e.Field
		}
		return fmt.Errorf("%s: %s is a JSON %s, where %s goes", jsonPlace(body, e.Index), what, e.Value, jsonbody.DescribeType(e.Type))
	case jsonbody.UnknownField:
		if e.Index < 0 {
			return fmt.Errorf("unknown field %q", e.Field)
		}
		return fmt.Errorf("%s: unknown field %q; the fields there are %s", jsonPlace(body, e.Index), e.Field, strings.Join(e.Known, ", "))
	}
	return e.Err
}

// checkTriggerPath refuses a trigger path whose namespace or name segment
// no trigger can have. Left to the body's checks, a bad segment read as a
// body's error ("line 1: metadata.namespace"), since the path fills in
// what the body leaves out, or as a mismatch with a body that was right.
func checkTriggerPath(ns, name string) error {
	var errs []error
	if msg := trigger.CheckNamespace(ns); msg != "" {
		errs = append(errs, fmt.Errorf("the URL path's namespace segment (/v1/triggers/{namespace}/{name}): %s", msg))
	}
	if msg := trigger.CheckName(name); msg != "" {
		errs = append(errs, fmt.Errorf("the URL path's name segment (/v1/triggers/{namespace}/{name}): %s", msg))
	}
	return errors.Join(errs...)
}

// readTriggerBody reads a request's body of at most limit bytes; when it
// cannot, it answers, saying the bound when the body is over it, and
// reports false. Only a body over the bound is a 413: a request cut short
// was answered so too, which sent one to shorten a trigger that fit.
func readTriggerBody(w http.ResponseWriter, req *http.Request, what string, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Errorf("%s is larger than the trigger API takes: %d bytes at most", what, tooLarge.Limit))
		return nil, false
	case err != nil:
		writeProblem(w, http.StatusBadRequest, fmt.Errorf("reading %s: %w", what, err))
		return nil, false
	}
	return body, true
}

func (r *Router) servePut(w http.ResponseWriter, req *http.Request) {
	ns, name := req.PathValue("namespace"), req.PathValue("name")
	if err := checkTriggerPath(ns, name); err != nil {
		writeProblem(w, http.StatusBadRequest, err)
		return
	}
	if ct := req.Header.Get("Content-Type"); !triggerMediaType(ct) {
		writeProblem(w, http.StatusUnsupportedMediaType, fmt.Errorf("a trigger is YAML or JSON, not %q: send it with Content-Type application/yaml or application/json", ct))
		return
	}
	body, ok := readTriggerBody(w, req, "the trigger", maxTriggerBody)
	if !ok {
		return
	}
	if err := checkDeclaredJSON(req.Header.Get("Content-Type"), body); err != nil {
		writeProblem(w, http.StatusBadRequest, err)
		return
	}
	created, doc, err := r.Put(req.Context(), ns, name, body)
	var te *TriggerError
	var ce *ConflictError
	switch {
	case errors.As(err, &te):
		writeProblem(w, http.StatusBadRequest, err)
		return
	case errors.As(err, &ce):
		writeProblem(w, http.StatusConflict, err)
		return
	case errors.Is(err, ErrTriggerNotFound):
		writeProblem(w, http.StatusNotFound, err)
		return
	case err != nil:
		writeProblem(w, http.StatusInternalServerError, err)
		return
	}
	// The trigger as this PUT stored it, not as read again: another
	// node's change since would pass for this one's.
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, r.withStatus(req, ns, name, doc))
}

func (r *Router) serveDelete(w http.ResponseWriter, req *http.Request) {
	// A body, if any, is Kubernetes' DeleteOptions, of which only the
	// preconditions mean something here.
	body, ok := readTriggerBody(w, req, "the delete options body", maxTriggerBody)
	if !ok {
		return
	}
	var opts deleteOptions
	if err := decodeJSONBody(body, &opts); err != nil {
		writeProblem(w, http.StatusBadRequest, fmt.Errorf("the body is not delete options in JSON ({\"preconditions\":{\"resourceVersion\":\"…\"}}): %w", err))
		return
	}
	if len(opts.DryRun) > 0 {
		writeProblem(w, http.StatusBadRequest, fmt.Errorf("delete options: dryRun %q is not supported: nothing was deleted", opts.DryRun))
		return
	}
	err := r.Delete(req.Context(), req.PathValue("namespace"), req.PathValue("name"), opts.Preconditions)
	var ce *ConflictError
	switch {
	case errors.Is(err, ErrTriggerNotFound):
		writeProblem(w, http.StatusNotFound, err)
	case errors.As(err, &ce):
		writeProblem(w, http.StatusConflict, err)
	case err != nil:
		writeProblem(w, http.StatusInternalServerError, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// withStatus returns doc with a "status" member holding the trigger's
// status (or the error that kept the status from being read).
func (r *Router) withStatus(req *http.Request, ns, name string, doc []byte) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		m = map[string]json.RawMessage{}
	}
	var status any
	st, err := r.Status(req.Context(), ns, name)
	switch {
	case errors.Is(err, ErrTriggerNotFound):
		// Stored, but this node has not read it yet (another node took
		// the change): as a Kubernetes object not reconciled yet.
		status = TriggerStatus{Namespace: ns, Name: name, Node: r.b.o.nodeID, Conditions: []Condition{{Type: "Ready", Status: "Unknown", Reason: "NotLoaded",
			Message: fmt.Sprintf("this node has not loaded the trigger yet: it reads the stored triggers every %v", r.b.o.refresh)}}}
	case err != nil:
		status = map[string]string{"error": err.Error()}
	default:
		status = st
	}
	m["status"], _ = json.Marshal(status)
	out, _ := json.Marshal(m)
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeProblem answers with an RFC 9457 problem document.
// problemType is the problem type URN of an answer's status, the one the
// REST API gives the same kind of failure, so that a client tells them
// apart the same way on either API.
func problemType(status int) string {
	kind, ok := problemKinds[status]
	if !ok {
		kind = "internal"
	}
	return "urn:eddy:problem:" + kind
}

var problemKinds = map[int]string{
	http.StatusBadRequest:            "invalid-argument",
	http.StatusForbidden:             "cross-origin", // the API's only 403: newWriteGuard's
	http.StatusNotFound:              "not-found",
	http.StatusMethodNotAllowed:      "method-not-allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "too-large",
	http.StatusUnsupportedMediaType:  "unsupported-media-type",
	http.StatusBadGateway:            "delivery-failed",
	http.StatusServiceUnavailable:    "unavailable",
}

func writeProblem(w http.ResponseWriter, status int, err error) {
	b, _ := json.Marshal(map[string]any{"type": problemType(status), "title": http.StatusText(status), "status": status, "detail": err.Error()})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func splitKey(key string) (ns, name string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}

// serveReplay replays a trigger: its processor's tokens go back to where
// the body's "from" says ("tail", "head" or an RFC 3339 time; required),
// and its subscriber gets the log's matching events again from there. It
// answers with the trigger's status once it runs again.
func (r *Router) serveReplay(w http.ResponseWriter, req *http.Request) {
	var body struct {
		From string `json:"from"`
	}
	raw, ok := readTriggerBody(w, req, "the replay request", maxReplayBody)
	if !ok {
		return
	}
	if err := decodeJSONBody(raw, &body); err != nil {
		writeProblem(w, http.StatusBadRequest, fmt.Errorf(`the body must be a JSON object such as {"from":"tail"}: %w`, err))
		return
	}
	ns, name := req.PathValue("namespace"), req.PathValue("name")
	var terr *TriggerError
	switch err := r.Replay(req.Context(), ns, name, body.From); {
	case errors.Is(err, ErrTriggerNotFound):
		writeProblem(w, http.StatusNotFound, err)
	case errors.As(err, &terr):
		writeProblem(w, http.StatusBadRequest, err)
	case err != nil:
		writeProblem(w, http.StatusServiceUnavailable, err)
	default:
		st, err := r.Status(req.Context(), ns, name)
		if err != nil {
			writeProblem(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

// serveRetry hands the trigger's parked (dead-lettered) events to its
// subscriber again, sequence by sequence, until one fails or none is left.
func (r *Router) serveRetry(w http.ResponseWriter, req *http.Request) {
	res, err := r.RetryDeadLetters(req.Context(), req.PathValue("namespace"), req.PathValue("name"))
	var terr *TriggerError
	var held *HeldError
	switch {
	case errors.Is(err, ErrTriggerNotFound):
		writeProblem(w, http.StatusNotFound, err)
	case errors.As(err, &terr):
		writeProblem(w, http.StatusBadRequest, err)
	case errors.As(err, &held):
		writeProblem(w, http.StatusConflict, fmt.Errorf("retrying the parked events (%s, %s delivered first): %w", counted(res.Sequences, "sequence"), counted(res.Events, "event"), err))
	case err != nil:
		// Some sequences may have been emptied before the failure.
		writeProblem(w, http.StatusBadGateway, fmt.Errorf("retrying the parked events (%s, %s delivered first): %w", counted(res.Sequences, "sequence"), counted(res.Events, "event"), err))
	default:
		writeJSON(w, http.StatusOK, res)
	}
}
