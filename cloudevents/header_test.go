package cloudevents

import (
	"strings"
	"testing"
)

func TestHeaderValueDecode(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"plain", "plain", ""},
		{"Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀", ""}, // the binding's example
		{"lower%e2%82%ac", "lower€", ""},
		{"%41%42", "AB", ""}, // needlessly encoded, accepted
		{`"quoted value"`, "quoted value", ""},
		{`"with \"escape\""`, `with "escape"`, ""},
		{`a"b c"d`, `a"b c"d`, ""}, // quotes inside a value are its own
		{`{"othervalue": 5}`, `{"othervalue": 5}`, ""},
		{`27" monitor`, `27" monitor`, ""},
		{`"a" and "b"`, `"a" and "b"`, ""}, // not one quoted-string
		{`"`, `"`, ""},
		{`""`, "", ""},
		{`"%20"`, " ", ""}, // quotes undone first, then one round of percent-decoding
		{"100%25", "100%", ""},
		{"%2541", "%41", ""},              // one round only
		{"%C0%A0", "", "not valid UTF-8"}, // overlong U+0020, which the binding says to reject
		{"%FF", "", "not valid UTF-8"},
		{"%E2%82", "", "not valid UTF-8"},
		{"50%", "50%", ""}, // a stray '%' is literal, as senders that do not encode send it
		{"%zz%4", "%zz%4", ""},
		{"raw € and space", "raw € and space", ""},
		{`"open`, `"open`, ""},
		{`"esc\"`, `"esc\"`, ""}, // the closing quote escaped: no quoted-string
	} {
		got, err := decodeHeaderValue(tc.in)
		if got != tc.want || !strings.Contains(err, tc.err) || (tc.err == "") != (err == "") {
			t.Errorf("decode %q = %q, %q; want %q, error containing %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestHeaderValueEncode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain-text/ok:1", "plain-text/ok:1"},
		{"Euro € 😀", "Euro%20%E2%82%AC%20%F0%9F%98%80"},
		{`say "hi"`, "say%20%22hi%22"},
		{"100%", "100%25"},
		{"tab\there\x7f", "tab%09here%7F"},
	} {
		if got := encodeHeaderValue(tc.in); got != tc.want {
			t.Errorf("encode %q = %q, want %q", tc.in, got, tc.want)
		}
		if back, err := decodeHeaderValue(encodeHeaderValue(tc.in)); back != tc.in || err != "" {
			t.Errorf("round trip of %q gave %q, %q", tc.in, back, err)
		}
	}
}

func TestMediaType(t *testing.T) {
	for _, tc := range []struct{ in, mt, charset string }{
		{"application/cloudevents+json", "application/cloudevents+json", ""},
		{"Application/CloudEvents+JSON; Charset=UTF-8", "application/cloudevents+json", "utf-8"},
		{`application/json ; foo=bar; charset="utf-8"`, "application/json", "utf-8"},
		{"", "", ""},
	} {
		mt, cs := mediaType(tc.in)
		if mt != tc.mt || cs != tc.charset {
			t.Errorf("mediaType(%q) = %q, %q; want %q, %q", tc.in, mt, cs, tc.mt, tc.charset)
		}
	}
	for ct, want := range map[string]bool{
		"": true, "application/json": true, "text/json; charset=utf-8": true, "application/vnd.foo+json": true,
		"application/xml": false, "text/plain": false, "application/jsonx": false, "application/x+jsonl": false,
	} {
		if got := isJSONMediaType(ct); got != want {
			t.Errorf("isJSONMediaType(%q) = %v", ct, got)
		}
	}
}
