package broker

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"eddy/processor"
)

func TestTriggerCRUDSurvivesRestart(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	sub := newSubscriber(t, nil)
	yaml := triggerYAML("orders", "order.placed", sub.URL, "")
	if code, body := env.do("PUT", "/v1/triggers/default/orders", "application/yaml", []byte(yaml)); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	// The same trigger in JSON is an update that changes nothing.
	js := `{"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{"name":"orders","namespace":"default"},` +
		`"spec":{"broker":"default","filter":{"attributes":{"type":"order.placed"}},"subscriber":{"uri":"` + sub.URL + `"}}}`
	if code, body := env.do("PUT", "/v1/triggers/default/orders", "application/json", []byte(js)); code != http.StatusOK {
		t.Fatalf("update: %d %s", code, body)
	}
	type answer struct {
		Metadata struct {
			Name, UID, CreationTimestamp string
			Generation                   int64
		}
		Spec   struct{ Subscriber struct{ URI string } }
		Status TriggerStatus
	}
	get := func() answer {
		t.Helper()
		code, body := env.do("GET", "/v1/triggers/default/orders", "", nil)
		var got answer
		if code != http.StatusOK {
			t.Fatalf("get: %d %s", code, body)
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := get()
	md := got.Metadata
	if md.Name != "orders" || md.UID == "" || md.Generation != 1 || md.CreationTimestamp == "" || got.Spec.Subscriber.URI != sub.URL ||
		got.Status.Processor != "trigger/default/orders/"+md.UID || !got.Status.Running || got.Status.ObservedGeneration != 1 {
		t.Fatalf("get answered %+v: want generation 1 (an update that changes nothing is none) and the processor named by the uid", got)
	}
	if c := got.Status.Conditions; len(c) != 1 || c[0].Type != "Ready" || c[0].Status != "True" || got.Status.SubscriberURI != sub.URL {
		t.Fatalf("status conditions %+v, subscriberUri %q: want Ready True and the subscriber", c, got.Status.SubscriberURI)
	}
	// A change keeps the uid, and so the processor; as in Kubernetes, the
	// generation counts changes of the spec, not of the labels.
	labelled := strings.Replace(js, `"namespace":"default"}`, `"namespace":"default","labels":{"team":"shop"}}`, 1)
	retried := strings.Replace(labelled, `"subscriber"`, `"delivery":{"retry":1},"subscriber"`, 1)
	for _, c := range []struct {
		doc        string
		generation int64
	}{{labelled, 1}, {retried, 2}} {
		if code, body := env.do("PUT", "/v1/triggers/default/orders", "application/json", []byte(c.doc)); code != http.StatusOK {
			t.Fatalf("update: %d %s", code, body)
		}
		if got := get(); got.Metadata.UID != md.UID || got.Metadata.Generation != c.generation || got.Metadata.CreationTimestamp != md.CreationTimestamp ||
			got.Status.ObservedGeneration != c.generation || got.Status.Processor != "trigger/default/orders/"+md.UID {
			t.Fatalf("after a change: %+v, want uid %s at generation %d", got, md.UID, c.generation)
		}
	}

	env.restart()
	env.send(event("order.placed", "after-restart"))
	if r := sub.wait(t, 1); r[0].event.ID != "after-restart" {
		t.Fatalf("delivered %s", r[0].event.ID)
	}
	code, body := env.do("GET", "/v1/triggers", "", nil)
	if code != http.StatusOK || !strings.Contains(body, `"name":"orders"`) {
		t.Fatalf("list after restart: %d %s", code, body)
	}
	st, err := env.b.Triggers.Status(t.Context(), "default", "orders")
	if err != nil || len(st.Segments) != DefaultTriggerSegments {
		t.Fatalf("status %+v %v: want %d segments", st, err, DefaultTriggerSegments)
	}
	eventually(t, "the lag to reach zero", func() bool {
		st, _ := env.b.Triggers.Status(t.Context(), "default", "orders")
		return st.Lag == 0 && st.Deliveries.Delivered == 1
	})

	if code, body := env.do("DELETE", "/v1/triggers/default/orders", "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if code, _ := env.do("DELETE", "/v1/triggers/default/orders", "", nil); code != http.StatusNotFound {
		t.Fatalf("second delete: %d, want 404", code)
	}
	if segs, _ := processor.Inspect(t.Context(), env.store, processorName("default", "orders", md.UID)); len(segs) != 0 {
		t.Fatalf("the deleted trigger's processor keeps %d segments", len(segs))
	}
	env.restart()
	if code, _ := env.do("GET", "/v1/triggers/default/orders", "", nil); code != http.StatusNotFound {
		t.Fatalf("get after delete and restart: %d, want 404", code)
	}
	env.send(event("order.placed", "after-delete"))
	env.send(event("order.placed", "after-delete-2"))
	if n := sub.count(); n != 1 {
		t.Fatalf("a deleted trigger delivered: %d deliveries", n)
	}
}

func TestTriggerAPIRefusesBadTriggers(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	cases := map[string]struct{ path, body, says string }{
		"not YAML":          {"/v1/triggers/default/x", "a: [", "YAML"},
		"no subscriber":     {"/v1/triggers/default/x", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: x\nspec:\n  broker: default\n", "spec.subscriber"},
		"bad backoff":       {"/v1/triggers/default/x", triggerYAML("x", "", "http://s.example/", "  delivery:\n    backoffDelay: soon\n"), "backoffDelay"},
		"bad CESQL":         {"/v1/triggers/default/x", "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: x\nspec:\n  broker: default\n  filters:\n    - cesql: \"type = \"\n  subscriber:\n    uri: http://s.example/\n", "cesql"},
		"name differs":      {"/v1/triggers/default/y", triggerYAML("x", "", "http://s.example/", ""), "path names default/y"},
		"namespace differs": {"/v1/triggers/prod/x", triggerYAML("x", "", "http://s.example/", ""), "path names prod/x"},
		"two triggers":      {"/v1/triggers/default/x", triggerYAML("x", "", "http://s.example/", "") + "\n---\n" + triggerYAML("z", "", "http://s.example/", ""), "2 triggers"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, body := env.do("PUT", c.path, "application/yaml", []byte(c.body))
			if code != http.StatusBadRequest || !strings.Contains(body, c.says) {
				t.Fatalf("%d %s, want 400 saying %q", code, body, c.says)
			}
		})
	}
	if code, body := env.do("GET", "/v1/triggers", "", nil); code != http.StatusOK || strings.Contains(body, `"name"`) {
		t.Fatalf("refused triggers were stored: %s", body)
	}
}

// TestTriggerPutRefusesABadPath: a PUT whose path's namespace or name no
// trigger can have is a 400 that says the URL path segment is wrong,
// whatever the body says (before: "line 1: ... metadata.namespace" when
// the body named none, which sent one looking for the error in the body,
// or a mismatch between body and path when it named a good one).
func TestTriggerPutRefusesABadPath(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	noIdentity := "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nspec:\n  broker: default\n  subscriber:\n    uri: http://s.example/\n"
	const nsSays, nameSays = `the URL path's namespace segment (/v1/triggers/{namespace}/{name}): \"Bad_NS\" is not a Kubernetes namespace`,
		`the URL path's name segment (/v1/triggers/{namespace}/{name}): \"Bad_Name\" is not a Kubernetes name`
	for _, c := range []struct {
		path, body string
		says       []string
	}{
		{"/v1/triggers/Bad_NS/x", noIdentity, []string{nsSays}},
		{"/v1/triggers/Bad_NS/x", triggerYAML("x", "", "http://s.example/", ""), []string{nsSays}},
		{"/v1/triggers/default/Bad_Name", noIdentity, []string{nameSays}},
		{"/v1/triggers/default/Bad_Name", triggerYAML("x", "", "http://s.example/", ""), []string{nameSays}},
		{"/v1/triggers/Bad_NS/Bad_Name", noIdentity, []string{nsSays, nameSays}},
		{"/v1/triggers/" + strings.Repeat("a", 64) + "/x", noIdentity, []string{"at most 63"}},
	} {
		code, body := env.do("PUT", c.path, "application/yaml", []byte(c.body))
		ok := code == http.StatusBadRequest && strings.Contains(body, `"type":"urn:eddy:problem:invalid-argument"`) &&
			!strings.Contains(body, "line ") && !strings.Contains(body, "metadata.") && !strings.Contains(body, "the body is trigger")
		for _, says := range c.says {
			ok = ok && strings.Contains(body, says)
		}
		if !ok {
			t.Errorf("PUT %s: %d %s, want a 400 problem saying %q and nothing of the body", c.path, code, body, c.says)
		}
	}
	if code, body := env.do("GET", "/v1/triggers", "", nil); code != http.StatusOK || strings.Contains(body, `"name"`) {
		t.Fatalf("refused triggers were stored: %s", body)
	}
}

// TestTriggerBodyOverTheBound: a trigger body over 1 MiB, or a replay
// request over 4 KiB, is a 413 that says the bound, as openapi.json says
// (before: "http: request body too large", a 400 for a replay, or for a
// replay whose object came first, a replay made), and only such a body:
// one cut short is a 400 (before: a 413 as well).
func TestTriggerBodyOverTheBound(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.putTrigger("default", "x", triggerYAML("x", "", "http://s.example/", ""))
	big := []byte(triggerYAML("x", "", "http://s.example/", "") + "\n#" + strings.Repeat("x", maxTriggerBody))
	_, ops := loadBrokerOpenAPI(t)
	for _, c := range []struct {
		method, path, pattern string
		body                  []byte
		says                  string
	}{
		{"PUT", "/v1/triggers/default/x", "PUT /v1/triggers/{namespace}/{name}", big, "the trigger is larger than the trigger API takes: 1048576 bytes at most"},
		{"DELETE", "/v1/triggers/default/x", "DELETE /v1/triggers/{namespace}/{name}", big, "the delete options body is larger than the trigger API takes: 1048576 bytes at most"},
		{"POST", "/v1/triggers/default/x/replay", "POST /v1/triggers/{namespace}/{name}/replay", []byte(`{"from":"` + strings.Repeat("x", maxReplayBody) + `"}`),
			"the replay request is larger than the trigger API takes: 4096 bytes at most"},
		{"POST", "/v1/triggers/default/x/replay", "POST /v1/triggers/{namespace}/{name}/replay", []byte(`{"from":"head"}` + strings.Repeat(" ", maxReplayBody)),
			"the replay request is larger than the trigger API takes: 4096 bytes at most"},
	} {
		if code, body := env.do(c.method, c.path, "application/json", c.body); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, c.says) {
			t.Errorf("%s %s of %d bytes: %d %s, want 413 saying %q", c.method, c.path, len(c.body), code, body, c.says)
		}
		i := slices.IndexFunc(ops, func(op docOperation) bool { return op.pattern() == c.pattern })
		if i < 0 || !documentsStatus(ops[i].responses, http.StatusRequestEntityTooLarge) {
			t.Errorf("openapi.json does not document the 413 of %s", c.pattern)
		}
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "PUT /v1/triggers/default/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 1000\r\n\r\napiVersion: eventing")
	_ = conn.(*net.TCPConn).CloseWrite()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "reading the trigger") {
		t.Errorf("a PUT cut short: %s %s, want 400", resp.Status, b)
	}
}

