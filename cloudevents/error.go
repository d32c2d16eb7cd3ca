package cloudevents

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Error is a message that is not an acceptable CloudEvent, or an event that
// breaks the specification: what is wrong, where, and the HTTP status an
// ingress answers with.
type Error struct {
	// Status is 400 (malformed event), 405 (not a POST), 413 (too large) or
	// 415 (an event format Eddy does not read).
	Status int
	// Index is the element of a batch, counted from 0; -1 outside a batch.
	Index int
	// Attribute names the attribute at fault ("" when the problem is not
	// about one attribute).
	Attribute string
	// Where tells where the attribute was read: `header "ce-time"`,
	// `JSON member "time"`, ... ("" when it does not apply).
	Where string
	// Reason says what is wrong.
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Index >= 0 {
		b.WriteString("event ")
		b.WriteString(strconv.Itoa(e.Index))
		b.WriteString(" of the batch: ")
	}
	if e.Attribute != "" {
		fmt.Fprintf(&b, "attribute %q", e.Attribute)
		if e.Where != "" {
			b.WriteString(" (")
			b.WriteString(e.Where)
			b.WriteByte(')')
		}
		b.WriteString(": ")
	} else if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// StatusCode is the HTTP status for err: an *Error's Status, 500 for any
// other error, 200 for nil.
func StatusCode(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// WriteError answers an HTTP request with err's status and message as plain
// text; a 405 says Allow: POST.
func WriteError(w http.ResponseWriter, err error) {
	status := StatusCode(err)
	h := w.Header()
	if status == http.StatusMethodNotAllowed && h.Get("Allow") == "" {
		h.Set("Allow", http.MethodPost) // a handler that allows more says so first
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(err.Error() + "\n"))
}

func badAttr(attr, where, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Index: -1, Attribute: attr, Where: where, Reason: fmt.Sprintf(format, args...)}
}

func badMessage(status int, where, format string, args ...any) *Error {
	return &Error{Status: status, Index: -1, Where: where, Reason: fmt.Sprintf(format, args...)}
}
