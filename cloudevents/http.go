package cloudevents

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
)

// DefaultLimit is the body size ReadRequest and ReadResponse accept when
// given a limit <= 0: well above the 64 KB every intermediary must forward.
const DefaultLimit = 1 << 20

// Mode is an HTTP content mode for one event.
type Mode uint8

const (
	// Binary puts attributes in ce- headers and the data in the body.
	Binary Mode = iota + 1
	// Structured sends the whole event as application/cloudevents+json.
	Structured
)

// Media types of the JSON event format and its batch format.
const (
	MediaTypeJSON      = "application/cloudevents+json"
	MediaTypeJSONBatch = "application/cloudevents-batch+json"
)

// ReadRequest reads the events of an HTTP request in any content mode:
// binary, structured (application/cloudevents+json) or batched
// (application/cloudevents-batch+json, which may hold no event). The body
// may be at most limit bytes (DefaultLimit when limit <= 0). The events
// keep the body's memory. Errors are *Error with Status 405 for a method
// other than POST, 413 for a body over the limit, 415 for an event format
// other than JSON, and 400 for anything malformed or invalid.
func ReadRequest(r *http.Request, limit int64) ([]Event, error) {
	if r.Method != http.MethodPost {
		return nil, badMessage(http.StatusMethodNotAllowed, "", "method %s is not allowed: send events with POST", r.Method)
	}
	events, err := readMessage(r.Header, r.Body, r.ContentLength, limit, true)
	if err != nil {
		return nil, err
	}
	return events, nil
}

// CarriesEvent reports whether an HTTP message with header h is meant as a
// CloudEvent: a ce- header (binary mode) or an event format's media type
// (structured mode). A subscriber's answer that is neither ("OK", a JSON
// status of its own) is no reply, and Knative's brokers discard it.
func CarriesEvent(h http.Header) bool {
	mt, _ := mediaType(h.Get("Content-Type"))
	return hasCEHeader(h) || strings.HasPrefix(mt, "application/cloudevents")
}

// ReadResponse reads the event a subscriber replied with, in binary or
// structured mode. It returns nil and no error when the response carries no
// event (no ce-specversion header, not structured, and an empty body). A
// body that is not an event is an error: a subscriber's reply must be empty
// or a valid event. Errors are *Error with Status 502, since the fault lies
// with the subscriber; the body is read up to limit (DefaultLimit if <= 0)
// and closed.
func ReadResponse(resp *http.Response, limit int64) (*Event, error) {
	defer resp.Body.Close()
	events, err := readMessage(resp.Header, resp.Body, resp.ContentLength, limit, false)
	if err != nil {
		err.Status = http.StatusBadGateway
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	return &events[0], nil
}

func readMessage(h http.Header, body io.Reader, length, limit int64, request bool) ([]Event, *Error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	ct := ""
	if v := h["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	mt, err := contentMode(ct, request)
	if err != nil {
		return nil, err
	}
	if err := contentCoding(h); err != nil {
		return nil, err
	}
	if length > limit {
		return nil, tooLarge(limit)
	}
	b, err := readBody(body, length, limit)
	if err != nil {
		return nil, err
	}
	switch mt {
	case MediaTypeJSON:
		e, err := decodeStructured(b)
		if err != nil {
			return nil, err
		}
		return []Event{e}, nil
	case MediaTypeJSONBatch:
		return decodeBatch(b)
	}
	if _, ok := h[hSpecVersion]; !ok {
		if !request && len(b) == 0 && !hasCEHeader(h) {
			return nil, nil
		}
		return nil, missingSpecVersion()
	}
	e, derr := decodeBinary(h, b)
	if derr != nil {
		return nil, derr
	}
	return []Event{e}, nil
}

// contentCoding refuses a body under a content coding (gzip, say): it
// would be taken as the event's data, which it is not, so it is a 415, as
// RFC 9110 section 8.4.1 says for a coding the server does not know.
func contentCoding(h http.Header) *Error {
	for _, v := range h["Content-Encoding"] {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return badMessage(http.StatusUnsupportedMediaType, `header "Content-Encoding"`,
					"the body is encoded as %q; send it without a content coding", c)
			}
		}
	}
	return nil
}

func missingSpecVersion() *Error {
	return badAttr("specversion", headerWhere("specversion"), "missing: a binary-mode event needs the ce-specversion header (or send Content-Type %s)", MediaTypeJSON)
}

