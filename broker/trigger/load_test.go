package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"eddy/cloudevents"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/*.err")

func event(typ, source string, exts ...string) *cloudevents.Event {
	e := &cloudevents.Event{SpecVersion: "1.0", ID: "1", Source: source, Type: typ}
	for i := 0; i+1 < len(exts); i += 2 {
		if exts[i] == "subject" {
			e.Subject = exts[i+1]
			continue
		}
		e.SetExtension(exts[i], cloudevents.StringValue(exts[i+1]))
	}
	return e
}

// The seed's triggers load as they are, and each takes the events of its
// type and no other.
func TestRouterTriggers(t *testing.T) {
	triggers, err := LoadFile("testdata/router-triggers.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"default/router-queue-join-trigger":                 "Queue.CustomerJoined",
		"default/router-queue-abandon-trigger":              "Queue.CustomerAbandoned",
		"default/router-queue-exit-trigger":                 "Queue.CustomerExited",
		"default/router-tickets-reserved-trigger":           "Tickets.Reserved",
		"default/router-tickets-payment-requested-trigger":  "Tickets.PaymentRequested",
		"default/router-tickets-payment-authorized-trigger": "Tickets.PaymentsAuthorized",
	}
	if len(triggers) != len(want) {
		t.Fatalf("%d triggers, want %d", len(triggers), len(want))
	}
	lines := []int{1, 15, 29, 43, 57, 71}
	for i, tr := range triggers {
		typ, ok := want[tr.Key()]
		if !ok {
			t.Fatalf("unexpected trigger %s", tr.Key())
		}
		if tr.Broker != "default" || tr.Subscriber != "http://zeebe-cloud-events-router.default.svc.cluster.local/message" ||
			tr.Ordering != Unordered || tr.Delivery != DefaultDelivery() || tr.Line != lines[i] {
			t.Fatalf("%s: %+v", tr.Key(), tr)
		}
		for _, other := range want {
			ok, err := tr.Match(event(other, "/tickets", "correlationkey", "c-1"))
			if err != nil || ok != (other == typ) {
				t.Errorf("%s on %s: %v %v", tr.Key(), other, ok, err)
			}
		}
	}
}

func TestFilters(t *testing.T) {
	triggers, err := LoadFile("testdata/filters.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Trigger{}
	for _, tr := range triggers {
		byName[tr.Name] = tr
	}
	ten := event("Tickets.Reserved", "/tickets", "tickets", "10")
	for _, tc := range []struct {
		trigger string
		event   *cloudevents.Event
		want    bool
		err     string
	}{
		{"attributes", event("Tickets.Reserved", "/tickets", "correlationkey", "c"), true, ""},
		{"attributes", event("Tickets.Reserved", "/elsewhere", "correlationkey", "c"), true, ""},
		{"attributes", event("Tickets.Reserved", "/tickets"), false, ""}, // correlationkey absent
		{"attributes", event("Tickets.Released", "/tickets", "correlationkey", "c"), false, ""},
		{"new-filters", event("Queue.CustomerJoined", "/queue"), true, ""},
		{"new-filters", event("Queue.CustomerJoined", "https://q.example.com"), true, ""},
		{"new-filters", event("Queue.CustomerJoined", "/other"), false, ""},
		{"new-filters", event("Queue.CustomerJoined", "/queue", "subject", "vip"), false, ""},
		{"new-filters", event("Queue.CustomerJoined", "/queue", "subject", "regular"), true, ""},
		{"new-filters", event("Tickets.Reserved", "/queue"), false, ""},
		{"cesql", ten, true, ""},
		{"cesql", event("Tickets.Reserved", "/t", "tickets", "2"), false, ""},
		{"cesql", event("Queue.CustomerJoined", "/t", "tickets", "20"), false, ""},
		{"cesql", event("Tickets.Reserved", "/t"), false, "missing attribute"},
		{"cesql", event("Tickets.Reserved", "/t", "tickets", "ten"), false, "cast error"},
		{"everything", ten, true, ""},
		{"all-of", event("Tickets.Reserved", "/shop/tickets"), true, ""},
		{"all-of", event("Tickets.Reserved", "/shop/queue"), false, ""},
		{"all-of", event("Queue.CustomerJoined", "/shop/tickets"), false, ""},
		{"empty-filters", event("Tickets.Released", "/t"), true, ""},
		{"empty-filters", event("Tickets.Reserved", "/t"), false, ""},
	} {
		ok, err := byName[tc.trigger].Match(tc.event)
		if ok != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s on %+v: %v %v, want %v %q", tc.trigger, tc.event, ok, err, tc.want, tc.err)
		}
	}
	nf := byName["new-filters"]
	ram := time.Minute
	want := Delivery{Retry: 3, BackoffPolicy: Linear, BackoffDelay: 500 * time.Millisecond, BackoffMax: 2 * time.Second, Timeout: 10 * time.Second,
		RetryAfterMax: &ram, DeadLetterSink: "http://dead.example/letters", Format: cloudevents.Structured}
	if nf.Namespace != "shop" || nf.Ordering != Ordered || nf.Subscriber != "https://queue.example/events" ||
		*nf.Delivery.RetryAfterMax != ram {
		t.Fatalf("new-filters: %+v", nf)
	}
	nf.Delivery.RetryAfterMax = &ram
	if nf.Delivery != want {
		t.Fatalf("delivery %+v, want %+v", nf.Delivery, want)
	}
}

// A trigger's declaration survives JSON, as the REST API sends it.
func TestResourceJSON(t *testing.T) {
	triggers, err := LoadFile("testdata/filters.yaml", LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range triggers {
		b, err := json.Marshal(tr.Resource)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Load(bytes.NewReader(b), LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v\n%s", tr.Key(), err, b)
		}
		b2, _ := json.Marshal(again[0].Resource)
		if !bytes.Equal(b, b2) || again[0].Delivery.Format != tr.Delivery.Format || again[0].Ordering != tr.Ordering {
			t.Fatalf("%s: JSON round trip changed it:\n%s\n%s", tr.Key(), b, b2)
		}
		var res Resource
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(&res, LoadOptions{}); err != nil {
			t.Fatalf("Compile: %v", err)
		}
	}
}

func TestInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			triggers, err := Load(bytes.NewReader(src), LoadOptions{File: filepath.Base(file)})
			if err == nil {
				t.Fatalf("loaded %d triggers, want errors", len(triggers))
			}
			var one *Error
			if !errors.As(err, &one) {
				t.Fatalf("error %T is not an *Error", err)
			}
			got := err.Error() + "\n"
			wantFile := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestResolveRef(t *testing.T) {
	src, err := os.ReadFile("testdata/invalid/subscriber-ref.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(ref Ref, ns string) (string, error) {
		if ref.Kind != "Service" || ref.Name != "tickets" || ref.Namespace != "default" {
			return "", errors.New("no such service")
		}
		return "http://tickets.default.svc/", nil
	}
	triggers, err := Load(bytes.NewReader(src), LoadOptions{ResolveRef: resolve})
	if err != nil {
		t.Fatal(err)
	}
	if triggers[0].Subscriber != "http://tickets.default.svc/" {
		t.Fatalf("subscriber %q", triggers[0].Subscriber)
	}
	// A uri beside a ref is relative to it.
	src = append(src, "    uri: /message\n"...)
	triggers, err = Load(bytes.NewReader(src), LoadOptions{ResolveRef: resolve})
	if err != nil || triggers[0].Subscriber != "http://tickets.default.svc/message" {
		t.Fatalf("relative uri: %v %+v", err, triggers)
	}
}

func TestEmptyDocuments(t *testing.T) {
	src := "---\n# only a comment\n---\n" + string(must(os.ReadFile("testdata/router-triggers.yaml"))) + "\n---\n"
	triggers, err := Load(strings.NewReader(src), LoadOptions{})
	if err != nil || len(triggers) != 6 {
		t.Fatalf("%d triggers: %v", len(triggers), err)
	}
	if triggers, err := Load(strings.NewReader(""), LoadOptions{}); err != nil || len(triggers) != 0 {
		t.Fatalf("empty stream: %v %v", triggers, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPartialDeliveryHasNoRetries: as in Knative, a trigger's delivery
// replaces the broker's for the retries, so one that gives a dead-letter
// sink and no retry has none; its backoff is still the broker's, and a
// trigger without a delivery keeps the broker's whole.
func TestPartialDeliveryHasNoRetries(t *testing.T) {
	doc := func(delivery string) string {
		return "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: t\nspec:\n  broker: default\n  subscriber:\n    uri: http://s.example/\n" + delivery
	}
	for _, tc := range []struct {
		name, delivery string
		want           Delivery
	}{
		{"none", "", DefaultDelivery()},
		{"a sink only", "  delivery:\n    deadLetterSink:\n      uri: http://dead.example/\n",
			Delivery{BackoffPolicy: Exponential, BackoffDelay: 200 * time.Millisecond, DeadLetterSink: "http://dead.example/", Format: cloudevents.Binary}},
		{"a timeout only", "  delivery:\n    timeout: PT5S\n",
			Delivery{BackoffPolicy: Exponential, BackoffDelay: 200 * time.Millisecond, Timeout: 5 * time.Second, Format: cloudevents.Binary}},
		{"retries without a backoff", "  delivery:\n    retry: 2\n",
			Delivery{Retry: 2, BackoffPolicy: Exponential, BackoffDelay: 200 * time.Millisecond, Format: cloudevents.Binary}},
	} {
		triggers, err := Load(strings.NewReader(doc(tc.delivery)), LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := triggers[0].Delivery; got != tc.want {
			t.Errorf("%s: delivery %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestLoadList: a Kubernetes List of Triggers, as kubectl get -o yaml and
// GET /v1/triggers write it (with their status and server-set metadata),
// loads as its items.
func TestLoadList(t *testing.T) {
	list := `{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{"name":"a","namespace":"shop","uid":"u-1","resourceVersion":"3","generation":2},
  "spec":{"broker":"default","subscriber":{"uri":"http://a.example/"}},"status":{"conditions":[{"type":"Ready","status":"True"}]}},
 {"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{"name":"b"},
  "spec":{"broker":"default","filter":{"attributes":{"type":"x"}},"subscriber":{"uri":"http://b.example/"}}}]}`
	triggers, err := Load(strings.NewReader(list), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(triggers) != 2 || triggers[0].Key() != "shop/a" || triggers[1].Key() != "default/b" || triggers[1].Subscriber != "http://b.example/" {
		t.Fatalf("loaded %d triggers: %+v", len(triggers), triggers)
	}
	bad := strings.Replace(list, `"uri":"http://b.example/"`, `"uri":"b.example"`, 1)
	if _, err := Load(strings.NewReader(bad), LoadOptions{File: "list.json"}); err == nil || !strings.Contains(err.Error(), "spec.subscriber.uri") {
		t.Fatalf("a bad item: %v, want its field named", err)
	}
}
