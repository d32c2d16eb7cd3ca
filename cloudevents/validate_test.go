package cloudevents

import (
	"strings"
	"testing"
)

func validEvent() Event {
	return Event{ID: "1", Source: "/tickets", SpecVersion: "1.0", Type: "Tickets.Reserved"}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(e *Event)
		attr   string // "" when valid
		reason string // substring of the reason
	}{
		{"minimal", func(e *Event) {}, "", ""},
		{"all attributes", func(e *Event) {
			e.DataContentType = `application/json; charset="utf-8"`
			e.DataSchema = "https://example.com/schemas/ticket.json"
			e.Subject = "ticket 42"
			e.Time = "2024-02-29T23:59:60.123456789+05:30"
			e.SetExtension("correlationkey", StringValue("c-1"))
			e.SetExtension("sampledrate", IntegerValue(-5))
			e.SetExtension("flag", BooleanValue(true))
			e.SetExtension("blob", BinaryValue([]byte{0, 1, 2}))
			e.SetExtension("dataref", Value{TypeURIRef, "../data#x"})
		}, "", ""},
		{"unicode id", func(e *Event) { e.ID = "Euro € 😀" }, "", ""},
		{"source urn", func(e *Event) { e.Source = "urn:event:from:myapi/resource/123" }, "", ""},
		{"source absolute with port and query", func(e *Event) { e.Source = "https://u:p@example.com:8080/a/b?c=d#e" }, "", ""},
		{"source ipv6", func(e *Event) { e.Source = "http://[::1]:80/x" }, "", ""},
		{"source email-like relative", func(e *Event) { e.Source = "mailto:cncf-wg-serverless@lists.cncf.io" }, "", ""},

		{"no specversion", func(e *Event) { e.SpecVersion = "" }, "specversion", "required"},
		{"specversion 0.3", func(e *Event) { e.SpecVersion = "0.3" }, "specversion", `"0.3" is not supported`},
		{"no id", func(e *Event) { e.ID = "" }, "id", "required"},
		{"no source", func(e *Event) { e.Source = "" }, "source", "required"},
		{"no type", func(e *Event) { e.Type = "" }, "type", "required"},
		{"id control char", func(e *Event) { e.ID = "a\nb" }, "id", "control character U+000A"},
		{"id C1 control", func(e *Event) { e.ID = "a\u0085b" }, "id", "control character U+0085"},
		{"id invalid utf8", func(e *Event) { e.ID = "a\xffb" }, "id", "invalid UTF-8"},
		{"type noncharacter", func(e *Event) { e.Type = "x\ufffe" }, "type", "noncharacter U+FFFE"},
		{"type noncharacter fdd0", func(e *Event) { e.Type = "x\ufdd0" }, "type", "noncharacter U+FDD0"},
		{"source with space", func(e *Event) { e.Source = "/my source" }, "source", `' ' is not allowed`},
		{"source non-ascii", func(e *Event) { e.Source = "/café" }, "source", "must be percent-encoded"},
		{"source bad percent", func(e *Event) { e.Source = "/a%2" }, "source", "two hex digits"},
		{"source colon in first segment", func(e *Event) { e.Source = "1a:b" }, "source", "first segment"},
		{"source bad port", func(e *Event) { e.Source = "http://h:8x/" }, "source", "port"},
		{"source bad ipv6", func(e *Event) { e.Source = "http://[zz]/" }, "source", "IPv6"},
		{"subject control", func(e *Event) { e.Subject = "\x00" }, "subject", "control character"},
		{"dataschema relative", func(e *Event) { e.DataSchema = "/schema" }, "dataschema", "starts with a scheme"},
		{"dataschema fragment", func(e *Event) { e.DataSchema = "https://x/s.json#/a" }, "dataschema", "no fragment"},
		{"datacontenttype no subtype", func(e *Event) { e.DataContentType = "json" }, "datacontenttype", "type/subtype"},
		{"datacontenttype bad param", func(e *Event) { e.DataContentType = "text/plain; charset" }, "datacontenttype", "no '='"},
		{"time no zone", func(e *Event) { e.Time = "2024-01-01T00:00:00" }, "time", "time zone"},
		{"time bad month", func(e *Event) { e.Time = "2024-13-01T00:00:00Z" }, "time", "month 13"},
		{"time feb 30", func(e *Event) { e.Time = "2023-02-29T00:00:00Z" }, "time", "day 29 is out of range"},
		{"time space separator", func(e *Event) { e.Time = "2024-01-01 00:00:00Z" }, "time", "RFC 3339"},
		{"extension upper case", func(e *Event) { e.Extensions = []Extension{{"Foo", StringValue("x")}} }, "Foo", "lower-case"},
		{"extension underscore", func(e *Event) { e.Extensions = []Extension{{"foo_bar", StringValue("x")}} }, "foo_bar", "lower-case"},
		{"extension too long", func(e *Event) { e.Extensions = []Extension{{strings.Repeat("a", 65), StringValue("x")}} }, strings.Repeat("a", 65), "at most 64"},
		{"extension reserved data", func(e *Event) { e.Extensions = []Extension{{"data", StringValue("x")}} }, "data", "reserved"},
		{"extension reserved id", func(e *Event) { e.Extensions = []Extension{{"id", StringValue("x")}} }, "id", "reserved"},
		{"extension duplicate", func(e *Event) { e.Extensions = []Extension{{"a", StringValue("x")}, {"a", StringValue("y")}} }, "a", "appears twice"},
		{"extension unsorted", func(e *Event) { e.Extensions = []Extension{{"b", StringValue("x")}, {"a", StringValue("y")}} }, "a", "sorted"},
		{"known extension wrong type", func(e *Event) { e.SetExtension("sampledrate", BooleanValue(true)) }, "sampledrate", "the sampledrate extension is an Integer, not a Boolean"},
		{"integer leading zero", func(e *Event) { e.SetExtension("n", Value{TypeInteger, "007"}) }, "n", "leading zeros"},
		{"integer overflow", func(e *Event) { e.SetExtension("n", Value{TypeInteger, "2147483648"}) }, "n", "32-bit"},
		{"boolean", func(e *Event) { e.SetExtension("b", Value{TypeBoolean, "TRUE"}) }, "b", "true or false"},
		{"binary", func(e *Event) { e.SetExtension("b", Value{TypeBinary, "AAE"}) }, "b", "base64"},
		{"binary over two lines", func(e *Event) { e.SetExtension("b", Value{TypeBinary, "AAEC\n/w=="}) }, "b", "input byte 4"},
		{"uri", func(e *Event) { e.SetExtension("u", Value{TypeURI, "x y"}) }, "u", "absolute URI"},
		{"timestamp", func(e *Event) { e.SetExtension("t", Value{TypeTimestamp, "yesterday"}) }, "t", "RFC 3339"},
		{"string control", func(e *Event) { e.SetExtension("s", StringValue("\t")) }, "s", "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := validEvent()
			tc.change(&e)
			err := e.Validate()
			if tc.attr == "" {
				if err != nil {
					t.Fatalf("valid event refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid event accepted, want an error about %q", tc.attr)
			}
			ce := err.(*Error)
			if ce.Attribute != tc.attr || !strings.Contains(ce.Reason, tc.reason) || ce.Status != 400 {
				t.Fatalf("got %d %q: %v\nwant 400 %q: ...%s...", ce.Status, ce.Attribute, err, tc.attr, tc.reason)
			}
		})
	}
}

