package rest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// openAPI is the hand-written OpenAPI 3.1 description of the API; a test
// keeps it and the routes (and the bodies' fields) in step.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI document of this API, the one a Server serves
// at /v1/openapi.json (a node serving more APIs on its port serves them
// all in one document: MergeOpenAPI).
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
	return nil
}

// MergeOpenAPI returns base with extra's paths, components and tags added,
// for a port that serves several APIs under one document; the rest of
// extra (info, servers) is base's to say. A path, a component or an
// operationId that both define is an error naming it: keeping either would
// hide the other. Both must be OpenAPI documents of the same major.minor
// version, whose references are local (#/components/...), so that extra's
// still resolve in the result.
func MergeOpenAPI(base, extra []byte) ([]byte, error) {
	b, err := readOpenAPI(base)
	if err != nil {
		return nil, fmt.Errorf("rest: MergeOpenAPI: the base document: %w", err)
	}
	x, err := readOpenAPI(extra)
	if err != nil {
		return nil, fmt.Errorf("rest: MergeOpenAPI: the extra document: %w", err)
	}
	if b.version != x.version {
		return nil, fmt.Errorf("rest: MergeOpenAPI: the base document is OpenAPI %s, the extra one %s", b.version, x.version)
	}
	fail := func(format string, args ...any) ([]byte, error) {
		return nil, fmt.Errorf("rest: MergeOpenAPI: "+format+" in both documents", args...)
	}
	for _, path := range slices.Sorted(maps.Keys(x.paths)) {
		if _, dup := b.paths[path]; dup {
			return fail("path %q is defined", path)
		}
		b.paths[path] = x.paths[path]
	}
	for _, id := range slices.Sorted(maps.Keys(x.operations)) {
		if where, dup := b.operations[id]; dup {
			return fail("operationId %q is used (%s and %s)", id, where, x.operations[id])
		}
	}
	for _, section := range slices.Sorted(maps.Keys(x.components)) {
		into := b.components[section]
		if into == nil {
			into = map[string]json.RawMessage{}
			b.components[section] = into
		}
		for _, name := range slices.Sorted(maps.Keys(x.components[section])) {
			if _, dup := into[name]; dup {
				return fail("component %q (components.%s) is defined", name, section)
			}
			into[name] = x.components[section][name]
		}
	}
	for _, tag := range x.tags {
		if !slices.ContainsFunc(b.tags, func(t openAPITag) bool { return t.Name == tag.Name }) {
			b.tags = append(b.tags, tag)
		}
	}
	return b.encode()
}

// openAPIDocument is what MergeOpenAPI reads of a document: the members it
// merges, decoded one level down, and the rest as they are.
type openAPIDocument struct {
	top        map[string]json.RawMessage
	version    string // major.minor
	paths      map[string]json.RawMessage
	components map[string]map[string]json.RawMessage
	tags       []openAPITag
	// operations maps each operationId to its "METHOD path".
	operations map[string]string
}

type openAPITag struct {
	Name string `json:"name"`
	raw  json.RawMessage
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func readOpenAPI(doc []byte) (*openAPIDocument, error) {
	d := &openAPIDocument{operations: map[string]string{}}
	if err := json.Unmarshal(doc, &d.top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var version string
	if raw, ok := d.top["openapi"]; !ok {
		return nil, fmt.Errorf("no openapi member: not an OpenAPI document")
	} else if err := json.Unmarshal(raw, &version); err != nil || !strings.HasPrefix(version, "3.") {
		return nil, fmt.Errorf("openapi is %s, not an OpenAPI 3 version", raw)
	}
	major, rest, _ := strings.Cut(version, ".")
	minor, _, _ := strings.Cut(rest, ".")
	d.version = major + "." + minor
	if err := unmarshalMember(d.top, "paths", &d.paths); err != nil {
		return nil, err
	}
	if d.paths == nil {
		d.paths = map[string]json.RawMessage{}
	}
	for path, item := range d.paths {
		var ops map[string]json.RawMessage
		if err := json.Unmarshal(item, &ops); err != nil {
			return nil, fmt.Errorf("path %q is not an object: %w", path, err)
		}
		for _, method := range openAPIMethods {
			if ops[method] == nil {
				continue
			}
			var op struct {
				OperationID string `json:"operationId"`
			}
			if err := json.Unmarshal(ops[method], &op); err != nil {
				return nil, fmt.Errorf("%s %s is not an operation object: %w", strings.ToUpper(method), path, err)
			}
			where := strings.ToUpper(method) + " " + path
			if other, dup := d.operations[op.OperationID]; dup && op.OperationID != "" {
				return nil, fmt.Errorf("operationId %q is both %s's and %s's", op.OperationID, other, where)
			}
			if op.OperationID != "" {
				d.operations[op.OperationID] = where
			}
		}
	}
	if err := unmarshalMember(d.top, "components", &d.components); err != nil {
		return nil, err
	}
	if d.components == nil {
		d.components = map[string]map[string]json.RawMessage{}
	}
	var tags []json.RawMessage
	if err := unmarshalMember(d.top, "tags", &tags); err != nil {
		return nil, err
	}
	for i, raw := range tags {
		t := openAPITag{raw: raw}
		if err := json.Unmarshal(raw, &t); err != nil || t.Name == "" {
			return nil, fmt.Errorf("tags[%d] is not a tag object with a name", i)
		}
		d.tags = append(d.tags, t)
	}
	return d, nil
}

// unmarshalMember decodes top's member name, if there is one, into v.
func unmarshalMember(top map[string]json.RawMessage, name string, v any) error {
	raw, ok := top[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s does not have the shape of an OpenAPI %s member: %w", name, name, err)
	}
	return nil
}

// openAPIOrder is the order the specification lists a document's members
// in; the document reads better in it than in alphabetical order.
var openAPIOrder = []string{"openapi", "info", "jsonSchemaDialect", "servers", "tags", "paths", "webhooks", "components", "security", "externalDocs"}

// encode writes d back, indented, its top-level members in openAPIOrder.
func (d *openAPIDocument) encode() ([]byte, error) {
	d.top["paths"] = marshalPlain(d.paths)
	if len(d.components) > 0 {
		d.top["components"] = marshalPlain(d.components)
	}
	if len(d.tags) > 0 {
		raws := make([]json.RawMessage, len(d.tags))
		for i, t := range d.tags {
			raws[i] = t.raw
		}
		d.top["tags"] = marshalPlain(raws)
	}
	names := slices.Sorted(maps.Keys(d.top))
	rank := func(name string) int {
		if i := slices.Index(openAPIOrder, name); i >= 0 {
			return i
		}
		return len(openAPIOrder)
	}
	sort.SliceStable(names, func(i, j int) bool { return rank(names[i]) < rank(names[j]) })
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, name := range names {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(name)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(d.top[name])
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("rest: MergeOpenAPI: encoding the merged document: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// marshalPlain encodes v, which holds only JSON already read, without
// json.Marshal's escaping of <, > and &: the document stays as written.
func marshalPlain(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // maps of valid RawMessages always encode
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
