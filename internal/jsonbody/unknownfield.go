package jsonbody

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// encoding/json reports an unknown field by name only. findUnknownField
// walks the body again along the request type to say where it is: its path
// (resources[1].nme), its offset, and the fields that object takes.
func findUnknownField(body []byte, top reflect.Type, name string) (path string, known []string, offset int64, ok bool) {
	type frame struct {
		t       reflect.Type // nil: anything goes (a variables document)
		object  bool
		path    string
		index   int
		wantKey bool
		next    reflect.Type // type of the value after the current key
		key     string
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	// childOf returns the type and path of the value about to start.
	childOf := func() (reflect.Type, string) {
		if len(stack) == 0 {
			return top, ""
		}
		f := stack[len(stack)-1]
		if f.object {
			return f.next, joinPath(f.path, f.key)
		}
		p := f.path + "[" + strconv.Itoa(f.index) + "]"
		f.index++
		if f.t == nil {
			return nil, p
		}
		return f.t.Elem(), p
	}
	valueDone := func() {
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].wantKey = true
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", nil, 0, false
		}
		if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantKey {
			f := stack[len(stack)-1]
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				valueDone()
				continue
			}
			key, _ := tok.(string)
			f.key, f.wantKey, f.next = key, false, nil
			if f.t == nil {
				continue
			}
			switch f.t.Kind() {
			case reflect.Map:
				f.next = f.t.Elem()
			case reflect.Struct:
				ft, found := fieldType(f.t, key)
				if !found && key == name {
					for start < int64(len(body)) && bytes.IndexByte([]byte(" \t\r\n,"), body[start]) >= 0 {
						start++
					}
					return joinPath(f.path, key), FieldNames(f.t), start, true
				}
				f.next = ft
			}
			continue
		}
		t, p := childOf()
		t = indirect(t)
		switch tok {
		case json.Delim('{'):
			if t != nil && t.Kind() != reflect.Struct && t.Kind() != reflect.Map {
				t = nil
			}
			stack = append(stack, &frame{t: t, object: true, path: p, wantKey: true})
		case json.Delim('['):
			if t != nil && t.Kind() != reflect.Slice && t.Kind() != reflect.Array || t == reflect.TypeFor[json.RawMessage]() {
				t = nil
			}
			stack = append(stack, &frame{t: t, path: p})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

func indirect(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldType finds a struct field by JSON name as encoding/json does: an
// exact match, else one that differs only in case.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			if ft, ok := fieldType(indirect(f.Type), key); ok {
				return ft, true
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f.Type, true
		}
		if fold == nil && strings.EqualFold(name, key) {
			fold = f.Type
		}
	}
	return fold, fold != nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
