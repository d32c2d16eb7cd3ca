package http1

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
)

// response is the http.ResponseWriter of a fast request. The handler's
// answer is kept whole and written with its head in one write, with a
// Content-Length: the fast routes answer briefly.
type response struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        []byte

	conn       *conn
	deferrable bool // Defer may defer this answer
	deferred   bool // it did
}

func (w *response) reset() {
	w.header, w.status, w.wroteHeader, w.body = nil, 0, false, w.body[:0]
	w.deferrable, w.deferred = false, false
}

func (w *response) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *response) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHeader || code < 200 { // informational answers are not sent
		return
	}
	w.status, w.wroteHeader = code, true
}

func (w *response) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.body = append(w.body, b...)
	return len(b), nil
}

func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// appendTo appends the whole answer, head and body, as on the wire.
// date is the Date value, as http.TimeFormat.
func (w *response) appendTo(dst []byte, close bool, date []byte) []byte {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	dst = appendStatusLine(dst, w.status)
	h := w.header
	if _, set := h["Content-Type"]; !set && len(w.body) > 0 {
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, http.DetectContentType(w.body)...)
		dst = append(dst, "\r\n"...)
	}
	if _, set := h["Date"]; !set {
		dst = append(dst, "Date: "...)
		dst = append(dst, date...)
		dst = append(dst, "\r\n"...)
	}
	if bodyAllowed(w.status) {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(w.body)), 10)
		dst = append(dst, "\r\n"...)
	}
	if close {
		dst = append(dst, "Connection: close\r\n"...)
	}
	if len(h) > 0 {
		keys := make([]string, 0, len(h))
		for k := range h {
			switch k {
			case "Content-Length", "Connection", "Transfer-Encoding":
				continue // the fast path's own
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			for _, v := range h[k] {
				dst = appendField(dst, k, v)
			}
		}
	}
	dst = append(dst, "\r\n"...)
	return append(dst, w.body...)
}

// appendField writes one header line, with the line breaks a value must
// not carry replaced by spaces, as net/http does.
func appendField(dst []byte, k, v string) []byte {
	dst = append(dst, k...)
	dst = append(dst, ": "...)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, "\r\n"...)
}

func appendStatusLine(dst []byte, status int) []byte {
	switch status {
	case http.StatusAccepted:
		return append(dst, "HTTP/1.1 202 Accepted\r\n"...)
	case http.StatusOK:
		return append(dst, "HTTP/1.1 200 OK\r\n"...)
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	text := http.StatusText(status)
	if text == "" {
		text = "status code " + strconv.Itoa(status)
	}
	dst = append(dst, text...)
	return append(dst, "\r\n"...)
}
