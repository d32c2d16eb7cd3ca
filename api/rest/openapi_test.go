package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"eddy/internal/jsonbody"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		OperationID string `json:"operationId"`
		Parameters  []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
		Responses map[string]json.RawMessage `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// TestOpenAPIDocumentsEveryRoute: the routes the server registers and the
// operations the document describes are the same, with the same path
// parameters.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			pattern := strings.ToUpper(method) + " " + path
			documented = append(documented, pattern)
			var params []string
			for _, p := range op.Parameters {
				if p.In == "path" {
					params = append(params, p.Name)
				}
			}
			var inPath []string
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				inPath = append(inPath, m[1])
			}
			if !slices.Equal(params, inPath) {
				t.Errorf("%s documents path parameters %v, the path has %v", pattern, params, inPath)
			}
			if op.OperationID == "" || len(op.Responses) == 0 {
				t.Errorf("%s has no operationId or no responses", pattern)
			}
			// Every change of state may be refused to a page of another
			// origin (ServeHTTP); a read never is.
			if _, ok := op.Responses["403"]; ok != (method != "get") {
				t.Errorf("%s: documents 403 %v, want it on every method but GET", pattern, ok)
			}
		}
	}
	registered := New(nil).Routes()
	sort.Strings(documented)
	sort.Strings(registered)
	if !slices.Equal(documented, registered) {
		t.Errorf("documented routes:\n  %s\nregistered routes:\n  %s", strings.Join(documented, "\n  "), strings.Join(registered, "\n  "))
	}
}

// TestOpenAPISchemasMatchTypes: each body schema has exactly the JSON
// fields of its Go type, and what it requires exists.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	types := []any{
		DeployRequest{}, Resource{}, DeployResponse{}, DeployedProcess{}, CreateInstanceRequest{}, InstanceResult{},
		PublishMessageRequest{}, PublishMessageResponse{}, BroadcastSignalRequest{}, BroadcastSignalResponse{},
		ActivateJobsRequest{}, ActivateJobsResponse{}, Job{}, CompleteJobRequest{}, FailJobRequest{}, ThrowErrorRequest{},
		UpdateJobRequest{}, SetVariablesRequest{}, ModifyInstanceRequest{}, ActivateInstruction{}, TerminateInstruction{},
		Instance{}, ElementInstance{}, Incident{}, IncidentList{}, Problem{},
	}
	for _, v := range types {
		typ := reflect.TypeOf(v)
		schema, ok := doc.Components.Schemas[typ.Name()]
		if !ok {
			t.Errorf("no schema %s", typ.Name())
			continue
		}
		var props []string
		for p := range schema.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		if fields := jsonbody.FieldNames(typ); !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, the type has fields %v", typ.Name(), props, fields)
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("schema %s requires %q, which it does not have", typ.Name(), r)
			}
		}
	}
	// Every reference resolves.
	var raw struct {
		Components map[string]map[string]json.RawMessage
	}
	if err := json.Unmarshal(OpenAPI(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`"#/components/(schemas|responses)/(\w+)"`).FindAllSubmatch(OpenAPI(), -1) {
		if _, ok := raw.Components[string(m[1])][string(m[2])]; !ok {
			t.Errorf("reference %s does not resolve", m[0])
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	srv := httptest.NewServer(New(nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(body) != string(OpenAPI()) {
		t.Fatalf("GET /v1/openapi.json: %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
}

// TestMergeOpenAPI: another API's paths and components join the document;
// what both define is refused, named.
func TestMergeOpenAPI(t *testing.T) {
	const base = `{"openapi":"3.1.0","info":{"title":"base","version":"1"},
		"paths":{"/v1/a":{"get":{"operationId":"getA","responses":{"200":{"$ref":"#/components/responses/OK"}}}}},
		"components":{"schemas":{"A":{"type":"object"}},"responses":{"OK":{"description":"ok"}}}}`
	cases := []struct {
		name  string
		extra string
		want  string // an error that says this, or "" for a merge
	}{
		{"disjoint", `{"openapi":"3.1.1","info":{"title":"extra","version":"2"},"tags":[{"name":"B"}],
			"paths":{"/v1/b/{id}":{"parameters":[{"$ref":"#/components/parameters/ID"}],"put":{"operationId":"putB","responses":{"204":{"description":"done & dusted"}}}}},
			"components":{"schemas":{"B":{"$ref":"#/components/schemas/A"}},"parameters":{"ID":{"name":"id","in":"path","required":true}}}}`, ""},
		{"duplicate path", `{"openapi":"3.1.0","paths":{"/v1/a":{"post":{"operationId":"postA","responses":{}}}}}`, `path "/v1/a" is defined in both documents`},
		{"duplicate schema", `{"openapi":"3.1.0","paths":{},"components":{"schemas":{"A":{"type":"string"}}}}`, `component "A" (components.schemas) is defined in both documents`},
		{"duplicate response", `{"openapi":"3.1.0","paths":{},"components":{"responses":{"OK":{"description":"also ok"}}}}`, `component "OK" (components.responses) is defined in both documents`},
		{"duplicate operationId", `{"openapi":"3.1.0","paths":{"/v1/c":{"get":{"operationId":"getA","responses":{}}}}}`, `operationId "getA" is used (GET /v1/a and GET /v1/c) in both documents`},
		{"other version", `{"openapi":"3.0.3","paths":{}}`, "the base document is OpenAPI 3.1, the extra one 3.0"},
		{"not OpenAPI", `{"swagger":"2.0","paths":{}}`, "the extra document: no openapi member"},
		{"not JSON", `{"openapi":`, "the extra document: not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MergeOpenAPI([]byte(base), []byte(tc.extra))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one saying %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				OpenAPI    string                                `json:"openapi"`
				Info       struct{ Title string }                `json:"info"`
				Tags       []struct{ Name string }               `json:"tags"`
				Paths      map[string]json.RawMessage            `json:"paths"`
				Components map[string]map[string]json.RawMessage `json:"components"`
			}
			if err := json.Unmarshal(got, &doc); err != nil {
				t.Fatalf("the merged document does not parse: %v\n%s", err, got)
			}
			if doc.OpenAPI != "3.1.0" || doc.Info.Title != "base" {
				t.Errorf("openapi %q, info.title %q: want the base document's", doc.OpenAPI, doc.Info.Title)
			}
			if len(doc.Tags) != 1 || doc.Tags[0].Name != "B" {
				t.Errorf("tags %+v, want extra's B", doc.Tags)
			}
			for _, p := range []string{"/v1/a", "/v1/b/{id}"} {
				if doc.Paths[p] == nil {
					t.Errorf("path %s missing", p)
				}
			}
			for _, c := range []string{"schemas/A", "schemas/B", "responses/OK", "parameters/ID"} {
				section, name, _ := strings.Cut(c, "/")
				if doc.Components[section][name] == nil {
					t.Errorf("components.%s.%s missing", section, name)
				}
			}
			if !strings.HasPrefix(string(got), "{\n  \"openapi\"") || !strings.Contains(string(got), "done & dusted") {
				t.Errorf("the merged document is not indented in the specification's order, or escapes what it copies:\n%s", got)
			}
		})
	}
}
