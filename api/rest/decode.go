package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode"

	"eddy/internal/jsonbody"
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
	var e *jsonbody.Error
	if err := jsonbody.Decode(body, v); !errors.As(err, &e) {
		return err
	}
	switch e.Kind {
	case jsonbody.Syntax:
		return malformed(body, e.Index, "malformed JSON: "+e.Err.Error())
	case jsonbody.Truncated:
		return malformed(body, e.Index, "malformed JSON: the body ends in the middle of a value")
	case jsonbody.Trailing:
		return malformed(body, e.Index, "unexpected data after the JSON object")
	case jsonbody.WrongType:
		if e.Field == "" {
			return newProblem(http.StatusBadRequest, TypeMalformed, fmt.Sprintf("the body must be a JSON object, got %s", e.Value))
		}
		field := jsonPath(e.Field)
		p := invalid(field, "field %q must be %s, got %s", field, describeType(e.Type), e.Value)
		if e.Index >= 0 {
			p.Detail += " (at " + position(body, e.Index) + ")"
		}
		return p
	case jsonbody.UnknownField:
		switch {
		case e.Index < 0:
			return invalid(e.Name, "unknown field %q", e.Name)
		case e.Name == "":
			return invalid(e.Field, "a field with an empty name at %s; the fields there are %s", position(body, e.Index), strings.Join(e.Known, ", "))
		}
		return invalid(e.Field, "unknown field %q at %s; the fields there are %s", e.Field, position(body, e.Index), strings.Join(e.Known, ", "))
	}
	return newProblem(http.StatusBadRequest, TypeMalformed, "malformed JSON: "+e.Err.Error())
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
	line, col := jsonbody.Position(body, index)
	return fmt.Sprintf("line %d, column %d", line, col)
}

// describeType names what a field takes, in JSON terms.
func describeType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case keyType:
		return "a key (a string of digits or a positive integer)"
	case millisType:
		return `a duration (milliseconds, or a string such as "30s")`
	}
	return jsonbody.DescribeType(t)
}

// checkObject checks that an optional variables document is a JSON object.
func checkObject(field string, doc json.RawMessage) error {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || string(doc) == "null" || doc[0] == '{' {
		return nil
	}
	return invalid(field, "field %q must be a JSON object of variables, got %s", field, describeJSONValue(doc))
}
