package cloudevents

import (
	"strings"
	"testing"
	"time"
)

func TestURIReference(t *testing.T) {
	for _, tc := range []struct {
		in  string
		err string // "" when valid
	}{
		{"/", ""},
		{"relative/path", ""},
		{".", ""},
		{"?q=1", ""},
		{"#frag", ""},
		{"//host.example", ""},
		{"//host.example:/x", ""}, // empty port is allowed by the grammar
		{"https://github.com/cloudevents/spec/pull", ""},
		{"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", ""},
		{"tag:example.com,2024:x", ""},
		{"http://[2001:db8::7]/c=GB?objectClass?one", ""},
		{"http://[v7.fe80::a]/", ""},
		{"a+b.c-d:rest", ""},
		{"x/y:z", ""}, // ':' after the first segment is fine
		{"%41%2f", ""},
		{"/with space", "' ' is not allowed"},
		{"/naïve", "percent-encoded"},
		{"/a\"b", `'"' is not allowed`},
		{"/a<b>", "'<' is not allowed"},
		{"/a%g1", "two hex digits"},
		{":nothing", "scheme cannot be empty"},
		{"1http://x", "first segment"},
		{"http://h:abc/", "port"},
		{"http://[::1/", "closing ']'"},
		{"http://[::1]x/", "':port'"},
		{"http://[fe80::1%25eth0]/", "IPv6"},
		{"http://ho st/", "' ' is not allowed in the URI host"},
		{"http://a@b@c/", "'@' is not allowed in the URI userinfo"},
		{"/a#b#c", "'#' is not allowed in the URI fragment"},
		{"/a[b]", "'[' is not allowed"},
	} {
		msg := checkURIRef(tc.in)
		if (tc.err == "") != (msg == "") || !strings.Contains(msg, tc.err) {
			t.Errorf("checkURIRef(%q) = %q, want %q", tc.in, msg, tc.err)
		}
	}
	for _, tc := range []struct{ in, err string }{
		{"https://example.com/schema", ""},
		{"urn:x", ""},
		{"https://example.com/schema?v=2", ""},
		{"/schema", "scheme"},
		{"schema.json", "scheme"},
		{"https://example.com/s#frag", "fragment"},
		{"", "empty"},
	} {
		msg := checkURI(tc.in)
		if (tc.err == "") != (msg == "") || !strings.Contains(msg, tc.err) {
			t.Errorf("checkURI(%q) = %q, want %q", tc.in, msg, tc.err)
		}
	}
}

func TestTimestamp(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // UTC RFC3339Nano, or "" when invalid
		err  string
	}{
		{"2018-04-05T17:31:00Z", "2018-04-05T17:31:00Z", ""},
		{"2018-04-05t17:31:00z", "2018-04-05T17:31:00Z", ""},
		{"2018-04-05T17:31:00.123456789123Z", "2018-04-05T17:31:00.123456789Z", ""},
		{"2018-04-05T17:31:00+02:00", "2018-04-05T15:31:00Z", ""},
		{"2018-04-05T17:31:00-00:30", "2018-04-05T18:01:00Z", ""},
		{"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z", ""},
		{"1990-12-31T23:59:60Z", "1990-12-31T23:59:59.999999999Z", ""},
		{"1900-02-29T00:00:00Z", "", "day 29"},
		{"2018-04-31T00:00:00Z", "", "day 31"},
		{"2018-00-05T00:00:00Z", "", "month 00"},
		{"2018-04-05T24:00:00Z", "", "hour 24"},
		{"2018-04-05T23:60:00Z", "", "minute 60"},
		{"2018-04-05T23:59:61Z", "", "second 61"},
		{"2018-04-05T17:31:00.Z", "", "digits after '.'"},
		{"2018-04-05T17:31:00+0200", "", "+HH:MM"},
		{"2018-04-05T17:31:00+24:00", "", "out of range"},
		{"2018-04-05T17:31:00Z ", "", "after the timestamp"},
		{"2018-04-05T17:31Z", "", "looks like"},
		{"2018-4-05T17:31:00Z", "", "looks like"},
		{"2018-04-05", "", "looks like"},
		{"2018-04-05T17:31:00", "", "time zone"},
		{"2018-04-05T17:31:00 UTC", "", "time zone offset is Z"},
	} {
		ts, msg := parseTimestamp(tc.in)
		if tc.want == "" {
			if msg == "" || !strings.Contains(msg, tc.err) {
				t.Errorf("parseTimestamp(%q) = %v, %q; want error %q", tc.in, ts, msg, tc.err)
			}
			continue
		}
		if msg != "" || ts.UTC().Format(time.RFC3339Nano) != tc.want {
			t.Errorf("parseTimestamp(%q) = %v, %q; want %s", tc.in, ts.UTC().Format(time.RFC3339Nano), msg, tc.want)
		}
	}
}

// TestJSONSyntaxErrorSaysWhere: the ingress's 400 for data declared JSON
// that is not says the byte where it stops being JSON, and nothing for one
// JSON value, white space around it included.
func TestJSONSyntaxErrorSaysWhere(t *testing.T) {
	for _, c := range []struct{ data, want string }{
		{` {"a":[1,2.5e3,"x"],"b":null} `, ""},
		{`"text"`, ""},
		{`{"a":`, "invalid JSON at byte 5: unexpected end, expected a value"},
		{`{"a":1,}`, "invalid JSON at byte 7: expected a member name"},
		{`[1 2]`, "invalid JSON at byte 3: expected ',' or ']'"},
		{`{} {}`, "invalid JSON at byte 3: unexpected '{' after the value"},
		{``, "invalid JSON at byte 0: unexpected end, expected a value"},
		// A character is named whole, not by its first byte.
		{"\xef\xbb\xbf{}", "invalid JSON at byte 0: unexpected a byte order mark (U+FEFF), which JSON text must not begin with"},
		{`{"a":é}`, "invalid JSON at byte 5: unexpected 'é'"},
		{"[\xff]", "invalid JSON at byte 1: unexpected byte 0xFF, which is not UTF-8"},
		{"[1]\u00a0", `invalid JSON at byte 3: unexpected '\u00a0' after the value`},
		{`[trü]`, "invalid JSON at byte 1: unexpected 't'"},
		// a NUL is no end of the data.
		{`été`, "invalid JSON at byte 0: unexpected 'é'"},
		{`1 €`, "invalid JSON at byte 2: unexpected '€' after the value"},
		{`{"a" é}`, "invalid JSON at byte 5: expected ':', found 'é'"},
		{"1\xe9", "invalid JSON at byte 1: unexpected byte 0xE9, which is not UTF-8 after the value"},
		{"\x00", "invalid JSON at byte 0: unexpected '\\x00', expected a value"},
		{"[1\x00]", "invalid JSON at byte 2: expected ',' or ']'"},
	} {
		if got := JSONSyntaxError([]byte(c.data)); got != c.want {
			t.Errorf("JSONSyntaxError(%q) = %q, want %q", c.data, got, c.want)
		}
	}
}
