package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"eddy/broker/trigger"
)

// servedRoutes are the method-paths routes() serves: the ingress's, whose
// methods its handlers sort out, and the API's table (apiRoutes).
func servedRoutes(b *Broker) []string {
	out := []string{
		"POST /v1/events",
		"OPTIONS /v1/events",
		"POST /{namespace}/{broker}",
		"OPTIONS /{namespace}/{broker}", // the webhook handshake, with WebHook-Request-Origin
	}
	for _, rt := range b.apiRoutes() {
		for _, m := range rt.methods {
			out = append(out, m.method+" "+rt.path)
		}
	}
	return out
}

var pathTemplateParam = regexp.MustCompile(`\{(\w+)\}`)

// pointerEscaper escapes a member name as a JSON pointer token.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// docOperation is one operation of the document, its parameters resolved
// (the path item's first, as OpenAPI merges them).
type docOperation struct {
	method, path string
	operationID  string
	params       []docParameter
	responses    map[string]any
}

type docParameter struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

func (op docOperation) pattern() string { return op.method + " " + op.path }

// loadBrokerOpenAPI parses the document and lists its operations, failing
// the test on what cannot be read.
func loadBrokerOpenAPI(t *testing.T) (map[string]any, []docOperation) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("broker/openapi.json does not parse: %v", err)
	}
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("broker/openapi.json: no paths object")
	}
	var ops []docOperation
	for path, item := range paths {
		item, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("broker/openapi.json: path %s is not an object", path)
		}
		shared := resolveParameters(t, doc, path, item["parameters"])
		for key, v := range item {
			method := strings.ToUpper(key)
			if !slices.Contains([]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}, method) {
				continue // parameters, summary and the like
			}
			raw, _ := v.(map[string]any)
			op := docOperation{method: method, path: path, params: slices.Clone(shared)}
			op.operationID, _ = raw["operationId"].(string)
			op.responses, _ = raw["responses"].(map[string]any)
			op.params = append(op.params, resolveParameters(t, doc, method+" "+path, raw["parameters"])...)
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].pattern() < ops[j].pattern() })
	return doc, ops
}

// resolveParameters reads a parameters list, following $refs.
func resolveParameters(t *testing.T, doc map[string]any, where string, list any) []docParameter {
	t.Helper()
	items, _ := list.([]any)
	out := make([]docParameter, 0, len(items))
	for i, p := range items {
		if m, ok := p.(map[string]any); ok {
			if ref, ok := m["$ref"].(string); ok {
				var err error
				if p, err = resolveRef(doc, ref); err != nil {
					t.Fatalf("%s: parameter %d: %v", where, i, err)
				}
			}
		}
		raw, _ := json.Marshal(p)
		var dp docParameter
		if err := json.Unmarshal(raw, &dp); err != nil || dp.Name == "" || dp.In == "" {
			t.Fatalf("%s: parameter %d is not a parameter with name and in: %s", where, i, raw)
		}
		out = append(out, dp)
	}
	return out
}

// resolveRef follows a local reference (a JSON pointer after '#').
func resolveRef(doc any, ref string) (any, error) {
	pointer, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not local to the document", ref)
	}
	cur := doc
	for _, token := range strings.Split(pointer, "/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q is not in an object", ref, token)
		}
		if cur, ok = m[token]; !ok {
			return nil, fmt.Errorf("$ref %q does not resolve: no %q", ref, token)
		}
	}
	return cur, nil
}

// collectRefs lists every $ref in v by where it is (a JSON pointer).
func collectRefs(v any, where string, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				out[where] = s
				continue
			}
			collectRefs(x, where+"/"+pointerEscaper.Replace(k), out)
		}
	case []any:
		for i, x := range v {
			collectRefs(x, where+"/"+strconv.Itoa(i), out)
		}
	}
}

// TestOpenAPIDocumentsEveryRoute: the document parses, every reference in it
// resolves, each operation has a unique operationId, responses and the path
// parameters of its path, and the operations are the routes the broker
// serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, ops := loadBrokerOpenAPI(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi version %q, want 3.1.x", v)
	}
	refs := map[string]string{}
	collectRefs(doc, "#", refs)
	if len(refs) == 0 {
		t.Error("no $ref found: the walk is broken")
	}
	for where, ref := range refs {
		if _, err := resolveRef(doc, ref); err != nil {
			t.Errorf("at %s: %v", where, err)
		}
	}
	ids := map[string]string{}
	var documented []string
	for _, op := range ops {
		documented = append(documented, op.pattern())
		if op.operationID == "" || len(op.responses) == 0 {
			t.Errorf("%s has no operationId or no responses", op.pattern())
		}
		// Every change of state may be refused to a page of another
		// origin (newWriteGuard, and the ingress's own policy).
		if _, ok := op.responses["403"]; !ok && !slices.Contains([]string{"GET", "HEAD", "OPTIONS"}, op.method) {
			t.Errorf("%s does not document the 403 of a page of another origin", op.pattern())
		}
		if other, dup := ids[op.operationID]; dup && op.operationID != "" {
			t.Errorf("operationId %q is both %s's and %s's", op.operationID, other, op.pattern())
		}
		ids[op.operationID] = op.pattern()
		var inPath, params []string
		for _, m := range pathTemplateParam.FindAllStringSubmatch(op.path, -1) {
			inPath = append(inPath, m[1])
		}
		for _, p := range op.params {
			if p.In == "path" {
				params = append(params, p.Name)
				if !p.Required {
					t.Errorf("%s: path parameter %s is not required", op.pattern(), p.Name)
				}
			}
		}
		if !slices.Equal(params, inPath) {
			t.Errorf("%s documents path parameters %v, the path has %v", op.pattern(), params, inPath)
		}
	}
	// The table needs no running broker: only its paths and methods are read.
	served := servedRoutes(&Broker{Triggers: &Router{}})
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("the broker serves %s, which openapi.json does not document", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(served, d) {
			t.Errorf("openapi.json documents %s, which the broker does not serve", d)
		}
	}
}

