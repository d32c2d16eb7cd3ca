package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"unicode"
)

// maxBody bounds a JSON request body: the engine's variable documents are at
// most 4 MiB, and a deployment's files travel base64-encoded.
const maxBody = 16 << 20

// decodeBody reads r's JSON body into v. An empty body leaves v as it is
// (every field absent). Unknown fields are refused, so that a misspelt
// field is an error rather than silently ignored.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes one JSON object into v, with errors that say where.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(body, err, v)
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(body[end:], " \t\r\n"); len(rest) > 0 {
		return malformed(body, int64(len(body)-len(rest)), "unexpected data after the JSON object")
	}
	return nil
}

// jsonProblem explains a decoding error: where the syntax breaks, which
// field has the wrong type, which field is unknown.
func jsonProblem(body []byte, err error, v any) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// Offset counts the bytes read, the offending one included.
		return malformed(body, syntax.Offset-1, "malformed JSON: "+syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed(body, int64(len(body)), "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return newProblem(http.StatusBadRequest, TypeMalformed, fmt.Sprintf("the body must be a JSON object, got %s", typ.Value))
		}
		field := jsonPath(typ.Field)
		p := invalid(field, "field %q must be %s, got %s", field, describeType(typ.Type), typ.Value)
		if typ.Offset > 0 {
			// Offset is just past the value.
			p.Detail += " (at " + position(body, typ.Offset-1) + ")"
		}
		return p
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		path, known, at, found := findUnknownField(body, reflect.TypeOf(v), name)
		switch {
		case !found:
			return invalid(name, "unknown field %q", name)
		case name == "":
			return invalid(path, "a field with an empty name at %s; the fields there are %s", position(body, at), strings.Join(known, ", "))
		}
		return invalid(path, "unknown field %q at %s; the fields there are %s", path, position(body, at), strings.Join(known, ", "))
	}
	return newProblem(http.StatusBadRequest, TypeMalformed, "malformed JSON: "+err.Error())
}

// jsonPath drops from a decoder's field path the Go names of embedded
// structs (Await), which are not in the JSON: its own names are lower case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && !unicode.IsUpper(rune(p[0])) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}

func malformed(body []byte, offset int64, msg string) *Problem {
	return newProblem(http.StatusBadRequest, TypeMalformed, msg+" at "+position(body, offset))
}

// position turns the index of a byte into "line L, column C" (columns
// count bytes, from 1); the end of the body is a position too.
func position(body []byte, index int64) string {
	index = min(max(index, 0), int64(len(body)))
	before := body[:index]
	line := bytes.Count(before, []byte("\n")) + 1
	col := index - int64(bytes.LastIndexByte(before, '\n'))
	return fmt.Sprintf("line %d, column %d", line, col)
}

// describeType names what a field takes, in JSON terms.
func describeType(t reflect.Type) string {
	switch t {
	case keyType:
		return "a key (a string of digits or a positive integer)"
	case millisType:
		return `a duration (milliseconds, or a string such as "30s")`
	case reflect.TypeFor[json.RawMessage]():
		return "a JSON value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("an integer that fits %d bits", t.Bits())
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return describeType(t.Elem())
	}
	return t.String()
}

// fieldNames lists the JSON names of a request type's fields.
func fieldNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			names = append(names, fieldNames(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// checkObject checks that an optional variables document is a JSON object.
func checkObject(field string, doc json.RawMessage) error {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || string(doc) == "null" || doc[0] == '{' {
		return nil
	}
	return invalid(field, "field %q must be a JSON object of variables, got %s", field, describeJSONValue(doc))
}
