package broker

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// serveWebSocket streams the events that match the request's filter over
// a WebSocket: one text message per event, the CloudEvent in the JSON
// format. The client sends nothing (a data message from it closes the
// connection); pings keep an idle connection open. A subscriber that falls
// too far behind is closed with status 1013 (try again later) and the
// reason.
func (b *Broker) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	match, err := parsePushFilter(r.URL.Query(), compileCESQL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sub, err := b.hub.subscribe(match)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer b.hub.unsubscribe(sub)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: b.o.pushOrigins})
	if err != nil {
		return // Accept answered the request
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context())
	keepAlive := time.NewTicker(b.o.pushKeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case ev := <-sub.ch:
			wctx, cancel := context.WithTimeout(ctx, b.o.pushKeepAlive)
			err := c.Write(wctx, websocket.MessageText, ev.json)
			cancel()
			if err != nil {
				return
			}
		case <-keepAlive.C:
			pctx, cancel := context.WithTimeout(ctx, b.o.pushKeepAlive)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		case <-sub.gone:
			for len(sub.ch) > 0 {
				ev := <-sub.ch
				if c.Write(ctx, websocket.MessageText, ev.json) != nil {
					return
				}
			}
			reason := sub.reason.Error()
			if len(reason) > 120 { // a close frame's reason is at most 123 bytes
				reason = reason[:120]
			}
			c.Close(websocket.StatusTryAgainLater, reason)
			return
		case <-ctx.Done():
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}