func TestValueAccessors(t *testing.T) {
	if i, err := IntegerValue(-2147483648).Integer(); err != nil || i != -2147483648 {
		t.Fatalf("Integer: %v %v", i, err)
	}
	if _, err := StringValue("12a").Integer(); err == nil {
		t.Fatal(`"12a" read as an Integer`)
	}
	if b, err := BooleanValue(false).Boolean(); err != nil || b {
		t.Fatalf("Boolean: %v %v", b, err)
	}
	if b, err := BinaryValue([]byte("hi")).Binary(); err != nil || string(b) != "hi" {
		t.Fatalf("Binary: %q %v", b, err)
	}
	ts, err := Value{TypeTimestamp, "2016-12-31T23:59:60Z"}.Timestamp()
	if err != nil || ts.Year() != 2016 || ts.Second() != 59 {
		t.Fatalf("leap second: %v %v", ts, err)
	}
	ts, err = Value{TypeTimestamp, "2024-05-01t10:00:00.5-02:30"}.Timestamp()
	if err != nil || ts.UTC().Format("15:04:05.0") != "12:30:00.5" {
		t.Fatalf("offset: %v %v", ts, err)
	}
}

func TestEventAttributes(t *testing.T) {
	e := validEvent()
	e.Time = "2024-01-01T00:00:00Z"
	e.SetExtension("zeta", StringValue("z"))
	e.SetExtension("alpha", IntegerValue(1))
	e.SetExtension("mid", BooleanValue(true))
	e.SetExtension("alpha", IntegerValue(2))
	var names []string
	for _, x := range e.Extensions {
		names = append(names, x.Name)
	}
	if got := strings.Join(names, ","); got != "alpha,mid,zeta" {
		t.Fatalf("extensions not kept sorted: %s", got)
	}
	if v, ok := e.Attribute("alpha"); !ok || v != IntegerValue(2) {
		t.Fatalf("alpha = %v %v", v, ok)
	}
	if v, ok := e.Attribute("source"); !ok || v.Type != TypeURIRef || v.Text != "/tickets" {
		t.Fatalf("source = %v %v", v, ok)
	}
	if _, ok := e.Attribute("subject"); ok {
		t.Fatal("absent subject reported present")
	}
	e.DeleteExtension("mid")
	if _, ok := e.Extension("mid"); ok || len(e.Extensions) != 2 {
		t.Fatal("DeleteExtension left the extension")
	}
	e.Data = []byte("abc")
	c := e.Clone()
	c.Data[0] = 'x'
	c.Extensions[0].Name = "changed"
	if e.Data[0] != 'a' || e.Extensions[0].Name != "alpha" {
		t.Fatal("Clone shares memory")
	}
	want := len("abc") + len("id1") + len("source/tickets") + len("specversion1.0") + len("typeTickets.Reserved") +
		len("time2024-01-01T00:00:00Z") + len("alpha2") + len("zetaz")
	if e.Size() != want {
		t.Fatalf("Size = %d, want %d", e.Size(), want)
	}
}