// TestRouterTriggersAreBuiltIn loads the seed's router-triggers.yaml as it
// is: its subscriber is the Zeebe CloudEvents router, which the engine
// replaces, so the triggers run no processor and deliver nothing.
func TestRouterTriggersAreBuiltIn(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	data, err := os.ReadFile("testdata/router-triggers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.b.Triggers.Apply(t.Context(), data); err != nil {
		t.Fatal(err)
	}
	names := []string{"router-queue-join-trigger", "router-queue-abandon-trigger", "router-queue-exit-trigger",
		"router-tickets-reserved-trigger", "router-tickets-payment-requested-trigger", "router-tickets-payment-authorized-trigger"}
	for _, n := range names {
		st, err := env.b.Triggers.Status(t.Context(), "default", n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if !st.Builtin || st.Note == "" || st.Running || st.Processor != "" {
			t.Errorf("%s: status %+v, want built in with a note and no processor", n, st)
		}
		doc, _, _ := env.b.Triggers.storedTrigger(t.Context(), "default", n)
		id, _ := identityOf(doc)
		if segs, _ := processor.Inspect(t.Context(), env.store, processorName("default", n, id.UID)); id.UID == "" || len(segs) != 0 {
			t.Errorf("%s has a processor, or no uid (%q)", n, id.UID)
		}
	}
	code, body := env.do("GET", "/v1/triggers/default/router-queue-join-trigger", "", nil)
	if code != http.StatusOK || !strings.Contains(body, `"builtin":true`) {
		t.Fatalf("GET: %d %s", code, body)
	}
	env.restart()
	if st, err := env.b.Triggers.Status(t.Context(), "default", names[0]); err != nil || !st.Builtin {
		t.Fatalf("after a restart: %+v %v", st, err)
	}
}

func TestBuiltinSubscribers(t *testing.T) {
	cases := map[string]bool{
		"http://zeebe-cloud-events-router.default.svc.cluster.local/message": true,
		"http://zeebe-cloud-events-router:8080/":                             true,
		"https://ZEEBE-CLOUD-EVENTS-ROUTER.other/workflow":                   true,
		"http://zeebe-cloud-events-router-x.default/message":                 false,
		"http://tickets.default.svc.cluster.local/zeebe-cloud-events-router": false,
		"http://127.0.0.1:9/": false,
	}
	for uri, want := range cases {
		if got := isBuiltinSubscriber(uri, DefaultBuiltinHosts); got != want {
			t.Errorf("%s: %v, want %v", uri, got, want)
		}
	}
}

// TestTriggerPutTakesThePathsNamespace: a PUT whose trigger names no
// namespace puts it in the path's, as kubectl apply -n does.
func TestTriggerPutTakesThePathsNamespace(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	doc := "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: x\nspec:\n  broker: default\n  subscriber:\n    uri: http://s.example/\n"
	if code, body := env.do("PUT", "/v1/triggers/prod/x", "application/yaml", []byte(doc)); code != http.StatusCreated {
		t.Fatalf("PUT to prod without a namespace in the body: %d %s, want 201", code, body)
	}
	if code, body := env.do("GET", "/v1/triggers/prod/x", "", nil); code != http.StatusOK || !strings.Contains(body, `"namespace":"prod"`) {
		t.Fatalf("GET prod/x: %d %s, want the trigger in namespace prod", code, body)
	}
	// Nor a name, in YAML or JSON: the path's (before, "metadata.name:
	// required").
	for name, doc := range map[string]string{
		"y": "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nspec:\n  broker: default\n  subscriber:\n    uri: http://s.example/\n",
		"z": `{"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{},"spec":{"broker":"default","subscriber":{"uri":"http://s.example/"}}}`,
	} {
		if code, body := env.do("PUT", "/v1/triggers/prod/"+name, "application/yaml", []byte(doc)); code != http.StatusCreated {
			t.Fatalf("PUT prod/%s without a name in the body: %d %s, want 201", name, code, body)
		}
		if code, body := env.do("GET", "/v1/triggers/prod/"+name, "", nil); code != http.StatusOK || !strings.Contains(body, `"name":"`+name+`"`) {
			t.Fatalf("GET prod/%s: %d %s, want the trigger named %[1]s", name, code, body)
		}
	}
}

// TestTriggerPutHonoursResourceVersion: a PUT that names the
// resourceVersion it read changes the trigger only if nobody changed it
// since (409 otherwise, saying so), as Kubernetes' optimistic concurrency;
// without one a PUT replaces the trigger whatever it is; the triggers
// file applies whatever its triggers name.
func TestTriggerPutHonoursResourceVersion(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	doc := func(label, rv string) string {
		y := "apiVersion: eventing.knative.dev/v1\nkind: Trigger\nmetadata:\n  name: x\n  labels:\n    v: \"" + label + "\"\n"
		if rv != "" {
			y += "  resourceVersion: \"" + rv + "\"\n"
		}
		return y + "spec:\n  broker: default\n  subscriber:\n    uri: http://s.example/\n"
	}
	version := func() string {
		t.Helper()
		code, body := env.do("GET", "/v1/triggers/default/x", "", nil)
		var got struct {
			Metadata struct{ ResourceVersion string }
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != http.StatusOK || got.Metadata.ResourceVersion == "" {
			t.Fatalf("GET: %d %s (%v): want a resourceVersion", code, body, err)
		}
		return got.Metadata.ResourceVersion
	}
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(doc("1", "7"))); code != http.StatusNotFound || !strings.Contains(body, "no such trigger: default/x;") {
		t.Fatalf("creating with a resourceVersion: %d %s, want 404 as Kubernetes answers an update of a missing object", code, body)
	}
	env.putTrigger("default", "x", doc("1", ""))
	v1 := version()
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(doc("2", v1))); code != http.StatusOK {
		t.Fatalf("a change from the version read: %d %s", code, body)
	}
	v2 := version()
	if v2 == v1 {
		t.Fatal("a change kept the resourceVersion")
	}
	code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(doc("3", v1)))
	if code != http.StatusConflict || !strings.Contains(body, v2) || !strings.Contains(body, v1) {
		t.Fatalf("a change from a stale version: %d %s, want 409 naming both versions", code, body)
	}
	otherUID := strings.Replace(doc("3", ""), "  labels:", "  uid: \"0000\"\n  labels:", 1)
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(otherUID)); code != http.StatusConflict || !strings.Contains(body, "uid") {
		t.Fatalf("a change to another creation (uid): %d %s, want 409", code, body)
	}
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(doc("2", v2))); code != http.StatusOK || version() != v2 {
		t.Fatalf("a PUT that changes nothing: %d %s, want 200 and the version kept", code, body)
	}
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/yaml", []byte(doc("4", ""))); code != http.StatusOK || version() == v2 {
		t.Fatalf("a PUT without a version: %d %s, want it to replace the trigger", code, body)
	}
	if err := env.b.Triggers.Apply(t.Context(), []byte(doc("5", v1))); err != nil {
		t.Fatalf("applying a file whose trigger names a stale version: %v", err)
	}
	if _, body := env.do("GET", "/v1/triggers/default/x", "", nil); !strings.Contains(body, `"v":"5"`) {
		t.Fatalf("after the apply: %s", body)
	}
	// Applying the same file again, as a restart does, changes nothing.
	v5 := version()
	env.restart()
	if err := env.b.Triggers.Apply(t.Context(), []byte(doc("5", ""))); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v5 {
		t.Fatalf("applying an unchanged trigger again moved its resourceVersion from %s to %s", v5, v)
	}
}

