package broker

import (
	"bytes"
	"fmt"
	"net/http"
	"time"
)

// serveSSE streams the events that match the request's filter as
// Server-Sent Events: each event is one SSE message whose data is the
// CloudEvent in the JSON format and whose id says where the stream stands
// on the log (see eventid.go). A client that reconnects with the
// Last-Event-ID header (or, when it cannot set headers, the lastEventId
// query parameter) gets every matching event after that id, then the live
// ones: nothing missed, nothing twice. The id "start" stands before the
// oldest event. Without one, the stream starts with the events appended
// from now on. With untilHead, the stream ends at the log's head as it
// opened, with an "eddy.end" event whose id is the positions reached. A
// comment (":ok") opens the stream once
// the subscription is live, with the id of the positions it starts from
// (even when events are queued for it already), and comments keep an idle
// connection open. A subscriber that stops reading gets an "eddy.error"
// event saying so before the stream ends (one that reads slowly is waited
// for: see hub.send). A subscriber beyond the node's bound gets such
// an event too, with the time to come back after (sseBusy).
func (b *Broker) serveSSE(w http.ResponseWriter, r *http.Request) {
	if _, ok := w.(http.Flusher); !ok {
		http.Error(w, "this connection cannot stream", http.StatusInternalServerError)
		return
	}
	// A page of an origin not allowed gets no CORS headers: its browser
	// keeps the stream from it, as the Same-Origin Policy says.
	b.allowOrigin(w, r)
	sub, ok := b.subscribeRequest(w, r, sseBusy, nil)
	if !ok {
		return
	}
	defer b.hub.unsubscribe(sub)
	if sub.openedAtHead && r.Header.Get("Last-Event-ID") != "" {
		// An EventSource reconnecting after the eddy.end of a read until
		// the head, with nothing new since: 204 tells it to stop, where
		// another end would have it reconnect every few seconds.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold events back
	w.WriteHeader(http.StatusOK)
	// Each write has a deadline of its own (which also lifts a server's
	// WriteTimeout, made for requests, not streams): a client that stops
	// taking data ends its stream, instead of holding a goroutine and a
	// connection until the kernel gives up on it.
	rc := http.NewResponseController(w)
	send := func(p []byte) error {
		return sub.writeToClient(func() error {
			_ = rc.SetWriteDeadline(time.Now().Add(2 * b.o.pushKeepAlive))
			if _, err := w.Write(p); err != nil {
				return err
			}
			return rc.Flush()
		})
	}
	// The id with no data sets the client's last event id without an
	// event: a client whose filter matches nothing for a while still
	// resumes from where it was (here, and at each keep-alive).
	// sent is the round of the last event sent (subscription.reachedID).
	var sent uint64
	if send(append(append(append([]byte(":ok\nid: "), sub.startID...), '\n'), '\n')) != nil {
		return
	}
	keepAlive := time.NewTicker(b.o.pushKeepAlive)
	defer keepAlive.Stop()
	var buf []byte
	// left counts the events still to send when maxEvents bounds the
	// stream; add appends ev and reports whether that was the last.
	left, lastID := sub.limit, ""
	add := func(ev pushed) bool {
		buf = appendSSE(buf, ev)
		sent = max(sent, ev.round)
		if left > 0 {
			if left--; left == 0 {
				lastID = ev.id
				return true
			}
		}
		return false
	}
	// end sends what buf holds and an eddy.end event with id and why.
	end := func(id, why string) {
		buf = append(buf, "event: "+sseEndEvent+"\n"...)
		if id != "" {
			buf = appendIDLine(buf, id)
		}
		_ = send(appendSSEData(buf, []byte(why)))
	}
	for {
		var err error
		select {
		case ev := <-sub.ch:
			buf = buf[:0]
			done := add(ev)
			// Send what else is ready in the same write.
			for more := !done; more && len(buf) < 64<<10; {
				select {
				case ev := <-sub.ch:
					done = add(ev)
					more = !done
				default:
					more = false
				}
			}
			if done {
				end(lastID, maxEventsReason(sub.limit))
				return
			}
			err = send(buf)
		case <-keepAlive.C:
			buf = appendReached(append(buf[:0], ":keep-alive\n"...), sub, sent)
			err = send(buf)
		case <-sub.atHead:
			// Every event up to the head is on the channel, and no more
			// come: send them, then the positions reached, and end.
			buf = buf[:0]
			for len(sub.ch) > 0 {
				if add(<-sub.ch) {
					end(lastID, maxEventsReason(sub.limit))
					return
				}
			}
			end(sub.reachedID(sent), atHeadReason)
			return
		case <-sub.gone:
			buf = buf[:0]
			for len(sub.ch) > 0 {
				buf = appendSSE(buf, <-sub.ch)
			}
			buf = append(buf, "event: "+sseErrorEvent+"\n"...)
			buf = appendSSEData(buf, []byte(sub.reason.Error()))
			_ = send(buf)
			return
		case <-r.Context().Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// sseEndEvent names the event that ends a stream at the log's head
// (untilHead): its id is the positions reached, from which a live stream
// goes on. An event, not a comment, so that a browser's EventSource sees
// it (addEventListener("eddy.end", ...)) and can close instead of
// reconnecting.
const sseEndEvent = "eddy.end"

// sseErrorEvent names the event that says why a stream ends. Not "error":
// EventSource dispatches a message of that type to its onerror handlers,
// which would take it for a lost connection; a client listens for this
// one by name (addEventListener("eddy.error", ...)).
const sseErrorEvent = "eddy.error"

// sseBusy turns away an SSE subscriber beyond the node's bound the way
// the protocol lets a browser understand: EventSource gives up for good on
// any status but 200, so the answer is a stream that sets the reconnection
// time (retry), says why in an error event, and ends; the client comes
// back after it.
func sseBusy(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	msg := fmt.Appendf(nil, "retry: %d\nevent: %s\n", busyRetry.Milliseconds(), sseErrorEvent)
	_, _ = w.Write(appendSSEData(msg, []byte(err.Error())))
}

// appendSSE appends one SSE message carrying ev.
func appendSSE(dst []byte, ev pushed) []byte {
	dst = appendIDLine(dst, ev.id)
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

// appendIDLine appends an SSE message's id field.
func appendIDLine(dst []byte, id string) []byte {
	return append(append(append(dst, "id: "...), id...), '\n')
}

// appendReached ends an SSE block begun in dst with the id of the positions
// sub has reached, when it may tell them (subscription.reachedID).
func appendReached(dst []byte, sub *subscription, sent uint64) []byte {
	if id := sub.reachedID(sent); id != "" {
		dst = appendIDLine(dst, id)
	}
	return append(dst, '\n')
}
