package broker

import (
	"net/url"
	"strings"
	"testing"

	"eddy/cloudevents"
	"eddy/record"
)

// TestEntryHeaderPeek holds the header peeks to the record codec: a change
// of the record format fails here, not silently in the broker.
func TestEntryHeaderPeek(t *testing.T) {
	recs := []record.Record{
		{Kind: record.Event, ValueType: record.CloudEvent, Intent: record.Published, Key: 7, Value: record.Value{Event: []byte{1}}},
		{Kind: record.Command, ValueType: record.CloudEvent, Intent: record.Publish, Key: -1},
		{Kind: record.Event, ValueType: record.Job, Intent: record.Canceled, Key: 9, Value: record.Value{JobType: JobType}},
		{Kind: record.Event, ValueType: record.Job, Intent: record.Completed, Key: 9},
		{Kind: record.Event, ValueType: record.Job, Intent: record.ErrorThrown, Key: 9},
		{Kind: record.Event, ValueType: record.Job, Intent: record.Failed, Key: 9},
		{Kind: record.Event, ValueType: record.Message, Intent: record.Published, Key: 3},
	}
	for _, r := range recs {
		data := record.Marshal(&r)
		var back record.Record
		if err := record.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		wantCE := back.Kind == record.Event && back.ValueType == record.CloudEvent && back.Intent == record.Published
		wantEnded := back.Kind == record.Event && back.ValueType == record.Job &&
			(back.Intent == record.Canceled || back.Intent == record.Completed || back.Intent == record.ErrorThrown)
		if isCloudEventEntry(data) != wantCE || isJobEndedEntry(data) != wantEnded {
			t.Errorf("%v %v %v: peeks say CloudEvent %v, job ended %v", r.Kind, r.ValueType, r.Intent, isCloudEventEntry(data), isJobEndedEntry(data))
		}
	}
}

func TestJobHeaders(t *testing.T) {
	cases := []struct {
		raw  string
		want jobHeaders
		err  string
	}{
		{`{"Type":"a.b","Mode":"EMIT_ONLY","Host":"http://x"}`, jobHeaders{Type: "a.b", Mode: ModeEmitOnly}, ""},
		{`{"Type":"a.b"}`, jobHeaders{Type: "a.b", Mode: ModeEmitOnly}, ""},
		{`{"Type":"a","Mode":"WAIT_FOR_CLOUD_EVENT","WaitType":"b"}`, jobHeaders{Type: "a", Mode: ModeWaitForCloudEvent, WaitType: "b"}, ""},
		{`{"Type":"a","Mode":"WAIT_FOR_CLOUD_EVENT"}`, jobHeaders{}, "no WaitType"},
		{`{"Type":"a","Mode":"FIRE"}`, jobHeaders{}, `"FIRE"`},
		{`{"Mode":"EMIT_ONLY"}`, jobHeaders{}, "needs a task header Type"},
		{`{"Type":"  "}`, jobHeaders{}, "needs a task header Type"},
		{`{"Type":"a","Mode":"WAIT_FOR_CLOUD_EVENT","WaitType":" "}`, jobHeaders{}, "no WaitType"},
		{``, jobHeaders{}, "needs a task header Type"},
		{`{"Type":1}`, jobHeaders{}, "not a JSON object of strings"},
		{`[]`, jobHeaders{}, "not a JSON object of strings"},
	}
	for _, c := range cases {
		got, err := parseJobHeaders([]byte(c.raw))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want an error saying %q", c.raw, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.raw, got, err, c.want)
		}
	}
}

