package broker

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"eddy/cloudevents"
)

// serveWebSocket streams the events that match the request's filter over
// a WebSocket: one text message per event, the CloudEvent in the JSON
// format with one extension added, eddyeventid: the id an SSE stream would
// give the event (see eventid.go). A client that reconnects with the last
// one it got as the lastEventId query parameter gets every matching event
// after it, then the live ones: nothing missed, nothing twice. The client
// sends nothing (a data message from it closes the connection); pings keep
// an idle connection open. A subscriber that stops reading is closed with
// status 1013 (try again later) and the reason.
//
// A client that offers the subprotocol PositionsSubprotocol also gets,
// when the stream opens and with each keep-alive, a message that is not an
// event: {"eddyeventid":"…"}, the positions the stream has reached. So a
// client whose filter has matched nothing for a while still resumes from
// where it was, as an SSE client does from the id of a keep-alive.
func (b *Broker) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	sub, ok := b.subscribeRequest(w, r, nil, b.acceptWebSocket)
	if !ok {
		return
	}
	defer b.hub.unsubscribe(sub)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: b.o.allowedOrigins, Subprotocols: []string{PositionsSubprotocol}})
	if err != nil {
		return // Accept answered the request
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context())
	positions := c.Subprotocol() == PositionsSubprotocol
	var buf []byte
	write := func(msg []byte) error {
		return sub.writeToClient(func() error {
			wctx, cancel := context.WithTimeout(ctx, b.o.pushKeepAlive)
			defer cancel()
			return c.Write(wctx, websocket.MessageText, msg)
		})
	}
	var sent uint64 // the round of the last event sent (subscription.reachedID)
	tell := func(id string) error {
		if !positions || id == "" {
			return nil
		}
		buf = append(append(append(buf[:0], `{"`+EventIDExtension+`":"`...), id...), `"}`...)
		return write(buf)
	}
	tellPositions := func() error { return tell(sub.reachedID(sent)) }
	// As it opens, the stream tells where it starts, even with events
	// queued already.
	if tell(sub.startID) != nil {
		return
	}
	keepAlive := time.NewTicker(b.o.pushKeepAlive)
	defer keepAlive.Stop()
	// sendEvent writes ev; ended says the stream ended after it, having
	// sent the maxEvents asked for (or failed).
	left := sub.limit
	sendEvent := func(ev pushed) (ended bool) {
		buf = appendWebSocketMessage(buf[:0], ev)
		if write(buf) != nil {
			return true
		}
		sent = max(sent, ev.round)
		if left > 0 {
			if left--; left == 0 {
				// As at the head, every client is told where it stands.
				positions = true
				if tell(ev.id) == nil {
					c.Close(websocket.StatusNormalClosure, maxEventsReason(sub.limit))
				}
				return true
			}
		}
		return false
	}
	for {
		select {
		case ev := <-sub.ch:
			if sendEvent(ev) {
				return
			}
		case <-keepAlive.C:
			if tellPositions() != nil {
				return
			}
			err := sub.writeToClient(func() error {
				pctx, cancel := context.WithTimeout(ctx, b.o.pushKeepAlive)
				defer cancel()
				return c.Ping(pctx)
			})
			if err != nil {
				return
			}
		case <-sub.atHead:
			// Every event up to the head is on the channel, and no more
			// come: send them, then the positions reached, and close.
			for len(sub.ch) > 0 {
				if sendEvent(<-sub.ch) {
					return
				}
			}
			// The positions go to every client here, not only to one that
			// offered eddy.positions: without them a client whose filter
			// matched nothing would have no point to resume from.
			positions = true
			if tellPositions() != nil {
				return
			}
			c.Close(websocket.StatusNormalClosure, atHeadReason)
			return
		case <-sub.gone:
			for len(sub.ch) > 0 {
				buf = appendWebSocketMessage(buf[:0], <-sub.ch)
				if write(buf) != nil {
					return
				}
			}
			c.Close(closeStatus(sub.reason))
			return
		case <-ctx.Done():
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

// atHeadReason is the close reason of a WebSocket stream that ended at
// the log's head (untilHead).
const atHeadReason = "the stream reached the log's head"

// EventIDExtension is the extension a WebSocket message's event carries:
// the id to resume after it with the lastEventId query parameter.
const EventIDExtension = "eddyeventid"

// PositionsSubprotocol is the WebSocket subprotocol a client offers to be
// told the stream's positions between events (serveWebSocket).
const PositionsSubprotocol = "eddy.positions"

// appendWebSocketMessage appends ev's message: its JSON, shared with every
// subscriber, with the subscriber's own eddyeventid added as the last
// member.
func appendWebSocketMessage(dst []byte, ev pushed) []byte {
	if _, own := ev.event.Extension(EventIDExtension); own {
		// An event that carries one of its own has it replaced, not given
		// twice: JSON decoders of CloudEvents refuse a repeated member.
		e := ev.event.Clone()
		e.SetExtension(EventIDExtension, cloudevents.StringValue(ev.id))
		return cloudevents.AppendJSON(dst, &e)
	}
	dst = append(dst, ev.json[:len(ev.json)-1]...)
	dst = append(dst, `,"`+EventIDExtension+`":"`...)
	dst = append(dst, ev.id...)
	return append(dst, `"}`...)
}

// closeStatus is the close frame that tells a WebSocket client why its
// subscription ended: Going Away when the broker shuts down, else Try
// Again Later with the reason, cut to the frame's 123 bytes on a character
// boundary (the reason must be UTF-8).
func closeStatus(reason error) (websocket.StatusCode, string) {
	if errors.Is(reason, errShuttingDown) {
		return websocket.StatusGoingAway, reason.Error()
	}
	text := reason.Error()
	if stall := (*stallError)(nil); errors.As(reason, &stall) {
		text = "fell behind: reconnect with lastEventId set to the eddyeventid of the last event received"
	}
	for len(text) > 123 {
		_, size := utf8.DecodeLastRuneInString(text)
		text = text[:len(text)-size]
	}
	return websocket.StatusTryAgainLater, text
}

// acceptWebSocket refuses, before a subscription is made (and counted
// against the node's bound), what the handshake would: a request that is
// no WebSocket handshake, and a page of an origin not allowed.
func (b *Broker) acceptWebSocket(w http.ResponseWriter, r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this is a WebSocket endpoint: the request needs a WebSocket handshake (Upgrade: websocket); for a plain HTTP stream use /v1/events/stream (Server-Sent Events)", http.StatusUpgradeRequired)
		return false
	}
	if crossOrigin(r) && !originAllowed(r.Header.Get("Origin"), b.o.allowedOrigins) {
		refuseOrigin(w, r, "follow events")
		return false
	}
	return true
}
