package cloudevents

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchEvent is a typical tickets event: the required attributes, time,
// two extensions and 200 bytes of JSON data.
func benchEvent() Event {
	e := Event{
		ID: "6f1c2a3e-0b7d-4c52-9a55-5d1a2b3c4d5e", Source: "/tickets/queue", SpecVersion: "1.0",
		Type: "Queue.CustomerJoined", Time: "2024-05-01T12:00:00.123Z", DataContentType: "application/json",
	}
	e.SetExtension("correlationkey", StringValue("customer-42"))
	e.SetExtension("partitionkey", StringValue("concert-7"))
	e.Data = []byte(`{"customerId":"customer-42","sessionId":"5b0c7d2e-8f1a-4e3b-9c6d-0a1b2c3d4e5f","concertId":"concert-7","joinedAt":"2024-05-01T12:00:00.123Z","position":1234,"tickets":2,"note":"aisle seats if possible"}`)
	return e
}

// reusableBody lets one request be read again and again without
// allocating a new body.
type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

func benchRequest(b *testing.B, mode Mode, batch int) {
	e := benchEvent()
	var req *http.Request
	var err error
	if batch > 0 {
		events := make([]Event, batch)
		for i := range events {
			events[i] = e
		}
		req, err = NewBatchRequest(context.Background(), "http://eddy.test/", events)
	} else {
		req, err = NewRequest(context.Background(), "http://eddy.test/", &e, mode)
	}
	if err != nil {
		b.Fatal(err)
	}
	body := new(bytes.Buffer)
	_, _ = body.ReadFrom(req.Body)
	// What a server sees: canonical header keys, as net/http parses them.
	srvReq := httptest.NewRequest("POST", "/", nil)
	srvReq.Header = req.Header.Clone()
	srvReq.ContentLength = int64(body.Len())
	rb := &reusableBody{}
	n := max(batch, 1)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		rb.Reset(body.Bytes())
		srvReq.Body = rb
		events, err := ReadRequest(srvReq, 0)
		if err != nil || len(events) != n {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkReadRequest(b *testing.B) {
	b.Run("binary", func(b *testing.B) { benchRequest(b, Binary, 0) })
	b.Run("structured", func(b *testing.B) { benchRequest(b, Structured, 0) })
	b.Run("batch10", func(b *testing.B) { benchRequest(b, 0, 10) })
}

// BenchmarkFieldReader reads the same requests as BenchmarkReadRequest
// from their header lines, as the ingress's fast path does.
func BenchmarkFieldReader(b *testing.B) {
	e := benchEvent()
	for _, mode := range []Mode{Binary, Structured} {
		name := map[Mode]string{Binary: "binary", Structured: "structured"}[mode]
		b.Run(name, func(b *testing.B) {
			req, err := NewRequest(context.Background(), "http://eddy.test/", &e, mode)
			if err != nil {
				b.Fatal(err)
			}
			body := new(bytes.Buffer)
			_, _ = body.ReadFrom(req.Body)
			var names, values [][]byte
			for k, vs := range req.Header {
				for _, v := range vs {
					names, values = append(names, []byte(k)), append(values, []byte(v))
				}
			}
			b.SetBytes(int64(body.Len()))
			b.ReportAllocs()
			for b.Loop() {
				var r FieldReader
				for i := range names {
					r.Add(names[i], values[i])
				}
				if _, err, ok := r.Read(body.Bytes(), 0); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func BenchmarkNewRequest(b *testing.B) {
	e := benchEvent()
	for _, mode := range []Mode{Binary, Structured} {
		name := map[Mode]string{Binary: "binary", Structured: "structured"}[mode]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewRequest(context.Background(), "http://eddy.test/", &e, mode); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLogCodec(b *testing.B) {
	e := benchEvent()
	buf := Marshal(&e)
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		out := make([]byte, 0, 1024)
		for b.Loop() {
			out = Append(out[:0], &e)
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		var got Event
		for b.Loop() {
			if err := Unmarshal(buf, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	e := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
