package rest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadInputGetsProblemDetails sends what a client can get wrong and
// checks that the answer is a problem that says what and where.
func TestBadInputGetsProblemDetails(t *testing.T) {
	base := serve(t, "pebble")
	c := NewClient(base, nil)
	deploy(t, c, "service-task.bpmn")
	bpmn := string(fixture(t, "start-end.bpmn").Content)
	quoted, _ := json.Marshal(bpmn)
	cases := []struct {
		name        string
		method      string
		path        string
		contentType string
		body        string
		status      int
		typ         string
		field       string
		detail      string // a part of the detail
	}{
		{"syntax error", "POST", "/v1/process-instances", "", "{\n  \"bpmnProcessId\": \"charge\",\n  \"variables\": {\"a\": }\n}", 400, TypeMalformed, "", "line 3, column 22"},
		{"truncated body", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "charge"`, 400, TypeMalformed, "", "ends in the middle"},
		{"trailing data", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "charge"} {}`, 400, TypeMalformed, "", "line 1, column 29"},
		{"not an object", "POST", "/v1/process-instances", "", `["charge"]`, 400, TypeMalformed, "", "must be a JSON object, got array"},
		{"wrong type", "POST", "/v1/process-instances", "", `{"bpmnProcessId": 7}`, 400, TypeInvalidArgument, "bpmnProcessId", `"bpmnProcessId" must be a string, got number`},
		{"version too big", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "charge", "version": 9999999999}`, 400, TypeInvalidArgument, "version", "32 bits"},
		{"field name in another case", "POST", "/v1/process-instances", "", `{"BPMNProcessID": "charge"}`, 200, "", "", ""}, // as encoding/json matches names
		{"unknown field", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "charge", "vars": {}}`, 400, TypeInvalidArgument, "vars", "unknown field \"vars\" at line 1, column 29; the fields there are awaitCompletion, bpmnProcessId"},
		{"unknown nested field", "POST", "/v1/deployments", "application/json", `{"resources": [{"name": "a.bpmn", "content": "x"}, {"name": "b.bpmn", "text": "x"}]}`, 400, TypeInvalidArgument, "resources[1].text", "the fields there are content, contentBase64, name"},
		{"no process", "POST", "/v1/process-instances", "", `{}`, 400, TypeInvalidArgument, "bpmnProcessId", "give \"bpmnProcessId\""},
		{"variables not an object", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "charge", "variables": [1]}`, 400, TypeInvalidArgument, "variables", "must be a JSON object of variables, got array [1]"},
		{"wait options without waiting", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "charge", "requestTimeout": 100}`, 400, TypeInvalidArgument, "requestTimeout", "awaitCompletion"},
		{"bad duration", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "charge", "awaitCompletion": true, "requestTimeout": "soon"}`, 400, TypeInvalidArgument, "requestTimeout", `must be a duration (milliseconds, or a string such as "30s"), got string "soon"`},
		{"negative duration", "POST", "/v1/messages", "", `{"name": "m", "timeToLive": -5}`, 400, TypeInvalidArgument, "timeToLive", "got number -5"},
		{"bad key in body", "POST", "/v1/process-instances", "", `{"processDefinitionKey": "12ab"}`, 400, TypeInvalidArgument, "processDefinitionKey", `must be a key (a string of digits or a positive integer), got string "12ab"`},
		{"unknown process", "POST", "/v1/process-instances", "", `{"bpmnProcessId": "nope"}`, 404, TypeNotFound, "", "nope"},
		{"unknown definition key", "POST", "/v1/process-instances", "", `{"processDefinitionKey": 2251799813685999}`, 404, TypeNotFound, "", ""},
		{"bad key in path", "GET", "/v1/process-instances/abc", "", "", 400, TypeInvalidArgument, "processInstanceKey", `got "abc"`},
		{"key of no partition", "GET", "/v1/process-instances/1", "", "", 404, TypeNotFound, "", ""},
		{"unknown instance", "POST", "/v1/process-instances/2251799813685999/cancellation", "", "", 404, TypeNotFound, "", "2251799813685999"},
		{"unknown job", "POST", "/v1/jobs/2251799813685999/completion", "", `{"variables": {"a": 1}}`, 404, TypeNotFound, "", "2251799813685999"},
		{"job type missing", "POST", "/v1/jobs/activation", "", `{"maxJobsToActivate": 1, "timeout": 1000}`, 400, TypeInvalidArgument, "type", `"type"`},
		{"no max jobs", "POST", "/v1/jobs/activation", "", `{"type": "charge-card", "timeout": 1000}`, 400, TypeInvalidArgument, "maxJobsToActivate", "at least 1"},
		{"no job timeout", "POST", "/v1/jobs/activation", "", `{"type": "charge-card", "maxJobsToActivate": 1}`, 400, TypeInvalidArgument, "timeout", "positive duration"},
		{"negative retries", "POST", "/v1/jobs/2251799813685999/failure", "", `{"retries": -1}`, 400, TypeInvalidArgument, "retries", "got -1"},
		{"error code missing", "POST", "/v1/jobs/2251799813685999/error", "", `{}`, 400, TypeInvalidArgument, "errorCode", "errorCode"},
		{"empty job update", "PATCH", "/v1/jobs/2251799813685999", "", `{}`, 400, TypeInvalidArgument, "retries", "timeout"},
		{"variables missing", "PUT", "/v1/element-instances/2251799813685999/variables", "", `{"local": true}`, 400, TypeInvalidArgument, "variables", "JSON object"},
		{"message without name", "POST", "/v1/messages", "", `{"correlationKey": "k"}`, 400, TypeInvalidArgument, "name", `"name"`},
		{"signal without name", "POST", "/v1/signals", "", `{}`, 400, TypeInvalidArgument, "signalName", `"signalName"`},
		{"unknown incident", "POST", "/v1/incidents/2251799813685999/resolution", "", "", 404, TypeNotFound, "", "2251799813685999"},
		{"bad incident limit", "GET", "/v1/incidents?limit=0", "", "", 400, TypeInvalidArgument, "limit", "1 to 1000"},
		{"unknown query parameter", "GET", "/v1/incidents?instance=5", "", "", 400, TypeInvalidArgument, "instance", "processInstanceKey"},
		{"no resources", "POST", "/v1/deployments", "application/json", `{"resources": []}`, 400, TypeInvalidArgument, "resources", "at least one"},
		{"resource without name", "POST", "/v1/deployments", "application/json", `{"resources": [{"content": "x"}]}`, 400, TypeInvalidArgument, "resources[0].name", "name the file"},
		{"resource without content", "POST", "/v1/deployments", "application/json", `{"resources": [{"name": "a.bpmn"}]}`, 400, TypeInvalidArgument, "resources[0].content", "no content"},
		{"bad base64", "POST", "/v1/deployments", "application/json", `{"resources": [{"name": "a.bpmn", "contentBase64": "!!"}]}`, 400, TypeInvalidArgument, "resources[0].contentBase64", "not valid base64"},
		{"invalid bpmn", "POST", "/v1/deployments", "application/json", `{"resources": [{"name": "a.bpmn", "content": "<definitions"}]}`, 400, TypeInvalidArgument, "", "'a.bpmn'"},
		{"not a bpmn file", "POST", "/v1/deployments", "application/json", `{"resources": [{"name": "a.txt", "content": ` + string(quoted) + `}]}`, 400, TypeInvalidArgument, "", "'a.txt'"},
		{"xml body", "POST", "/v1/deployments", "application/xml", bpmn, 415, TypeUnsupportedType, "", "multipart/form-data"},
		{"multipart without files", "POST", "/v1/deployments", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--X--\r\n", 400, TypeInvalidArgument, "a", "no filename"},
		{"broken multipart", "POST", "/v1/deployments", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.bpmn\"\r\n\r\nv", 400, TypeMalformed, "", "part 1"},
		{"wrong method", "DELETE", "/v1/process-instances/2251799813685999", "", "", 405, TypeMethod, "", "GET"},
		{"no route", "GET", "/v1/instances", "", "", 404, TypeNotFound, "", "/v1/openapi.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status < 300 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("not a problem: %s", body)
			}
			if p.Status != tc.status || p.Type != tc.typ || p.Title != http.StatusText(tc.status) || p.Instance != strings.Split(tc.path, "?")[0] {
				t.Errorf("problem %+v, want status %d type %s", p, tc.status, tc.typ)
			}
			if p.Field != tc.field {
				t.Errorf("field %q, want %q (detail %q)", p.Field, tc.field, p.Detail)
			}
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detail)
			}
		})
	}
}
