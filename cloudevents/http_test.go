package cloudevents

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/http")

const wantMarker = "-- want --\n"

// parseHTTPFixture reads a testdata/http file: '#' comment lines, a request
// line (METHOD path), header lines, a blank line, the body, then optionally
// the want section. The body's final newline is not part of it.
func parseHTTPFixture(t testing.TB, text string) (req *http.Request, want string) {
	t.Helper()
	if i := strings.Index(text, wantMarker); i >= 0 {
		text, want = text[:i], text[i+len(wantMarker):]
	}
	lines := strings.SplitAfter(text, "\n")
	for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
		lines = lines[1:]
	}
	method, path, ok := strings.Cut(strings.TrimSpace(lines[0]), " ")
	if !ok {
		t.Fatalf("bad request line %q", lines[0])
	}
	lines = lines[1:]
	h := http.Header{}
	for len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		k, v, ok := strings.Cut(strings.TrimRight(lines[0], "\n"), ":")
		if !ok {
			t.Fatalf("bad header line %q", lines[0])
		}
		h.Add(k, strings.TrimSpace(v))
		lines = lines[1:]
	}
	body := ""
	if len(lines) > 1 {
		body = strings.TrimSuffix(strings.Join(lines[1:], ""), "\n")
	}
	req = httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header = h
	return req, want
}

// describe is what a want section holds: the status, then each event in
// the JSON format, or the error message.
func describe(events []Event, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %d\n", StatusCode(err))
	if err != nil {
		b.WriteString(err.Error() + "\n")
		return b.String()
	}
	for i := range events {
		b.Write(AppendJSON(nil, &events[i]))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestReadRequestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/http/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			req, want := parseHTTPFixture(t, string(raw))
			events, err := ReadRequest(req, 0)
			got := describe(events, err)
			if *update {
				text := string(raw)
				if i := strings.Index(text, wantMarker); i >= 0 {
					text = text[:i]
				}
				if !strings.HasSuffix(text, "\n") {
					text += "\n"
				}
				if err := os.WriteFile(file, []byte(text+wantMarker+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
			// Whatever was accepted survives both modes and the log.
			for i := range events {
				checkRoundTrips(t, &events[i])
			}
		})
	}
}

// checkRoundTrips sends e through binary mode, structured mode and the log
// encoding and expects e back each time. Binary mode carries extension
// values as text, so there they come back as Strings (known extensions
// excepted).
func checkRoundTrips(t *testing.T, e *Event) {
	t.Helper()
	want := describe([]Event{*e}, nil)
	for _, mode := range []Mode{Binary, Structured} {
		req, err := NewRequest(context.Background(), "http://eddy.test/", e, mode)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadRequest(req, 0)
		want := want
		if mode == Binary {
			c := e.Clone()
			for i, x := range c.Extensions {
				if _, known := ExtensionType(x.Name); !known {
					c.Extensions[i].Value.Type = TypeString
				}
			}
			want = describe([]Event{c}, nil)
		}
		if got := describe(back, err); got != want {
			t.Fatalf("mode %d round trip:\n%s\nwant:\n%s", mode, got, want)
		}
	}
	var back Event
	if err := Unmarshal(Marshal(e), &back); err != nil {
		t.Fatal(err)
	}
	if got := describe([]Event{back}, nil); got != want {
		t.Fatalf("log round trip:\n%s\nwant:\n%s", got, want)
	}
}

func TestReadRequestLimits(t *testing.T) {
	event := func(dataSize int) *http.Request {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(bytes.Repeat([]byte("x"), dataSize)))
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", "1")
		req.Header.Set("Ce-Source", "/s")
		req.Header.Set("Ce-Type", "t")
		req.Header.Set("Content-Type", "application/octet-stream")
		return req
	}
	// 64 KB must always pass with the default limit, with and without a
	// known length.
	events, err := ReadRequest(event(64<<10), 0)
	if err != nil || len(events[0].Data) != 64<<10 || events[0].Size() < 64<<10 {
		t.Fatalf("64 KB event: %v", err)
	}
	req := event(64 << 10)
	req.ContentLength = -1
	if _, err := ReadRequest(req, 0); err != nil {
		t.Fatalf("64 KB event, chunked: %v", err)
	}
	for _, tc := range []struct {
		name   string
		req    *http.Request
		limit  int64
		status int
	}{
		{"known length over the limit", event(1001), 1000, 413},
		{"exactly the limit", event(1000), 1000, 200},
		{"over the default limit", event(DefaultLimit + 1), 0, 413},
		{"chunked over the limit", func() *http.Request { r := event(1001); r.ContentLength = -1; return r }(), 1000, 413},
		{"chunked at the limit", func() *http.Request { r := event(1000); r.ContentLength = -1; return r }(), 1000, 200},
		{"body longer than Content-Length", func() *http.Request { r := event(10); r.ContentLength = 5; return r }(), 1000, 400},
		{"body shorter than Content-Length", func() *http.Request { r := event(10); r.ContentLength = 50; return r }(), 1000, 400},
		{"MaxBytesReader upstream", func() *http.Request {
			r := event(100)
			r.ContentLength = -1
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 50)
			return r
		}(), 1000, 413},
	} {
		_, err := ReadRequest(tc.req, tc.limit)
		if StatusCode(err) != tc.status {
			t.Errorf("%s: status %d (%v), want %d", tc.name, StatusCode(err), err, tc.status)
		}
	}
}

