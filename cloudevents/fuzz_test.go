package cloudevents

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// addFixtureSeeds adds every testdata/http request to f through add.
func addFixtureSeeds(f *testing.F, add func(ct, headers string, body []byte)) {
	files, _ := filepath.Glob("testdata/http/*.txt")
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		req, _ := parseHTTPFixture(f, string(raw))
		var hs []string
		for k, vs := range req.Header {
			if k != "Content-Type" {
				for _, v := range vs {
					hs = append(hs, k+": "+v)
				}
			}
		}
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(req.Body)
		add(req.Header.Get("Content-Type"), strings.Join(hs, "\n"), body.Bytes())
	}
}

// FuzzReadRequest: any request either fails with a 4xx *Error, or yields
// valid events that survive both modes and the log unchanged.
func FuzzReadRequest(f *testing.F) {
	addFixtureSeeds(f, func(ct, headers string, body []byte) { f.Add(ct, headers, body) })
	f.Fuzz(func(t *testing.T, ct, headers string, body []byte) {
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header = http.Header{}
		if ct != "" {
			req.Header["Content-Type"] = []string{ct}
		}
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				req.Header.Add(k, strings.TrimSpace(v))
			}
		}
		events, err := ReadRequest(req, 1<<16)
		if err != nil {
			if s := StatusCode(err); s != 400 && s != 413 && s != 415 {
				t.Fatalf("status %d: %v", s, err)
			}
			return
		}
		for i := range events {
			if err := events[i].Validate(); err != nil {
				t.Fatalf("accepted an invalid event: %v", err)
			}
			checkRoundTrips(t, &events[i])
		}
	})
}

// FuzzDecodeJSON: accepted events are valid and re-encode to themselves.
func FuzzDecodeJSON(f *testing.F) {
	addFixtureSeeds(f, func(_, _ string, body []byte) { f.Add(body) })
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"/s","type":"t","data":[1,{"a":null}],"x":-0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeJSON(b)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("accepted an invalid event: %v", err)
		}
		again, err := DecodeJSON(AppendJSON(nil, &e))
		if err != nil {
			t.Fatalf("re-encoded event refused: %v", err)
		}
		if describe([]Event{again}, nil) != describe([]Event{e}, nil) {
			t.Fatalf("JSON round trip changed the event:\n%s\n%s", describe([]Event{e}, nil), describe([]Event{again}, nil))
		}
	})
}

// FuzzDecodeJSONBatch: the same for batches; errors name the element.
func FuzzDecodeJSONBatch(f *testing.F) {
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"1.0","id":"2","source":"/s","type":"t","data_base64":"AA=="}]`))
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		events, err := DecodeJSONBatch(b)
		if err != nil {
			return
		}
		again, err := DecodeJSONBatch(AppendJSONBatch(nil, events))
		if err != nil || describe(again, nil) != describe(events, nil) {
			t.Fatalf("batch round trip: %v", err)
		}
	})
}

// FuzzValidJSON compares the scanner with encoding/json: what it accepts is
// JSON, and it refuses JSON only for invalid UTF-8 or unpaired surrogates.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2.5e-3,"a\u00e9",true,null]`, `{"a":{"b":[]}}`, `"\ud83d\ude00"`, `01`, `[1,]`, ` 1 `, `-`, `"\ud800"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mine, std := validJSON(b), json.Valid(b)
		if mine && !std {
			t.Fatalf("accepted what encoding/json refuses: %q", b)
		}
		if std && !mine && utf8.Valid(b) && !bytes.Contains(bytes.ToLower(b), []byte(`\ud`)) {
			t.Fatalf("refused what encoding/json accepts: %q", b)
		}
	})
}

// FuzzHeaderValue: decoding never panics and undoes encoding.
func FuzzHeaderValue(f *testing.F) {
	for _, s := range []string{"plain", "Euro%20%E2%82%AC", `"q\"x"`, "%C0%A0", "100%", "é 😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = decodeHeaderValue(s)
		if !utf8.ValidString(s) {
			return
		}
		enc := encodeHeaderValue(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c <= ' ' || c >= 0x7f || c == '"' {
				t.Fatalf("encoded value %q holds %q", enc, c)
			}
		}
		if back, msg := decodeHeaderValue(enc); back != s || msg != "" {
			t.Fatalf("%q encoded as %q decodes to %q, %q", s, enc, back, msg)
		}
	})
}

// FuzzUnmarshal: the log decoder never panics, and what it accepts encodes
// back to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	e := fullEvent()
	f.Add(Marshal(&e))
	m := validEvent()
	f.Add(Marshal(&m))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		if err := Unmarshal(b, &e); err != nil {
			return
		}
		if again := Marshal(&e); !bytes.Equal(again, b) {
			t.Fatalf("not canonical:\n%x\n%x", b, again)
		}
	})
}

// FuzzTimestamp compares the RFC 3339 parser with time.Parse on the forms
// both accept.
func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"2018-04-05T17:31:00Z", "2018-04-05t17:31:00.5+02:00", "1990-12-31T23:59:60Z", "2018-02-30T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, msg := parseTimestamp(s)
		if msg != "" || strings.ContainsAny(s, "tz") || (len(s) > 18 && s[17:19] == "60") {
			return
		}
		std, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("accepted %q, which time.Parse refuses: %v", s, err)
		}
		if !std.Equal(ts) {
			t.Fatalf("%q: %v, time.Parse says %v", s, ts, std)
		}
	})
}

// FuzzURI: the URI checks never panic, and an absolute URI is a
// URI-reference.
func FuzzURI(f *testing.F) {
	for _, s := range []string{"https://a@b:1/c?d#e", "urn:x", "//h", "/p", "http://[::1]/", "a:b:c", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkURI(s) == "" && checkURIRef(s) != "" {
			t.Fatalf("%q is an absolute URI but not a URI-reference: %s", s, checkURIRef(s))
		}
	})
}
