package broker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/engine"
	"eddy/record"
	"eddy/storage"
)

func TestIngressTakesEveryContentMode(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	binary := func(path string) (int, string) {
		return env.do("POST", path, "application/json", []byte(`{"x":1}`),
			"ce-specversion", "1.0", "ce-id", "b-1", "ce-source", "/shop", "ce-type", "order.placed", "ce-orderid", "o%201")
	}
	if code, body := binary("/v1/events"); code != http.StatusAccepted {
		t.Fatalf("binary: %d %s", code, body)
	}
	s := event("order.placed", "s-1")
	if code, body := env.do("POST", "/default/default", cloudevents.MediaTypeJSON, cloudevents.AppendJSON(nil, &s)); code != http.StatusAccepted {
		t.Fatalf("structured, broker-ingress path: %d %s", code, body)
	}
	env.send(event("order.placed", "batch-1"), event("order.paid", "batch-2"), event("order.placed", "batch-3"))
	if code, body := env.do("POST", "/v1/events", cloudevents.MediaTypeJSONBatch, []byte("[]")); code != http.StatusAccepted {
		t.Fatalf("empty batch: %d %s", code, body)
	}
	got := map[string]cloudevents.Event{}
	for _, e := range env.loggedEvents() {
		got[e.ID] = e
	}
	for _, id := range []string{"b-1", "s-1", "batch-1", "batch-2", "batch-3"} {
		if _, ok := got[id]; !ok {
			t.Errorf("event %s is not on the log (have %d events)", id, len(got))
		}
	}
	b1 := got["b-1"]
	if v, _ := b1.Extension("orderid"); v.Text != "o 1" {
		t.Errorf("binary-mode extension decoded to %q, want the percent-decoded %q", v.Text, "o 1")
	}
	if string(got["b-1"].Data) != `{"x":1}` {
		t.Errorf("binary-mode data %q", got["b-1"].Data)
	}
}