func TestHandBuiltHeaders(t *testing.T) {
	for _, h := range []http.Header{
		{"Ce-Specversion": {"1.0"}, "Ce-Id": {"1"}, "ce-id": {"2"}, "Ce-Source": {"/s"}, "Ce-Type": {"t"}},
		{"Ce-Specversion": {"1.0"}, "Ce-Id": {"1"}, "Ce-Source": {"/s"}, "Ce-Type": {"t"}, "Ce-Ext": {"a"}, "ce-ext": {"b"}},
	} {
		req := httptest.NewRequest("POST", "/", nil)
		req.Header = h
		if _, err := ReadRequest(req, 0); err == nil || !strings.Contains(err.Error(), "header sent twice") {
			t.Errorf("%v: %v", h, err)
		}
	}
}

func TestWriteError(t *testing.T) {
	req := httptest.NewRequest("PUT", "/", nil)
	_, err := ReadRequest(req, 0)
	w := httptest.NewRecorder()
	WriteError(w, err)
	if w.Code != 405 || w.Header().Get("Allow") != "POST" || !strings.Contains(w.Body.String(), "method PUT is not allowed") {
		t.Fatalf("got %d %v %q", w.Code, w.Header(), w.Body.String())
	}
	w = httptest.NewRecorder()
	WriteError(w, io.EOF)
	if w.Code != 500 {
		t.Fatalf("plain error: %d", w.Code)
	}
}

// TestDelivery runs a real HTTP server: the broker posts an event in each
// mode, the subscriber reads it and replies with another event, which the
// broker reads back.
func TestDelivery(t *testing.T) {
	for _, mode := range []Mode{Binary, Structured} {
		t.Run(strconv.Itoa(int(mode)), func(t *testing.T) {
			sent := validEvent()
			sent.Subject = "Euro € 😀"
			sent.DataContentType = "application/json"
			sent.Data = []byte(`{"n":1}`)
			sent.SetExtension("correlationkey", StringValue("k 1"))
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, err := ReadRequest(r, 0)
				if err != nil {
					WriteError(w, err)
					return
				}
				if describe(got, nil) != describe([]Event{sent}, nil) {
					http.Error(w, "not the event sent: "+describe(got, nil), http.StatusTeapot)
					return
				}
				reply := validEvent()
				reply.ID = "reply-" + got[0].ID
				reply.Data = []byte("plain text reply")
				reply.DataContentType = "text/plain"
				if err := WriteResponse(w, http.StatusOK, &reply, mode); err != nil {
					t.Error(err)
				}
			}))
			defer srv.Close()
			req, err := NewRequest(context.Background(), srv.URL, &sent, mode)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			reply, err := ReadResponse(resp, 0)
			if err != nil || reply == nil {
				t.Fatalf("reply: %v %v", reply, err)
			}
			if reply.ID != "reply-1" || string(reply.Data) != "plain text reply" || reply.DataContentType != "text/plain" {
				t.Fatalf("reply = %+v", reply)
			}
		})
	}
}

func TestReadResponse(t *testing.T) {
	resp := func(status int, ct, body string, headers ...string) *http.Response {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			h.Set(headers[i], headers[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
	}
	for _, tc := range []struct {
		name    string
		resp    *http.Response
		wantID  string // "" for no event
		wantErr string
	}{
		{"202 empty", resp(202, "", ""), "", ""},
		{"200 empty with content type", resp(200, "text/plain", ""), "", ""},
		{"binary reply", resp(200, "text/plain", "hi", "Ce-Specversion", "1.0", "Ce-Id", "r", "Ce-Source", "/s", "Ce-Type", "t"), "r", ""},
		{"structured reply", resp(200, MediaTypeJSON, `{"specversion":"1.0","id":"r2","source":"/s","type":"t"}`), "r2", ""},
		{"not an event", resp(200, "application/json", `{"ok":true}`), "", "missing: a binary-mode event needs the ce-specversion header"},
		{"invalid event", resp(200, "", "", "Ce-Specversion", "1.0", "Ce-Id", "r", "Ce-Source", "/s"), "", `attribute "type" (header "ce-type"): required`},
		{"batch reply", resp(200, MediaTypeJSONBatch, `[]`), "", "a reply is one event, not a batch"},
	} {
		e, err := ReadResponse(tc.resp, 0)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || StatusCode(err) == 400 {
				t.Errorf("%s: got %v, %v; want error %q (not 400)", tc.name, e, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantID == "" && e != nil:
			t.Errorf("%s: got event %+v, want none", tc.name, e)
		case tc.wantID != "" && (e == nil || e.ID != tc.wantID):
			t.Errorf("%s: got %+v, want id %q", tc.name, e, tc.wantID)
		}
	}
}

func TestBatchRequest(t *testing.T) {
	a, b := validEvent(), validEvent()
	b.ID = "2"
	b.Data = []byte{0xff, 0}
	req, err := NewBatchRequest(context.Background(), "http://eddy.test/", []Event{a, b})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadRequest(req, 0)
	if err != nil || describe(got, nil) != describe([]Event{a, b}, nil) {
		t.Fatalf("batch round trip: %v\n%s", err, describe(got, err))
	}
}
