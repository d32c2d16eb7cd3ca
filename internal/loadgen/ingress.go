package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"

	"eddy/cloudevents"
)

// IngressRequests returns the encoder of POSTs of one CloudEvent each to
// the broker's ingress (/v1/events), in binary or structured mode, as
// bytes on the wire: only the event id changes from one to the next. Ids
// are "<run>-<seq>", run this process's own: a load that sent an earlier
// load's ids within the duplicate window would be answered from the
// window, with nothing written.
func IngressRequests(mode string) (func(dst []byte, seq int64) []byte, error) {
	const data = `{"customer":"c-1","tickets":2}`
	const head = "POST /v1/events HTTP/1.1\r\nHost: eddy\r\n"
	run := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid()) + "-"
	switch mode {
	case "binary":
		tail := "\r\nCe-Source: /bench\r\nCe-Type: bench.event\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(data)) + "\r\n\r\n" + data
		return func(dst []byte, seq int64) []byte {
			dst = append(dst, head+"Ce-Specversion: 1.0\r\nCe-Id: "...)
			dst = append(dst, run...)
			dst = strconv.AppendInt(dst, seq, 10)
			return append(dst, tail...)
		}, nil
	case "structured":
		e := cloudevents.Event{ID: "ID", Source: "/bench", SpecVersion: "1.0", Type: "bench.event",
			DataContentType: "application/json", Data: []byte(data)}
		pre, post, _ := bytes.Cut(cloudevents.AppendJSON(nil, &e), []byte(`"ID"`))
		// Copies: pre's spare room is the bytes post still points into.
		pre = append(append(append([]byte(nil), pre...), '"'), run...)
		post = append([]byte{'"'}, post...)
		return func(dst []byte, seq int64) []byte {
			var id [20]byte
			n := len(strconv.AppendInt(id[:0], seq, 10))
			dst = append(dst, head+"Content-Type: "+cloudevents.MediaTypeJSON+"\r\nContent-Length: "...)
			dst = strconv.AppendInt(dst, int64(len(pre)+n+len(post)), 10)
			dst = append(dst, "\r\n\r\n"...)
			dst = append(dst, pre...)
			dst = append(dst, id[:n]...)
			return append(dst, post...)
		}, nil
	}
	return nil, fmt.Errorf("loadgen: mode %q: binary or structured", mode)
}
