package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"eddy/cloudevents"
)

// FuzzLoad: loading never panics; it returns triggers or *Errors; a loaded
// trigger's declaration goes through JSON and loads again the same, and
// matching an event never panics.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, file := range append(files, more...) {
		f.Add(must(os.ReadFile(file)))
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a\n"))
	e := &cloudevents.Event{SpecVersion: "1.0", ID: "1", Source: "/queue", Type: "Queue.CustomerJoined", Subject: "s"}
	e.SetExtension("correlationkey", cloudevents.StringValue("c"))
	f.Fuzz(func(t *testing.T, src []byte) {
		triggers, err := Load(bytes.NewReader(src), LoadOptions{File: "fuzz.yaml"})
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			return
		}
		for _, tr := range triggers {
			_, _ = tr.Match(e)
			b, err := json.Marshal(tr.Resource)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Load(bytes.NewReader(b), LoadOptions{})
			if err != nil {
				t.Fatalf("%s: its JSON does not load: %v\n%s", tr.Key(), err, b)
			}
			if b2, _ := json.Marshal(again[0].Resource); !bytes.Equal(b, b2) {
				t.Fatalf("JSON round trip:\n%s\n%s", b, b2)
			}
			if again[0].Delivery.Backoff(3) != tr.Delivery.Backoff(3) || again[0].Subscriber != tr.Subscriber {
				t.Fatalf("JSON round trip changed the trigger")
			}
		}
	})
}

// FuzzParseDuration: never panics; what parses formats back to the same
// duration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT0.2S", "P1DT2H3M4.5S", "P2W", "PT", "P1M", "PT1,5S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q: negative %v", s, d)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Fatalf("%q = %v formats as %q, which reads %v, %v", s, d, FormatDuration(d), back, err)
		}
	})
}
