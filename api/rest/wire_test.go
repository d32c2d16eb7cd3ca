package rest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestKeyJSON(t *testing.T) {
	cases := []struct {
		in   string
		want Key
		ok   bool
	}{
		{`"2251799813685249"`, 2251799813685249, true},
		{`2251799813685249`, 2251799813685249, true},
		{`"9223372036854775807"`, 9223372036854775807, true},
		{`null`, 0, true},
		{`"9223372036854775808"`, 0, false},
		{`0`, 0, false},
		{`-5`, 0, false},
		{`"+5"`, 0, false},
		{`1.5`, 0, false},
		{`1e3`, 0, false},
		{`""`, 0, false},
		{`" 5"`, 0, false},
		{`true`, 0, false},
	}
	for _, tc := range cases {
		var k Key
		err := json.Unmarshal([]byte(tc.in), &k)
		if (err == nil) != tc.ok || k != tc.want {
			t.Errorf("%s: key %d, error %v; want %d, ok %v", tc.in, k, err, tc.want, tc.ok)
		}
	}
	out, _ := json.Marshal(struct{ K Key }{9007199254740993})
	if string(out) != `{"K":"9007199254740993"}` {
		t.Errorf("marshalled %s", out)
	}
}

func TestMillisJSON(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{`1500`, 1500 * time.Millisecond, true},
		{`"1.5s"`, 1500 * time.Millisecond, true},
		{`"2m"`, 2 * time.Minute, true},
		{`0`, 0, true},
		{`null`, 0, true},
		{`-1`, 0, false},
		{`"-1s"`, 0, false},
		{`1.5`, 0, false},
		{`"soon"`, 0, false},
		{`99999999999999999`, 0, false},
	}
	for _, tc := range cases {
		var m Millis
		err := json.Unmarshal([]byte(tc.in), &m)
		if (err == nil) != tc.ok || time.Duration(m) != tc.want {
			t.Errorf("%s: %v, error %v; want %v, ok %v", tc.in, time.Duration(m), err, tc.want, tc.ok)
		}
	}
	if out, _ := json.Marshal(Millis(1500 * time.Millisecond)); string(out) != "1500" {
		t.Errorf("marshalled %s", out)
	}
}

// FuzzDecodeRequest: decoding any body into any request type ends in a
// value or a problem that says something, never a panic; the position
// finder of unknown fields agrees with the decoder.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"bpmnProcessId": "a", "variables": {"x": [1, {"y": null}]}, "awaitCompletion": true, "requestTimeout": "1s"}`,
		`{"resources": [{"name": "a.bpmn", "content": "x"}, {"name": "b", "nme": 1}]}`,
		`{"activateInstructions": [{"elementId": "a", "variables": {"q": 1}, "x": 2}]}`,
		`{"processDefinitionKey": "12", "version": 99999999999}`,
		`{"a": }`, `[1, 2]`, `{"retries": 1, "timeout": 5} x`, `{"Resources": [[]]}`, `"`, ``,
	} {
		f.Add(seed)
	}
	targets := []reflect.Type{
		reflect.TypeFor[CreateInstanceRequest](), reflect.TypeFor[DeployRequest](), reflect.TypeFor[ModifyInstanceRequest](),
		reflect.TypeFor[UpdateJobRequest](), reflect.TypeFor[PublishMessageRequest](),
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, typ := range targets {
			v := reflect.New(typ).Interface()
			err := decodeJSON([]byte(body), v)
			if err == nil {
				continue
			}
			p, ok := err.(*Problem)
			if !ok {
				t.Fatalf("%s: error %T %v is not a problem", typ, err, err)
			}
			if p.Status != 400 || p.Detail == "" {
				t.Fatalf("%s: problem %+v", typ, p)
			}
			if strings.HasPrefix(p.Detail, "unknown field") && p.Field == "" {
				t.Fatalf("%s: an unknown field without its name: %+v", typ, p)
			}
		}
	})
}