// TestTriggerDeleteHonoursPreconditions: a DELETE whose body is
// Kubernetes' DeleteOptions removes the trigger only if it still has the
// uid and resourceVersion the preconditions name.
func TestTriggerDeleteHonoursPreconditions(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.putTrigger("default", "x", triggerYAML("x", "", "http://s.example/", ""))
	_, body := env.do("GET", "/v1/triggers/default/x", "", nil)
	var got struct {
		Metadata struct{ UID, ResourceVersion string }
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	del := func(options string) (int, string) {
		return env.do("DELETE", "/v1/triggers/default/x", "application/json", []byte(options))
	}
	cases := []struct {
		options string
		code    int
		says    string
	}{
		{`{"preconditions":{"resourceVersion":"1"}}`, http.StatusConflict, "resourceVersion"},
		{`{"preconditions":{"uid":"0000"}}`, http.StatusConflict, "uid"},
		{`{"preconditions":`, http.StatusBadRequest, "delete options"},
		{`{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","preconditions":{"uid":"` + got.Metadata.UID +
			`","resourceVersion":"` + got.Metadata.ResourceVersion + `"}}`, http.StatusNoContent, ""},
	}
	for _, c := range cases {
		if code, body := del(c.options); code != c.code || !strings.Contains(body, c.says) {
			t.Fatalf("DELETE with %s: %d %s, want %d saying %q", c.options, code, body, c.code, c.says)
		}
	}
	if code, _ := env.do("GET", "/v1/triggers/default/x", "", nil); code != http.StatusNotFound {
		t.Fatalf("GET after the delete: %d", code)
	}
}

// TestTriggerBodyIsOneJSONValue: a replay request or delete options with
// anything after the JSON value is a 400 that says where the rest starts,
// and nothing is done (before: a replay made from the first value, or for
// delete options ending in a stray } or ], the trigger deleted).
func TestTriggerBodyIsOneJSONValue(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.putTrigger("default", "x", triggerYAML("x", "", "http://s.example/", ""))
	for _, c := range []struct {
		method, path, body, says string
	}{
		{"POST", "/v1/triggers/default/x/replay", `{"from":"tail"} x`, `line 1 (byte 17): more after the JSON value: x`},
		{"POST", "/v1/triggers/default/x/replay", `{"from":"tail"}{"from":"head"}`, `line 1 (byte 16): more after the JSON value: {\"from\":\"head\"}`},
		{"POST", "/v1/triggers/default/x/replay", "{\"from\":\"tail\"}\n\n}", `line 3 (byte 18): more after the JSON value: }`},
		{"DELETE", "/v1/triggers/default/x", `{"preconditions":{}} }`, `line 1 (byte 22): more after the JSON value: }`},
		{"DELETE", "/v1/triggers/default/x", `{}]`, `line 1 (byte 3): more after the JSON value: ]`},
	} {
		if code, body := env.do(c.method, c.path, "application/json", []byte(c.body)); code != http.StatusBadRequest || !strings.Contains(body, c.says) {
			t.Errorf("%s %s with %s: %d %s, want 400 saying %q", c.method, c.path, c.body, code, body, c.says)
		}
	}
	st, err := env.b.Triggers.Status(t.Context(), "default", "x")
	if err != nil || st.ObservedGeneration != 1 {
		t.Fatalf("the refused requests changed the trigger: %+v %v", st, err)
	}
}

// TestTriggerJSONBodyErrorsSayWhere: a replay request or delete options
// that is not JSON, ends too soon, holds a value of the wrong type or a
// member it does not take is a 400 that says the line and byte, and for a
// wrong type the field and what goes there, for an unknown member the ones
// that object takes (before: Go's error alone, such as "unexpected EOF",
// "cannot unmarshal number into Go struct field …" or "unknown field"),
// and nothing is done.
func TestTriggerJSONBodyErrorsSayWhere(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.putTrigger("default", "x", triggerYAML("x", "", "http://s.example/", ""))
	const replay, del = "/v1/triggers/default/x/replay", "/v1/triggers/default/x"
	for _, c := range []struct {
		method, path, body, says string
	}{
		{"POST", replay, `{"from":"tail",}`, `line 1 (byte 16): invalid character '}' looking for beginning of object key string`},
		{"POST", replay, "{\n \"from\": tail}", `line 2 (byte 13): invalid character 'a' in literal true`},
		{"POST", replay, `{"from":`, `line 1 (byte 8): the body ends before its JSON value does`},
		{"POST", replay, `{"from":1}`, `line 1 (byte 9): from is a JSON number, where a string goes`},
		{"POST", replay, `["tail"]`, `line 1 (byte 1): the body is a JSON array, where an object goes`},
		{"DELETE", del, `{"preconditions":{"resourceVersion":5}}`, `line 1 (byte 37): preconditions.resourceVersion is a JSON number, where a string goes`},
		{"DELETE", del, "{\n  \"dryRun\": \"All\"\n}", `line 2 (byte 19): dryRun is a JSON string, where an array goes`},
		{"DELETE", del, `{"gracePeriodSeconds":1.5}`, `line 1 (byte 25): gracePeriodSeconds is a JSON number 1.5, where an integer that fits 64 bits goes`},
		{"POST", replay, `{"form":"tail"}`, `line 1 (byte 2): unknown field \"form\"; the fields there are from`},
		{"DELETE", del, "{\"preconditions\": {\n  \"resourceVersion\": \"1\", \"uuid\": \"x\"}}", `line 2 (byte 47): unknown field \"preconditions.uuid\"; the fields there are resourceVersion, uid`},
		{"DELETE", del, "{\"preconditions\":\n", `line 2 (byte 18): the body ends before its JSON value does`},
	} {
		if code, body := env.do(c.method, c.path, "application/json", []byte(c.body)); code != http.StatusBadRequest || !strings.Contains(body, c.says) {
			t.Errorf("%s %s with %q: %d %s, want 400 saying %q", c.method, c.path, c.body, code, body, c.says)
		}
	}
	if code, _ := env.do("GET", del, "", nil); code != http.StatusOK {
		t.Fatalf("the refused deletes deleted the trigger: GET %d", code)
	}
}

// TestTriggerAPIRefusesWhatItCannotTake: a method a path does not take is
// a 405 that says which it does; delete options with a field Kubernetes'
// DeleteOptions does not have (a typo would drop the precondition it
// meant), or asking for a dry run, are refused and delete nothing; a PUT
// body that is neither YAML nor JSON is a 415.
func TestTriggerAPIRefusesWhatItCannotTake(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.putTrigger("default", "x", triggerYAML("x", "", "http://s.example/", ""))
	for _, c := range []struct {
		method, path, allow string
	}{
		{"PATCH", "/v1/triggers/default/x", "GET, HEAD, PUT, DELETE"},
		{"POST", "/v1/triggers", "GET, HEAD"},
		{"GET", "/v1/triggers/default/x/retry", "POST"},
		{"DELETE", "/v1/triggers/default/x/replay", "POST"},
		{"POST", "/v1/events/stream", "GET, HEAD, OPTIONS"},
		{"PUT", "/v1/events/ws", "GET, HEAD"},
	} {
		req, _ := http.NewRequest(c.method, env.srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %s, Allow %q; want 405 allowing %q", c.method, c.path, resp.Status, resp.Header.Get("Allow"), c.allow)
		}
	}
	for _, c := range []struct{ options, says string }{
		{`{"precondition":{"uid":"x"}}`, "unknown field"},
		{`{"dryRun":["All"]}`, "dryRun"},
		{`{} {"dryRun":["All"]}`, `line 1 (byte 4): more after the JSON value: {\"dryRun\":[\"All\"]}`},
	} {
		if code, body := env.do("DELETE", "/v1/triggers/default/x", "application/json", []byte(c.options)); code != http.StatusBadRequest || !strings.Contains(body, c.says) {
			t.Errorf("DELETE with %s: %d %s, want 400 saying %q", c.options, code, body, c.says)
		}
	}
	if code, _ := env.do("GET", "/v1/triggers/default/x", "", nil); code != http.StatusOK {
		t.Fatalf("the refused deletes deleted the trigger: GET %d", code)
	}
	yaml := []byte(triggerYAML("x", "", "http://t.example/", ""))
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/xml", yaml); code != http.StatusUnsupportedMediaType || !strings.Contains(body, "application/yaml") ||
		!strings.Contains(body, `"type":"urn:eddy:problem:unsupported-media-type"`) {
		t.Errorf("PUT as application/xml: %d %s, want a 415 problem naming the types taken", code, body)
	}
	for _, ct := range []string{"", "application/yaml; charset=utf-8", "text/yaml", "application/json"} {
		body := yaml
		if ct == "application/json" {
			body = []byte(`{"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{"name":"x"},"spec":{"broker":"default","subscriber":{"uri":"http://t.example/"}}}`)
		}
		if code, resp := env.do("PUT", "/v1/triggers/default/x", ct, body); code != http.StatusOK {
			t.Errorf("PUT as %q: %d %s", ct, code, resp)
		}
	}
	// Sent as JSON, a body must be JSON, as the Kubernetes API server
	// says: YAML would forgive the trailing comma.
	broken := `{"apiVersion":"eventing.knative.dev/v1","kind":"Trigger","metadata":{"name":"x"},
"spec":{"broker":"default","subscriber":{"uri":"http://u.example/"},}}`
	if code, body := env.do("PUT", "/v1/triggers/default/x", "application/json", []byte(broken)); code != http.StatusBadRequest || !strings.Contains(body, "is not JSON: line 2") {
		t.Errorf("PUT of broken JSON as JSON: %d %s, want 400 saying where", code, body)
	}
}

// TestTriggerListByNamespace: ?namespace= lists one namespace's triggers;
// an empty or impossible namespace, or another query parameter, is
// refused rather than ignored.
func TestTriggerListByNamespace(t *testing.T) {
	env := newEnv(t, WithJobWorker(false, 1))
	env.putTrigger("default", "a", triggerYAML("a", "", "http://s.example/", ""))
	env.putTrigger("prod", "b", strings.Replace(triggerYAML("b", "", "http://s.example/", ""), "namespace: default", "namespace: prod", 1))
	names := func(query string) []string {
		t.Helper()
		code, body := env.do("GET", "/v1/triggers"+query, "", nil)
		var list struct {
			Items []struct {
				Metadata struct{ Namespace, Name string }
			}
		}
		if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil {
			t.Fatalf("GET /v1/triggers%s: %d %s (%v)", query, code, body, err)
		}
		var out []string
		for _, it := range list.Items {
			out = append(out, it.Metadata.Namespace+"/"+it.Metadata.Name)
		}
		return out
	}
	for query, want := range map[string]string{"": "default/a prod/b", "?namespace=prod": "prod/b", "?namespace=zzz": ""} {
		if got := strings.Join(names(query), " "); got != want {
			t.Errorf("GET /v1/triggers%s: %q, want %q", query, got, want)
		}
	}
	if code, body := env.do("GET", "/v1/triggers?labelSelector=x", "", nil); code != http.StatusBadRequest || !strings.Contains(body, "labelSelector") {
		t.Errorf("an unknown query parameter: %d %s, want 400 naming it", code, body)
	}
	// A namespace parameter that names none is refused, saying why,
	// rather than answered with no triggers (before: an empty list for
	// ?namespace=) or with every namespace's.
	for query, says := range map[string]string{
		"?namespace=":                   `query parameter \"namespace\" is empty`,
		"?namespace=prod&namespace=":    `query parameter \"namespace\" is given 2 times`,
		"?namespace=Prod":               `query parameter \"namespace\": \"Prod\" is not a Kubernetes namespace`,
		"?namespace=%zz":                "cannot be read",
		"?namespace=prod&labelSelector": "labelSelector",
	} {
		if code, body := env.do("GET", "/v1/triggers"+query, "", nil); code != http.StatusBadRequest || !strings.Contains(body, says) ||
			!strings.Contains(body, `"type":"urn:eddy:problem:invalid-argument"`) {
			t.Errorf("GET /v1/triggers%s: %d %s, want a 400 problem saying %q", query, code, body, says)
		}
	}
}
