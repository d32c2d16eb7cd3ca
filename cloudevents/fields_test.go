package cloudevents

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fieldLines reads a testdata/http file's header lines as a lean server
// parses them: names as sent, values trimmed.
func fieldLines(t testing.TB, text string) (method string, fields [][2]string) {
	t.Helper()
	lines := strings.Split(text, "\n")
	for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
		lines = lines[1:]
	}
	method, _, _ = strings.Cut(lines[0], " ")
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		fields = append(fields, [2]string{k, strings.TrimSpace(v)})
	}
	return method, fields
}

func readFields(fields [][2]string, body []byte, limit int64) ([]Event, error, bool) {
	var r FieldReader
	for _, f := range fields {
		r.Add([]byte(f[0]), []byte(f[1]))
	}
	e, err, ok := r.Read(body, limit)
	if !ok || err != nil {
		return nil, err, ok
	}
	return []Event{e}, nil, true
}

// Every POST fixture a FieldReader takes reads as ReadRequest reads it:
// the same events, or the same error, status and message.
func TestFieldReaderAsReadRequest(t *testing.T) {
	files, _ := filepath.Glob("testdata/http/*.txt")
	taken := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := parseHTTPFixture(t, string(raw))
		method, fields := fieldLines(t, strings.SplitN(string(raw), wantMarker, 2)[0])
		if method != http.MethodPost {
			continue
		}
		body := new(bytes.Buffer)
		_, _ = body.ReadFrom(req.Body)
		req, _ = parseHTTPFixture(t, string(raw))
		events, err, ok := readFields(fields, body.Bytes(), 1<<16)
		if !ok {
			continue
		}
		taken++
		wantEvents, wantErr := ReadRequest(req, 1<<16)
		if got, want := describe(events, err), describe(wantEvents, wantErr); got != want {
			t.Errorf("%s:\nFieldReader: %s\nReadRequest: %s", filepath.Base(file), got, want)
		}
	}
	if taken < 30 {
		t.Fatalf("only %d fixtures taken", taken)
	}
}

func TestFieldReaderDeclines(t *testing.T) {
	binary := [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/s"}, {"ce-type", "t"}}
	many := append([][2]string(nil), binary...)
	for i := range maxFieldAttributes {
		many = append(many, [2]string{"ce-x" + strconv.Itoa(i), "v"})
	}
	cases := []struct {
		name   string
		fields [][2]string
	}{
		{"a ce- header twice, in another case", append(binary[:4:4], [2]string{"CE-ID", "2"})},
		{"Content-Type twice", append(binary[:4:4], [2]string{"Content-Type", "text/plain"}, [2]string{"content-type", "text/plain"})},
		{"a batch", [][2]string{{"Content-Type", MediaTypeJSONBatch}}},
		{"a header named ce-", append(binary[:4:4], [2]string{"ce-", "v"})},
		{"more ce- headers than kept", many},
	}
	for _, tc := range cases {
		if _, _, ok := readFields(tc.fields, []byte("[]"), 0); ok {
			t.Errorf("%s: taken", tc.name)
		}
	}
	// A header in any case is the attribute; others are ignored.
	events, err, ok := readFields([][2]string{{"CE-SpecVersion", "1.0"}, {"Ce-ID", "1"}, {"cE-sOURCE", "/s"}, {"ce-Type", "t"},
		{"CE-MyExt", "x%20y"}, {"content-TYPE", "text/plain"}, {"Host", "h"}, {"cf-id", "z"}}, []byte("data"), 0)
	if !ok || err != nil {
		t.Fatalf("not read: %v %v", ok, err)
	}
	e := events[0]
	if e.ID != "1" || e.Source != "/s" || e.Type != "t" || e.DataContentType != "text/plain" || string(e.Data) != "data" {
		t.Fatalf("event %+v", e)
	}
	if v, _ := e.Extension("myext"); v.Text != "x y" || len(e.Extensions) != 1 {
		t.Fatalf("extensions %+v", e.Extensions)
	}
	// The event keeps a copy of the body, not the server's buffer.
	body := []byte("data")
	events, _, _ = readFields(binary, body, 0)
	body[0] = 'D'
	if string(events[0].Data) != "data" {
		t.Fatalf("the event's data changed with the buffer: %q", events[0].Data)
	}
	if _, err, ok := readFields(binary, make([]byte, 101), 100); !ok || StatusCode(err) != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the limit: %v %v", ok, err)
	}
}

// FuzzFieldReader: whatever a FieldReader takes, it reads as ReadRequest.
func FuzzFieldReader(f *testing.F) {
	addFixtureSeeds(f, func(ct, headers string, body []byte) { f.Add(ct, headers, body) })
	f.Add("", "ce-specversion: 1.0\nCE-ID: 1\nce-source: /s\nce-type: t\nce-Ext: %41", []byte("x"))
	// '\r' | 0x20 is '-': a name that only case-folds bit-wise to content-type.
	f.Add("", "content\rtype: application/cloudevents+json\nce-specversion: 1.0\nce-id: 1\nce-source: /s\nce-type: t", []byte("{}"))
	f.Fuzz(func(t *testing.T, ct, headers string, body []byte) {
		var fields [][2]string
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header = http.Header{}
		if ct != "" {
			fields = append(fields, [2]string{"Content-Type", ct})
			req.Header["Content-Type"] = []string{ct}
		}
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				fields = append(fields, [2]string{k, strings.TrimSpace(v)})
				req.Header.Add(k, strings.TrimSpace(v))
			}
		}
		events, err, ok := readFields(fields, body, 1<<16)
		if !ok {
			return
		}
		wantEvents, wantErr := ReadRequest(req, 1<<16)
		if got, want := describe(events, err), describe(wantEvents, wantErr); got != want {
			t.Fatalf("FieldReader: %s\nReadRequest: %s", got, want)
		}
	})
}
