package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
)

// TestOpenAPIDescribesTheWholePort: the document a node serves describes
// both APIs of its HTTP port, the REST API and the broker's.
func TestOpenAPIDescribesTheWholePort(t *testing.T) {
	n := startEddy(t, "dev", "--data", filepath.Join(t.TempDir(), "data"), "--partitions", "2", "--http", "127.0.0.1:0", "--grpc", "")
	addr := httpAddress(t, n.waitFor(t, "eddy is ready"))
	resp, err := http.Get("http://" + addr + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /v1/openapi.json: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// A path item holds operations, and may hold parameters shared by them.
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the document does not parse: %v", err)
	}
	for path, method := range map[string]string{
		"/v1/process-instances":           "post", // REST
		"/v1/openapi.json":                "get",
		"/v1/events":                      "post", // the broker
		"/v1/triggers/{namespace}/{name}": "put",
	} {
		var op struct {
			OperationID string `json:"operationId"`
		}
		if raw := doc.Paths[path][method]; raw == nil || json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
			t.Errorf("the document has no operation %s %s", method, path)
		}
	}
	// The parts' references still resolve in the merged document.
	refs := regexp.MustCompile(`"\$ref":\s*"#/components/(\w+)/(\w+)"`).FindAllSubmatch(body, -1)
	if len(refs) == 0 {
		t.Error("the document has no references to components")
	}
	for _, m := range refs {
		if doc.Components[string(m[1])][string(m[2])] == nil {
			t.Errorf("reference %s does not resolve", m[0])
		}
	}
	n.stop(t)
}