// fallbackHeader marks the answers of the fallback handler the probe's
// broker has: a request that reached it is one the broker does not serve.
const fallbackHeader = "X-Openapi-Probe-Fallback"

// TestOpenAPIOperationsAreServed sends each documented operation's method
// to its path, parameters filled in, to a broker served as a node serves
// it: no answer may come from the mux's catch-alls (the fallback, or a 405
// whose Allow leaves the method out), and its status must be one the
// operation documents.
func TestOpenAPIOperationsAreServed(t *testing.T) {
	_, ops := loadBrokerOpenAPI(t)
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(fallbackHeader, "1")
		http.NotFound(w, r)
	})
	env := newEnv(t, WithFallback(fallback))
	for _, op := range ops {
		t.Run(op.pattern(), func(t *testing.T) {
			path := pathTemplateParam.ReplaceAllStringFunc(op.path, func(string) string { return "default" })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, op.method, env.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range op.params {
				if p.In == "header" && p.Required {
					req.Header.Set(p.Name, "https://probe.example")
				}
			}
			// The status and headers are enough: a stream's body never ends.
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", op.method, path, err)
			}
			resp.Body.Close()
			if resp.Header.Get(fallbackHeader) != "" {
				t.Fatalf("%s %s reached the fallback: the broker does not serve it", op.method, path)
			}
			if allow := resp.Header.Get("Allow"); resp.StatusCode == http.StatusMethodNotAllowed && !allowsMethod(allow, op.method) {
				t.Fatalf("%s %s: 405 with Allow %q: the path does not take %s", op.method, path, allow, op.method)
			}
			if !documentsStatus(op.responses, resp.StatusCode) {
				t.Errorf("%s %s answered %d, which the operation does not document", op.method, path, resp.StatusCode)
			}
		})
	}
}

func allowsMethod(allow, method string) bool {
	for m := range strings.SplitSeq(allow, ",") {
		if strings.EqualFold(strings.TrimSpace(m), method) {
			return true
		}
	}
	return false
}

// documentsStatus says whether responses covers status: itself, its range
// (4XX) or default.
func documentsStatus(responses map[string]any, status int) bool {
	code := strconv.Itoa(status)
	for _, k := range []string{code, code[:1] + "XX", "default"} {
		if _, ok := responses[k]; ok {
			return true
		}
	}
	return false
}

// TestOpenAPISchemasMatchTypes: the schemas of what the trigger API reads
// and writes have exactly the JSON members of the Go types behind them.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc, _ := loadBrokerOpenAPI(t)
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, v := range map[string]any{
		"TriggerStatus": TriggerStatus{}, "TriggerCondition": Condition{}, "SegmentStatus": SegmentStatus{}, "DeliveryCounts": DeliveryCounts{},
		"DeleteOptions": deleteOptions{}, "Preconditions": Preconditions{},
		"Trigger": trigger.Resource{}, "TriggerMetadata": trigger.Metadata{}, "TriggerSpec": trigger.Spec{},
		"TriggerAttributesFilter": trigger.FilterSpec{}, "TriggerFilterExpression": trigger.FilterExpr{},
		"Destination": trigger.Destination{}, "KReference": trigger.Ref{}, "DeliverySpec": trigger.DeliverySpec{},
	} {
		schema, ok := schemas[name].(map[string]any)
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		props, _ := schema["properties"].(map[string]any)
		var members []string
		for p := range props {
			members = append(members, p)
		}
		sort.Strings(members)
		if fields := jsonFields(reflect.TypeOf(v)); !slices.Equal(members, fields) {
			t.Errorf("schema %s has properties %v, %T has %v", name, members, v, fields)
		}
		required, _ := schema["required"].([]any)
		for _, r := range required {
			if _, ok := props[r.(string)]; !ok {
				t.Errorf("schema %s requires %v, which it does not have", name, r)
			}
		}
	}
}

// jsonFields lists the JSON member names of a struct type, sorted.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "":
			name = f.Name
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPINamePatternsAreTheBrokers: the trigger path's namespace and
// name patterns take what the broker takes (trigger.CheckNamespace,
// CheckName) and refuse what it refuses, so that a client that validates
// against the document is refused nothing it was told is fine.
func TestOpenAPINamePatternsAreTheBrokers(t *testing.T) {
	var doc struct {
		Components struct {
			Parameters map[string]struct {
				Schema struct {
					MaxLength int    `json:"maxLength"`
					Pattern   string `json:"pattern"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	names := []string{"x", "orders", "a-b", "a.b", "a.b-c.d", "a..b", "a.-b", "a-.b", ".a", "a.", "-a", "a-", "A", "a_b", "", strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 253), strings.Repeat("a", 254)}
	for param, check := range map[string]func(string) string{"TriggerNamespace": trigger.CheckNamespace, "TriggerName": trigger.CheckName} {
		s := doc.Components.Parameters[param].Schema
		re, err := regexp.Compile(s.Pattern)
		if err != nil || s.MaxLength == 0 {
			t.Fatalf("%s: pattern %q (%v), maxLength %d", param, s.Pattern, err, s.MaxLength)
		}
		for _, n := range names {
			if documented, taken := re.MatchString(n) && len(n) <= s.MaxLength, check(n) == ""; documented != taken {
				t.Errorf("%s %q: the document says valid %v, the broker %v", param, n, documented, taken)
			}
		}
	}
}
