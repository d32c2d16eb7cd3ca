package broker

import (
	"bytes"
	"net/http"
	"strconv"
	"time"
)

// serveSSE streams the events that match the request's filter as
// Server-Sent Events: each event is one SSE message whose data is the
// CloudEvent in the JSON format and whose id is "<partition>-<position>" on
// the log. A comment (":ok") opens the stream once the subscription is live,
// and comments keep an idle connection open. A subscriber that falls too far
// behind gets an "error" event saying so before the stream ends.
func (b *Broker) serveSSE(w http.ResponseWriter, r *http.Request) {
	match, err := parsePushFilter(r.URL.Query(), compileCESQL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "this connection cannot stream", http.StatusInternalServerError)
		return
	}
	sub, err := b.hub.subscribe(match)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer b.hub.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold events back
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(":ok\n\n")); err != nil {
		return
	}
	flusher.Flush()
	keepAlive := time.NewTicker(b.o.pushKeepAlive)
	defer keepAlive.Stop()
	var buf []byte
	for {
		var err error
		select {
		case ev := <-sub.ch:
			buf = appendSSE(buf[:0], ev)
			// Send what else is ready in the same write.
			for more := true; more && len(buf) < 64<<10; {
				select {
				case ev := <-sub.ch:
					buf = appendSSE(buf, ev)
				default:
					more = false
				}
			}
			_, err = w.Write(buf)
		case <-keepAlive.C:
			_, err = w.Write([]byte(":keep-alive\n\n"))
		case <-sub.gone:
			buf = buf[:0]
			for len(sub.ch) > 0 {
				buf = appendSSE(buf, <-sub.ch)
			}
			buf = append(buf, "event: error\n"...)
			buf = appendSSEData(buf, []byte(sub.reason.Error()))
			_, _ = w.Write(buf)
			flusher.Flush()
			return
		case <-r.Context().Done():
			return
		}
		if err != nil {
			return
		}
		flusher.Flush()
	}
}

// appendSSE appends one SSE message carrying ev.
func appendSSE(dst []byte, ev pushed) []byte {
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, int64(ev.partition), 10)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, ev.position, 10)
	dst = append(dst, '\n')
	return appendSSEData(dst, ev.json)
}

// appendSSEData appends data as "data:" lines and the blank line that ends
// the message. SSE ends a line at CR, LF or CRLF, so every one of them in
// data starts a new data line (a JSON event's only line breaks are
// whitespace in its data member).
func appendSSEData(dst, data []byte) []byte {
	for {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			break
		}
		dst = append(append(append(dst, "data: "...), data[:i]...), '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	dst = append(append(append(dst, "data: "...), data...), '\n')
	return append(dst, '\n')
}
