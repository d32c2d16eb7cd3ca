package zeebe

import (
	"bytes"
	"encoding/json"
)

// document checks a JSON document of variables: empty (no variables) or an
// object, as Zeebe requires.
func document(field, doc string) (json.RawMessage, error) {
	b := bytes.TrimSpace([]byte(doc))
	if len(b) == 0 {
		return nil, nil
	}
	if !json.Valid(b) {
		return nil, invalid("Property '%s' is invalid: Expected document to be valid JSON, but it is not: %s", field, excerpt(doc))
	}
	if b[0] != '{' {
		return nil, invalid("Property '%s' is invalid: Expected document to be a root level object, but was '%s'", field, jsonKind(b[0]))
	}
	return b, nil
}

func jsonKind(first byte) string {
	switch first {
	case '[':
		return "ARRAY"
	case '"':
		return "STRING"
	case 't', 'f':
		return "BOOLEAN"
	case 'n':
		return "NULL"
	}
	return "NUMBER"
}

// excerpt quotes the start of a long document.
func excerpt(s string) string {
	const n = 60
	if len(s) > n {
		s = s[:n] + "..."
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// objectOrEmpty is a JSON document for the wire: "{}" when there is none.
func objectOrEmpty(doc []byte) string {
	if len(doc) == 0 {
		return "{}"
	}
	return string(doc)
}

// mergeObjects merges JSON object b into a (b's values win).
func mergeObjects(a, b json.RawMessage) (json.RawMessage, error) {
	if len(a) == 0 {
		return b, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a, &m); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}
