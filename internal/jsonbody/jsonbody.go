// Package jsonbody decodes a request's JSON body strictly (one value, no
// member its Go type lacks) with errors that say what is wrong and where,
// for the APIs to put in their own words: the engine's REST API and the
// broker's trigger API.
package jsonbody

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// Kind is what is wrong with a body.
type Kind int

const (
	// Syntax: the body is not JSON; Err is encoding/json's error.
	Syntax Kind = iota
	// Truncated: the body ends in the middle of a value.
	Truncated
	// Trailing: something follows the JSON value.
	Trailing
	// WrongType: a value (the body itself when Field is "") is not of the
	// type that goes there: Value says what it is, Type what goes.
	WrongType
	// UnknownField: an object has a member, Field, its type does not;
	// Known lists the members it has, if Index says where it is.
	UnknownField
	// Other: encoding/json's Err, as it is.
	Other
)

// Error is a body Decode refused.
type Error struct {
	Kind Kind
	// Index is the byte (from 0) where the error is, len(body) for the
	// end; -1 where it is not known.
	Index int64
	// Field is the path of the member at fault (resources[1].name), as
	// encoding/json names it for WrongType.
	Field string
	// Value is what the body holds for WrongType ("number", "number 1.5").
	Value string
	// Type is the Go type the value went into, for WrongType.
	Type reflect.Type
	// Name is the unknown field's own name (nme), for UnknownField.
	Name string
	// Known are the members the object with an unknown field takes.
	Known []string
	// Err is encoding/json's error, for Syntax and Other.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("JSON body error %d at byte %d", e.Kind, e.Index)
}

// Decode decodes body, one JSON value, into v, refusing a member v does
// not have (a misspelt field would be dropped, and what it asks for with
// it) and anything after the value. An empty body (or only whitespace)
// leaves v as it is. Its error is an *Error.
func Decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return explain(body, err, v)
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(body[end:], " \t\r\n"); len(rest) > 0 {
		return &Error{Kind: Trailing, Index: int64(len(body) - len(rest))}
	}
	return nil
}

// explain says where a decoding error is: where the syntax breaks, which
// field has the wrong type, which field is unknown.
func explain(body []byte, err error, v any) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		// Offset counts the bytes read, the offending one included.
		return &Error{Kind: Syntax, Index: syntax.Offset - 1, Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Kind: Truncated, Index: int64(len(body)), Err: err}
	case errors.As(err, &typ):
		// Offset is just past the value.
		return &Error{Kind: WrongType, Index: typ.Offset - 1, Field: typ.Field, Value: typ.Value, Type: typ.Type, Err: err}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		path, known, at, found := findUnknownField(body, reflect.TypeOf(v), name)
		if !found {
			return &Error{Kind: UnknownField, Index: -1, Field: name, Name: name, Err: err}
		}
		return &Error{Kind: UnknownField, Index: at, Field: path, Name: name, Known: known, Err: err}
	}
	return &Error{Kind: Other, Index: -1, Err: err}
}

// Position is the line (from 1) and column (bytes, from 1) of the byte at
// index; the end of the body is a position too.
func Position(body []byte, index int64) (line int, column int64) {
	index = min(max(index, 0), int64(len(body)))
	before := body[:index]
	return bytes.Count(before, []byte("\n")) + 1, index - int64(bytes.LastIndexByte(before, '\n'))
}

// DescribeType names what a value of Go type t is in JSON.
func DescribeType(t reflect.Type) string {
	if t == reflect.TypeFor[json.RawMessage]() {
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
		return DescribeType(t.Elem())
	}
	return t.String()
}

// FieldNames lists the JSON names of a struct type's fields.
func FieldNames(t reflect.Type) []string {
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
			names = append(names, FieldNames(f.Type)...)
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