func TestIngressRefusesWhatIsNotAnEvent(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	valid := []string{"ce-specversion", "1.0", "ce-id", "1", "ce-source", "/s", "ce-type", "t"}
	with := func(h ...string) []string {
		out := append([]string(nil), valid...)
		for i := 0; i+1 < len(h); i += 2 {
			found := false
			for j := 0; j+1 < len(out); j += 2 {
				if out[j] == h[i] {
					out[j+1], found = h[i+1], true
				}
			}
			if !found {
				out = append(out, h[i], h[i+1])
			}
		}
		return out
	}
	big := strings.Repeat("x", int(DefaultMaxBodyBytes)+1)
	cases := []struct {
		name, method, path, ct, body string
		header                       []string
		status                       int
		says                         string
	}{
		{"GET", "GET", "/v1/events", "", "", nil, http.StatusMethodNotAllowed, "POST"},
		{"PUT on broker path", "PUT", "/default/default", "", "", nil, http.StatusMethodNotAllowed, "POST"},
		{"no id", "POST", "/v1/events", "text/plain", "x", with("ce-id", ""), http.StatusBadRequest, `"id"`},
		{"bad time", "POST", "/v1/events", "text/plain", "x", with("ce-time", "yesterday"), http.StatusBadRequest, `"time"`},
		{"bad source", "POST", "/v1/events", "text/plain", "x", with("ce-source", "%zz"), http.StatusBadRequest, `"source"`},
		{"bad extension name", "POST", "/v1/events", "text/plain", "x", with("ce-Bad_Name", "v"), http.StatusBadRequest, "bad_name"},
		{"wrong specversion", "POST", "/v1/events", "text/plain", "x", with("ce-specversion", "0.3"), http.StatusBadRequest, "specversion"},
		{"broken JSON", "POST", "/v1/events", cloudevents.MediaTypeJSON, `{"id":`, nil, http.StatusBadRequest, ""},
		{"bad batch element", "POST", "/v1/events", cloudevents.MediaTypeJSONBatch, `[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"1.0","id":"2","source":"/s"}]`, nil, http.StatusBadRequest, "event 1 of the batch"},
		{"too large", "POST", "/v1/events", "text/plain", big, valid, http.StatusRequestEntityTooLarge, "larger"},
		{"JSON data that is no document", "POST", "/v1/events", "application/json", `{"a":`, valid, http.StatusBadRequest, `"data": is declared application/json but is not valid JSON at byte 5: unexpected end, expected a value`},
		{"JSON data that is no document, an array", "POST", "/v1/events", "application/json", `[1,`, valid, http.StatusBadRequest, `"data": is declared application/json but is not valid JSON at byte 3: unexpected end, expected a value`},
		{"JSON data that is no document, a scalar", "POST", "/v1/events", "application/json", `tru`, valid, http.StatusBadRequest, `"data": is declared application/json but is not valid JSON at byte 0: unexpected 't'`},
		{"JSON data that is no document, structured", "POST", "/v1/events", cloudevents.MediaTypeJSON,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data_base64":"` + base64.StdEncoding.EncodeToString([]byte("{not json")) + `"}`,
			nil, http.StatusBadRequest, `"data": is declared application/json but is not valid JSON at byte 1: expected a member name`},
		{"JSON data with more after its value", "POST", "/v1/events", "application/json; charset=utf-8", "{\"a\":1,\n\"b\":2} x", valid, http.StatusBadRequest,
			`"data": is declared application/json; charset=utf-8 but is not valid JSON at byte 15: unexpected 'x' after the value`},
		{"JSON data that is no document, in a batch", "POST", "/v1/events", cloudevents.MediaTypeJSONBatch,
			`[{"specversion":"1.0","id":"0","source":"/s","type":"t"},{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"text/json","data_base64":"` + base64.StdEncoding.EncodeToString([]byte(`{"a":tru}`)) + `"}]`,
			nil, http.StatusBadRequest, `event 1 of the batch: attribute "data": is declared text/json but is not valid JSON at byte 5: unexpected 't'`},
		// json.Valid takes a string of any bytes; JSON is UTF-8.
		{"JSON data that is not UTF-8", "POST", "/v1/events", "application/json", "{\"a\":\"caf\xe9\"}", valid, http.StatusBadRequest,
			`"data": is declared application/json but is not valid JSON at byte 9: invalid UTF-8`},
		{"JSON data that is not UTF-8, structured", "POST", "/v1/events", cloudevents.MediaTypeJSON,
			`{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data_base64":"` + base64.StdEncoding.EncodeToString([]byte("[\"\xff\"]")) + `"}`,
			nil, http.StatusBadRequest, `"data": is declared application/json but is not valid JSON at byte 2: invalid UTF-8`},
		{"JSON data that is not UTF-8, in a batch", "POST", "/v1/events", cloudevents.MediaTypeJSONBatch,
			`[{"specversion":"1.0","id":"0","source":"/s","type":"t"},{"specversion":"1.0","id":"1","source":"/s","type":"t","datacontenttype":"application/json","data_base64":"` + base64.StdEncoding.EncodeToString([]byte("{\"a\":\"\xc0\xa0\"}")) + `"}]`,
			nil, http.StatusBadRequest, `event 1 of the batch: attribute "data": is declared application/json but is not valid JSON at byte 6: invalid UTF-8`},
		{"gzip body, binary", "POST", "/v1/events", "application/json", "\x1f\x8b", with("Content-Encoding", "gzip"), http.StatusUnsupportedMediaType, "Content-Encoding"},
		{"gzip body, structured", "POST", "/v1/events", cloudevents.MediaTypeJSON, "\x1f\x8b", []string{"Content-Encoding", "identity, gzip"}, http.StatusUnsupportedMediaType, `"gzip"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := env.do(c.method, c.path, c.ct, []byte(c.body), c.header...)
			if code != c.status {
				t.Fatalf("%d %s, want %d", code, body, c.status)
			}
			if !strings.Contains(body, c.says) {
				t.Errorf("answer %q does not say %q", body, c.says)
			}
		})
	}
	if n := len(env.loggedEvents()); n != 0 {
		t.Fatalf("%d refused events reached the log", n)
	}
	if code, _ := env.do("GET", "/v1/unknown", "", nil); code != http.StatusNotFound {
		t.Errorf("GET /v1/unknown: %d, want 404 (v1 is not a namespace)", code)
	}
}

func TestIngressTakes64KBEvents(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	e := event("big", "big-1")
	e.DataContentType = "text/plain"
	e.Data = []byte(strings.Repeat("é", 40<<10)) // 80 KB
	env.send(e)
	logged := env.loggedEvents()
	if len(logged) != 1 || string(logged[0].Data) != string(e.Data) {
		t.Fatalf("the 80 KB event did not reach the log intact")
	}
}

func TestIngressAcceptsADuplicateOnce(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	e := event("order.placed", "dup-1")
	env.send(e)
	env.send(e) // a redelivery: accepted again
	env.send(e, event("order.placed", "dup-2"))
	if n := env.loggedWithID("dup-1"); n != 1 {
		t.Fatalf("event dup-1 is %d times on the log, want once", n)
	}
	res, err := env.b.Publish(t.Context(), e)
	if err != nil || !res[0].Duplicate {
		t.Fatalf("Publish of a redelivery: %+v %v, want a duplicate", res, err)
	}
}

func TestFallbackServesWhatTheBrokerDoesNot(t *testing.T) {
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ns1/br1" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusTeapot)
		w.Write([]byte("fallback " + r.Method + " " + r.URL.Path))
	})
	env := newEnv(t, WithJobWorker(false, 1), WithFallback(other))
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/v1/messages", http.StatusTeapot},
		{"GET", "/v1/process-instances/1", http.StatusTeapot},
		{"GET", "/console/index.html", http.StatusTeapot},
		{"GET", "/", http.StatusTeapot},
		{"GET", "/v1/events", http.StatusMethodNotAllowed},
		{"POST", "/default/default", http.StatusBadRequest}, // ingress: no event in the body
		{"GET", "/console/app.js", http.StatusTeapot},       // two segments the fallback serves
		// Two segments the fallback does not serve: a broker's ingress
		// path, for POST.
		{"GET", "/ns1/br1", http.StatusMethodNotAllowed},
	} {
		if code, body := env.do(c.method, c.path, "text/plain", []byte("x")); code != c.status {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.status)
		}
	}
}

// TestIngressBatchRefusedIsNotPublished: a batch whose second event carries
// data declared JSON that is not is refused as a whole, before its first
// event is written; undeclared data that is not JSON is bytes of unknown
// type and is taken as it is.
func TestIngressBatchRefusedIsNotPublished(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	batch := `[{"specversion":"1.0","id":"g1","source":"/s","type":"t","data":{"a":1}},` +
		`{"specversion":"1.0","id":"g2","source":"/s","type":"t","datacontenttype":"application/json","data_base64":"` +
		base64.StdEncoding.EncodeToString([]byte("{not json")) + `"}]`
	code, body := env.do("POST", "/v1/events", cloudevents.MediaTypeJSONBatch, []byte(batch))
	if code != http.StatusBadRequest || !strings.Contains(body, "event 1 of the batch") || !strings.Contains(body, `"data"`) {
		t.Fatalf("batch with broken JSON data: %d %q, want 400 naming event 1's data", code, body)
	}
	for _, l := range env.loggedEvents() {
		t.Errorf("event %s of a refused batch is on the log", l.ID)
	}
	res, err := env.b.Publish(t.Context(), event("t", "g1"))
	if err != nil || res[0].Duplicate {
		t.Fatalf("publishing g1 after its batch was refused: %+v %v, want a first acceptance", res, err)
	}

	// Binary mode without a Content-Type: opaque bytes, accepted.
	code, body = env.do("POST", "/v1/events", "", []byte("{x"),
		"Ce-Specversion", "1.0", "Ce-Id", "raw-1", "Ce-Source", "/s", "Ce-Type", "t")
	if code != http.StatusAccepted {
		t.Fatalf("binary event with undeclared data {x: %d %q, want 202", code, body)
	}
	// Declared JSON that is not: refused with the reason.
	code, body = env.do("POST", "/v1/events", "application/json", []byte("{x"),
		"Ce-Specversion", "1.0", "Ce-Id", "raw-2", "Ce-Source", "/s", "Ce-Type", "t")
	if code != http.StatusBadRequest {
		t.Fatalf("binary event with broken JSON data: %d %q, want 400", code, body)
	}
}

// TestIngressAnswersTheWebhookHandshake: the CloudEvents webhook
// specification's validation request (OPTIONS with WebHook-Request-Origin)
// is granted on both ingress paths, and a 405 lists OPTIONS as allowed.
func TestIngressAnswersTheWebhookHandshake(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	for _, path := range []string{"/v1/events", "/default/default"} {
		req, err := http.NewRequest(http.MethodOptions, env.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("WebHook-Request-Origin", "emitter.example.com")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != http.StatusOK || h.Get("WebHook-Allowed-Origin") != "emitter.example.com" ||
			h.Get("WebHook-Allowed-Rate") != "*" || !strings.Contains(h.Get("Allow"), "POST") {
			t.Errorf("OPTIONS %s: %d %v, want 200 granting emitter.example.com", path, resp.StatusCode, h)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, env.srv.URL+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("GET /v1/events: %d, Allow %q; want 405 with POST, OPTIONS", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// Allow belongs to a 405 (and the handshake), not to an acceptance.
	resp, err = http.Post(env.srv.URL+"/v1/events", cloudevents.MediaTypeJSONBatch, strings.NewReader(`[{"specversion":"1.0","id":"a1","source":"/s","type":"t"},{"specversion":"1.0","id":"a2","source":"/s","type":"t"}]`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Allow") != "" {
		t.Errorf("a batch: %d, Allow %q; want 202 with no Allow", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestBodyLimitTakesA64KBEventInAnyMode: the smallest body limit allowed
// still takes a 64 KB event in structured mode, its data in base64, and a
// smaller limit is refused with the reason.
func TestBodyLimitTakesA64KBEventInAnyMode(t *testing.T) {
	if _, err := buildOptions([]Opt{WithMaxBodyBytes(64 << 10)}); err == nil || !strings.Contains(err.Error(), "64 KB event") {
		t.Fatalf("a 64 KiB body limit: %v, want it refused with the reason", err)
	}
	env := newEnv(t, WithJobWorker(false, 1), WithMaxBodyBytes(minMaxBody))
	e := event("big", "big-base64")
	e.DataContentType = "application/octet-stream"
	e.Data = []byte(strings.Repeat("\x00\xff", 31<<10)) // 62 KB of bytes, 64 KB with the attributes
	// Sent structured: the data as data_base64.
	env.send(e)
	if logged := env.loggedEvents(); len(logged) != 1 || string(logged[0].Data) != string(e.Data) {
		t.Fatalf("the 64 KB event in structured mode did not reach the log intact")
	}
}

// TestEventDataThatIsNoObjectBecomesVariableData: an event whose data is
// not a JSON object still hands its data to the instance it correlates to,
// as the variable "data" (as an answer to a waiting cloudevents job does),
// rather than dropping it.
func TestEventDataThatIsNoObjectBecomesVariableData(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.deploy("order-events.bpmn")
	cases := []struct{ order, ct, data, want string }{
		{"o-array", "application/json", `[1,2,3]`, `[1,2,3]`},
		{"o-number", "application/json", `42`, `42`},
		{"o-text", "text/plain", "paid in full", `"paid in full"`},
		{"o-bytes", "application/octet-stream", "\x00\x01", `"AAE="`},
		// Text that is not UTF-8 is bytes: as a string its bytes would
		// be replaced by U+FFFD and lost.
		{"o-latin1", "text/plain; charset=iso-8859-1", "caf\xe9", `"Y2Fm6Q=="`},
		{"o-utf8", "text/plain; charset=utf-8", "caf\u00e9", `"café"`},
	}
	for _, c := range cases {
		created := event("order.created", "created-"+c.order)
		created.Data = []byte(`{"orderId":"` + c.order + `"}`)
		env.send(created)
		code, body := env.do("POST", "/v1/events", c.ct, []byte(c.data),
			"Ce-Specversion", "1.0", "Ce-Id", "paid-"+c.order, "Ce-Source", "/s", "Ce-Type", "order.paid", "Ce-Correlationkey", c.order)
		if code != http.StatusAccepted {
			t.Fatalf("order.paid for %s: %d %q, want 202", c.order, code, body)
		}
	}
	got := map[string]string{}
	eventually(t, "every order's work job", func() bool {
		jobs, err := env.eng.ActivateJobs(t.Context(), engine.ActivateRequest{Type: "manual-work", Worker: "test", Timeout: time.Minute, MaxJobs: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			var vars map[string]json.RawMessage
			if err := json.Unmarshal(j.Value.Variables, &vars); err != nil {
				t.Fatalf("job variables %s: %v", j.Value.Variables, err)
			}
			var order string
			json.Unmarshal(vars["orderId"], &order)
			got[order] = string(vars["data"])
		}
		return len(got) == len(cases)
	})
	for _, c := range cases {
		if got[c.order] != c.want {
			t.Errorf("%s (%s %q): variable data = %s, want %s", c.order, c.ct, c.data, got[c.order], c.want)
		}
	}
}

// failingPublishes is an engine whose every publication fails with err.
type failingPublishes struct {
	Engine
	err error
}

func (f failingPublishes) PublishEvent(context.Context, engine.EventRequest) (record.Record, error) {
	return record.Record{}, f.err
}

func (f failingPublishes) PublishEventAsync(ctx context.Context, req engine.EventRequest, done func(error)) {
	_, err := f.PublishEvent(ctx, req)
	done(err)
}

// TestIngressUnavailableSaysWhenToComeBack: an event the node cannot put on
// the log because no reachable node owns its partition, or whose owner went
// away before it answered (a failover; before, a 500), is a 503 with a
// Retry-After, so that a sender backs off and sends again once another
// node has taken the partition over; where the event may be on the log
// already, the answer says that sending it again is safe.
func TestIngressUnavailableSaysWhenToComeBack(t *testing.T) {
	for _, c := range []struct {
		err  error
		says string
	}{
		{fmt.Errorf("%w: partition 1: its owner cannot be reached", engine.ErrNoPartition), "cannot be reached"},
		{fmt.Errorf("%w: partition 0: the answer of its owner at http://127.0.0.1:1 was lost: EOF", storage.ErrOutcomeUnknown), "they may be on the log; send them again"},
	} {
		env := newEnvThrough(t, func(e Engine) Engine { return failingPublishes{e, c.err} }, WithJobWorker(false, 1))
		for _, ct := range []string{"application/json", cloudevents.MediaTypeJSONBatch} {
			body := []byte(`{"a":1}`)
			header := []string{"Ce-Specversion", "1.0", "Ce-Id", "u-1", "Ce-Source", "/s", "Ce-Type", "t"}
			if ct == cloudevents.MediaTypeJSONBatch {
				body, header = []byte(`[{"specversion":"1.0","id":"u-2","source":"/s","type":"t"}]`), nil
			}
			resp := env.request("POST", "/v1/events", ct, body, header...)
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != ingressRetryAfter || !strings.Contains(string(msg), c.says) {
				t.Errorf("%v, %s: %d, Retry-After %q, %q; want 503 with Retry-After %s saying %q", c.err, ct, resp.StatusCode, resp.Header.Get("Retry-After"), msg, ingressRetryAfter, c.says)
			}
		}
	}
}

// TestIngressBatchKeepsOrderPerKey: the events of a batch that share a
// partition key (or a correlation key) reach the log in the batch's order,
// as the events of one aggregate must; events of other keys in the same
// batch still go to the engine together.
func TestIngressBatchKeepsOrderPerKey(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	var batch, published []cloudevents.Event
	for i := range 100 {
		batch = append(batch,
			event("order.changed", fmt.Sprintf("a-%03d", i), "partitionkey", "order-a"),
			event("order.changed", fmt.Sprintf("b-%03d", i), "partitionkey", "order-b"),
			event("order.changed", fmt.Sprintf("c-%03d", i), CorrelationKeyExtension, "order-c"))
		// Broker.Publish, which answers each event's key, too.
		published = append(published,
			event("order.changed", fmt.Sprintf("d-%03d", i), "partitionkey", "order-d"),
			event("order.changed", fmt.Sprintf("e-%03d", i), CorrelationKeyExtension, "order-e"))
	}
	env.send(batch...)
	if _, err := env.b.Publish(t.Context(), published...); err != nil {
		t.Fatal(err)
	}
	batch = append(batch, published...)
	last := map[byte]string{}
	n := 0
	for _, e := range env.loggedEvents() {
		k := e.ID[0]
		if e.ID <= last[k] {
			t.Fatalf("event %s is on the log after %s, though the batch sent it before", e.ID, last[k])
		}
		last[k] = e.ID
		n++
	}
	if n != len(batch) {
		t.Fatalf("%d events on the log, want %d", n, len(batch))
	}
}

// TestIngressTakesDeclaredJSONWithoutData: an event that declares its data
// JSON (datacontenttype application/json) but carries none is valid
// (CloudEvents' data is optional), alone or in a batch; a batch refused it
// with 400 'is declared application/json but is not valid JSON', while the
// same event alone was taken.
func TestIngressTakesDeclaredJSONWithoutData(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	noData := func(id string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"/s","type":"t","datacontenttype":"application/json"}`
	}
	cases := []struct {
		name, ct, body string
		header         []string
		ids            []string
	}{
		{"binary", "application/json", "", []string{"Ce-Specversion", "1.0", "Ce-Id", "nd-binary", "Ce-Source", "/s", "Ce-Type", "t"}, []string{"nd-binary"}},
		{"structured", cloudevents.MediaTypeJSON, noData("nd-structured"), nil, []string{"nd-structured"}},
		{"batch", cloudevents.MediaTypeJSONBatch, "[" + noData("nd-batch-1") + "," + noData("nd-batch-2") + "]", nil, []string{"nd-batch-1", "nd-batch-2"}},
		{"batch with an event with data", cloudevents.MediaTypeJSONBatch,
			"[" + noData("nd-mixed-1") + `,{"specversion":"1.0","id":"nd-mixed-2","source":"/s","type":"t","data":{"a":1}}]`, nil, []string{"nd-mixed-1", "nd-mixed-2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if code, body := env.do("POST", "/v1/events", c.ct, []byte(c.body), c.header...); code != http.StatusAccepted {
				t.Fatalf("%d %q, want 202", code, body)
			}
		})
	}
	logged := map[string]bool{}
	for _, e := range env.loggedEvents() {
		logged[e.ID] = true
	}
	for _, c := range cases {
		for _, id := range c.ids {
			if !logged[id] {
				t.Errorf("%s: event %s is not on the log", c.name, id)
			}
		}
	}
}