// contentMode returns the media type of a message's Content-Type, or why
// it is not one Eddy reads; request says whether the message is a request
// (which may be a batch) or a reply.
func contentMode(ct string, request bool) (string, *Error) {
	mt, charset := mediaType(ct)
	structured := mt == MediaTypeJSON || mt == MediaTypeJSONBatch
	switch {
	case mt == MediaTypeJSONBatch && !request:
		return "", badMessage(http.StatusUnsupportedMediaType, "header \"Content-Type\"", "a reply is one event, not a batch")
	case structured && charset != "" && charset != "utf-8":
		return "", badMessage(http.StatusUnsupportedMediaType, "header \"Content-Type\"", "charset %q: the JSON event format is UTF-8", charset)
	case !structured && strings.HasPrefix(mt, "application/cloudevents"):
		return "", badMessage(http.StatusUnsupportedMediaType, "header \"Content-Type\"", "event format %q is not supported: Eddy reads %s, %s and binary mode", mt, MediaTypeJSON, MediaTypeJSONBatch)
	}
	return mt, nil
}

func hasCEHeader(h http.Header) bool {
	for k := range h {
		if len(k) > 3 && strings.EqualFold(k[:3], "ce-") {
			return true
		}
	}
	return false
}

func tooLarge(limit int64) *Error {
	return badMessage(http.StatusRequestEntityTooLarge, "", "the body is larger than the %d bytes accepted", limit)
}

// readBody reads at most limit bytes; more is a 413.
func readBody(r io.Reader, length, limit int64) ([]byte, *Error) {
	if r == nil || r == http.NoBody {
		return nil, nil
	}
	var b []byte
	var err error
	if length >= 0 {
		// Known length: one allocation, with a byte more to check that
		// nothing follows.
		b = make([]byte, length+1)
		_, err = io.ReadFull(r, b[:length])
		if err == nil {
			if n, _ := r.Read(b[length:]); n > 0 {
				return nil, badMessage(http.StatusBadRequest, "", "the body is longer than its Content-Length")
			}
		}
		b = b[:length]
	} else {
		b, err = io.ReadAll(io.LimitReader(r, limit+1))
		if err == nil && int64(len(b)) > limit {
			return nil, tooLarge(limit)
		}
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, tooLarge(tooBig.Limit)
		}
		return nil, badMessage(http.StatusBadRequest, "", "reading the body: %v", err)
	}
	return b, nil
}

// NewRequest returns a POST of e to url in the given mode, with GetBody
// set so that it can be sent again.
func NewRequest(ctx context.Context, url string, e *Event, mode Mode) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return nil, err
	}
	var body []byte
	switch mode {
	case Binary:
		setBinaryHeaders(req.Header, e)
		body = e.Data
	case Structured:
		req.Header["Content-Type"] = []string{MediaTypeJSON + "; charset=utf-8"}
		body = AppendJSON(nil, e)
	default:
		return nil, errors.New("cloudevents: unknown mode")
	}
	setBody(req, body)
	return req, nil
}

// NewBatchRequest returns a POST of events to url as a JSON batch.
func NewBatchRequest(ctx context.Context, url string, events []Event) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header["Content-Type"] = []string{MediaTypeJSONBatch + "; charset=utf-8"}
	setBody(req, AppendJSONBatch(nil, events))
	return req, nil
}

func setBody(req *http.Request, body []byte) {
	req.ContentLength = int64(len(body))
	if len(body) == 0 {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// WriteResponse answers with status and e as the reply, in the given mode.
func WriteResponse(w http.ResponseWriter, status int, e *Event, mode Mode) error {
	h := w.Header()
	var body []byte
	switch mode {
	case Binary:
		setBinaryHeaders(h, e)
		if _, ok := h["Content-Type"]; !ok && len(e.Data) > 0 {
			h["Content-Type"] = nil // no datacontenttype: stop net/http sniffing one
		}
		body = e.Data
	case Structured:
		h["Content-Type"] = []string{MediaTypeJSON + "; charset=utf-8"}
		body = AppendJSON(nil, e)
	default:
		return errors.New("cloudevents: unknown mode")
	}
	w.WriteHeader(status)
	if len(body) == 0 {
		return nil
	}
	_, err := w.Write(body)
	return err
}
