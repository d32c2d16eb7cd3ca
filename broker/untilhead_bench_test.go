package broker

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkHistoryRead reads a log of 20,000 events (two partitions, most
// of them no longer in the node's window) from its start to its head over
// SSE (lastEventId=start&untilHead=true), as a service rebuilding its state
// at start does: events/s is the whole read, the client's decoding of the
// stream's lines included.
func BenchmarkHistoryRead(b *testing.B) {
	const total = 20_000
	env := newEnv(b, WithJobWorker(false, 1))
	for n := 0; n < total; n += 100 {
		env.send(batch("bench.event", "e"+strconv.Itoa(n)+"-", 100)...)
	}
	stream := env.srv.URL + "/v1/events/stream?" + lastEventIDParam + "=" + startEventID + "&" + untilHeadParam + "=true"
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		resp, err := benchClient.Get(stream)
		if err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReaderSize(resp.Body, 64<<10)
		events, ended := 0, false
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				break
			}
			switch {
			case bytes.HasPrefix(line, []byte("data: {")):
				events++
			case strings.HasPrefix(string(line), "event: "+sseEndEvent):
				ended = true
			}
		}
		resp.Body.Close()
		if !ended || events != total {
			b.Fatalf("read %d events (ended: %v), want %d and the end", events, ended, total)
		}
	}
	b.ReportMetric(float64(total*b.N)/time.Since(start).Seconds(), "events/s")
}
