package feel

import "encoding/json"

// Scope supplies variables to an evaluation. Lookup reports whether the
// variable exists; a variable that exists may hold null.
type Scope interface {
	Lookup(name string) (Value, bool)
}

// MapScope is a Scope over a map.
type MapScope map[string]Value

// Lookup implements Scope.
func (m MapScope) Lookup(name string) (Value, bool) {
	v, ok := m[name]
	return v, ok
}

// JSONScope is a Scope over variables held as JSON documents, as the engine
// stores them; each lookup decodes the variable's document. A document that
// is not valid JSON reads as null.
type JSONScope map[string]json.RawMessage

// Lookup implements Scope.
func (m JSONScope) Lookup(name string) (Value, bool) {
	raw, ok := m[name]
	if !ok {
		return Null, false
	}
	v, err := FromJSON(raw)
	if err != nil {
		return Null, true
	}
	return v, true
}

// Scopes chains scopes: the first that has a variable supplies it (a local
// scope before its parents).
type Scopes []Scope

// Lookup implements Scope.
func (s Scopes) Lookup(name string) (Value, bool) {
	for _, sc := range s {
		if sc == nil {
			continue
		}
		if v, ok := sc.Lookup(name); ok {
			return v, true
		}
	}
	return Null, false
}