func TestEventVariables(t *testing.T) {
	cases := []struct {
		ct, data, want string
	}{
		{"application/json", `{"a":1}`, `{"a":1}`},
		{"", ` {"a":1}`, ` {"a":1}`},
		{"application/json", `[1,2]`, `{"data":[1,2]}`},
		{"text/plain", "hello", `{"data":"hello"}`},
		{"application/octet-stream", "\x00\x01", `{"data":"AAE="}`},
		{"application/json", ``, ``},
		{"application/json", `42`, `{"data":42}`},
		{"application/cloudevents+json", `"s"`, `{"data":"s"}`},
		{"TEXT/plain; charset=utf-8", "a \"b\"", `{"data":"a \"b\""}`},
		{"application/xml", "<a/>", `{"data":"PGEvPg=="}`},
		// Undeclared data is JSON only when it is valid JSON.
		{"", `[1]`, `{"data":[1]}`},
		{"", "\x00", `{"data":"AA=="}`},
		// JSON is UTF-8: undeclared bytes that are not are no JSON.
		{"", "{\"a\":\"\xff\"}", `{"data":"eyJhIjoi/yJ9"}`},
		{"", "\"\xff\"", `{"data":"Iv8i"}`},
		// Declared JSON is taken as it is: the engine refuses it broken.
		{"application/json", `[1,`, `{"data":[1,}`},
		// Markup is not escaped for HTML.
		{"text/html", "<b>&</b>", `{"data":"<b>&</b>"}`},
	}
	for _, c := range cases {
		e := cloudevents.Event{DataContentType: c.ct, Data: []byte(c.data)}
		if got := string(eventVariables(&e)); got != c.want {
			t.Errorf("%s %q: %s, want %s", c.ct, c.data, got, c.want)
		}
	}
	// Data too large to become a variable becomes none; an object is the
	// variables whatever its size (the engine bounds it).
	big := cloudevents.Event{DataContentType: "application/octet-stream", Data: make([]byte, maxDataVariable+1)}
	if got := eventVariables(&big); got != nil {
		t.Errorf("%d bytes of binary data: %d bytes of variables, want none", len(big.Data), len(got))
	}
	// JSON and bytes are encoded in one allocation.
	for _, c := range []struct {
		ct, data string
		allocs   float64
	}{{"application/json", `[1,2]`, 1}, {"application/octet-stream", "\x00\x01", 1}} {
		e := cloudevents.Event{DataContentType: c.ct, Data: []byte(c.data)}
		if n := testing.AllocsPerRun(100, func() { eventVariables(&e) }); n > c.allocs {
			t.Errorf("%s: %v allocations, want at most %v", c.ct, n, c.allocs)
		}
	}
}

func FuzzJobHeaders(f *testing.F) {
	for _, s := range []string{`{"Type":"a","Mode":"WAIT_FOR_CLOUD_EVENT","WaitType":"b"}`, `{}`, ``, `{"Type":1}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := parseJobHeaders(raw)
		if err != nil {
			return
		}
		if strings.TrimSpace(h.Type) == "" || (h.Mode != ModeEmitOnly && h.Mode != ModeWaitForCloudEvent) || (h.Mode == ModeWaitForCloudEvent && strings.TrimSpace(h.WaitType) == "") {
			t.Fatalf("accepted headers %+v that describe no emission", h)
		}
	})
}

// TestPushFilterEmptyValue: an attribute given no value asks only that the
// event have it, as in a trigger's filter.attributes.
func TestPushFilterEmptyValue(t *testing.T) {
	with, without := event("a", "1", "region", "eu"), event("a", "2")
	match, err := parsePushFilter(url.Values{"region": {""}, "source": {""}}, compileCESQL)
	if err != nil {
		t.Fatal(err)
	}
	if !match(&with) || match(&without) {
		t.Fatalf("region= matched the event with region %v and the one without %v; want only the first", match(&with), match(&without))
	}
}

func FuzzPushFilter(f *testing.F) {
	for _, s := range []string{"type=a", "type=a&source=%2Fs", "cesql=type+%3D+%27a%27", "Type=x", "a=1&a=2", "cesql=%28", ""} {
		f.Add(s)
	}
	e := event("a", "1", "region", "eu")
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		match, err := parsePushFilter(q, compileCESQL)
		if err != nil {
			return
		}
		got := match(&e)
		if len(q) == 0 && !got {
			t.Fatal("an empty filter refused an event")
		}
		if v := q.Get("type"); v != "" && v != "a" && got {
			t.Fatalf("filter type=%q matched an event of type a", v)
		}
	})
}
