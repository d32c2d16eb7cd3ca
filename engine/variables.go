package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"unicode/utf8"

	"eddy/bpmn"
	"eddy/record"
)

// checkDocument validates a variables document from a client: a JSON object
// within the size limit. It returns the reason to reject, or "".
func (c *Core) checkDocument(doc []byte) string {
	if len(doc) > c.limits.MaxVariablesSize {
		return fmt.Sprintf("Expected variables to be at most %d bytes, but the document has %d bytes", c.limits.MaxVariablesSize, len(doc))
	}
	// The document is decoded where it is used; here a scan suffices, and
	// only a bad one is decoded, for parseDocument's reason. json.Valid
	// takes bytes that are not UTF-8 inside strings, which every reader
	// would then get back as JSON that is not JSON (RFC 8259 is UTF-8).
	if d := bytes.TrimSpace(doc); len(d) > 0 && d[0] == '{' && json.Valid(d) {
		if utf8.Valid(d) {
			return ""
		}
		return fmt.Sprintf("Expected variables to be a valid JSON object, but it is not UTF-8 at byte %d (JSON text is UTF-8)", notUTF8At(doc))
	}
	if _, err := parseDocument(doc); err != nil {
		return err.Error()
	}
	return ""
}

// parseDocument decodes a JSON object of variables; empty input is {}.
func parseDocument(doc []byte) (map[string]json.RawMessage, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || string(doc) == "null" {
		return nil, nil
	}
	if doc[0] != '{' {
		return nil, fmt.Errorf("Expected variables to be a JSON object, but got %s", describeJSON(doc))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("Expected variables to be a valid JSON object, but it is not: %v", err)
	}
	return m, nil
}

// notUTF8At is the index of the first byte of doc that is not UTF-8.
func notUTF8At(doc []byte) int {
	for i := 0; i < len(doc); {
		r, n := utf8.DecodeRune(doc[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(doc)
}

func describeJSON(doc []byte) string {
	if len(doc) > 40 {
		return string(doc[:40]) + "…"
	}
	return string(doc)
}

// setVariable sets name in scope (an element instance key), writing a
// VARIABLE record when the value changes.
func (c *Core) setVariable(scope *elementInstance, name string, value json.RawMessage) {
	if len(value) == 0 {
		value = json.RawMessage("null")
	}
	row := c.st.vars.get(scope.Key)
	if row == nil {
		row = &variables{Vars: map[string]json.RawMessage{}}
	}
	old, exists := row.Vars[name]
	if exists && bytes.Equal(old, value) {
		return
	}
	row.Vars[name] = value
	c.st.vars.put(scope.Key, row)
	v := record.Value{
		Name: name, JSONValue: value, ScopeKey: scope.Key,
		ProcessInstanceKey: scope.Value.ProcessInstanceKey, ProcessDefinitionKey: scope.Value.ProcessDefinitionKey,
		BpmnProcessID: scope.Value.BpmnProcessID,
	}
	in := record.Created
	if exists {
		in = record.Updated
	}
	c.event(record.Variable, in, c.newKey(), &v)
}

// setLocalVariables sets every variable of doc in scope itself.
func (c *Core) setLocalVariables(scope *elementInstance, doc json.RawMessage) {
	if scope == nil {
		return
	}
	m, err := parseDocument(doc)
	if err != nil {
		return // documents are checked before they reach the state
	}
	for _, name := range sortedNames(m) {
		c.setVariable(scope, name, m[name])
	}
}

// propagateVariables sets each variable of doc in the nearest scope, from
// scope upwards, that already has it, else in the process instance: Zeebe's
// rule for job and message variables.
func (c *Core) propagateVariables(scope *elementInstance, doc json.RawMessage) {
	m, err := parseDocument(doc)
	if err != nil || len(m) == 0 {
		return
	}
	for _, name := range sortedNames(m) {
		target := scope
		for s := scope; s != nil; s = c.st.elements.get(s.Value.FlowScopeKey) {
			if row := c.st.vars.get(s.Key); row != nil {
				if _, ok := row.Vars[name]; ok {
					target = s
					break
				}
			}
			if s.Key == s.Value.ProcessInstanceKey {
				target = s
				break
			}
		}
		c.setVariable(target, name, m[name])
	}
}

// lookupVariable finds name from scope upwards within its process instance.
func (c *Core) lookupVariable(scope int64, name string) (json.RawMessage, bool) {
	for s := scope; s > 0; {
		if row := c.st.vars.get(s); row != nil {
			if v, ok := row.Vars[name]; ok {
				return v, true
			}
		}
		inst := c.st.elements.get(s)
		if inst == nil || inst.Key == inst.Value.ProcessInstanceKey {
			break
		}
		s = inst.Value.FlowScopeKey
	}
	return nil, false
}

// visibleVariables returns the variables visible from scope as a JSON
// object; only names if names is not empty.
func (c *Core) visibleVariables(scope int64, names []string) json.RawMessage {
	all := map[string]json.RawMessage{}
	if len(names) > 0 {
		for _, n := range names {
			if v, ok := c.lookupVariable(scope, n); ok {
				all[n] = v
			}
		}
		return mustJSON(all)
	}
	for s := scope; s > 0; {
		if row := c.st.vars.get(s); row != nil {
			for k, v := range row.Vars {
				if _, shadowed := all[k]; !shadowed {
					all[k] = v
				}
			}
		}
		inst := c.st.elements.get(s)
		if inst == nil || inst.Key == inst.Value.ProcessInstanceKey {
			break
		}
		s = inst.Value.FlowScopeKey
	}
	return mustJSON(all)
}

// collectVariables returns a scope's own variables as a JSON object.
func (c *Core) collectVariables(scope int64) json.RawMessage {
	row := c.st.vars.get(scope)
	if row == nil {
		return json.RawMessage("{}")
	}
	return mustJSON(row.Vars)
}

// applyMappings evaluates mappings in the context of evalScope and sets
// their targets: locally in target (input mappings) or propagated from it.
func (c *Core) applyMappings(inst *elementInstance, mappings []bpmn.Mapping, evalScope int64, target int64, local bool) error {
	results := make(map[string]json.RawMessage, len(mappings))
	var order []string
	for i := range mappings {
		m := &mappings[i]
		val := json.RawMessage("null")
		if !m.Source.IsZero() {
			v, err := c.evalJSON(&m.Source, evalScope)
			if err != nil {
				return fmt.Errorf("mapping to '%s': %v", m.Target, err)
			}
			val = v
		}
		if _, seen := results[m.Target]; !seen {
			order = append(order, m.Target)
		}
		results[m.Target] = val
	}
	ts := c.st.elements.get(target)
	if ts == nil {
		return nil
	}
	for _, name := range order {
		if local {
			c.setVariable(ts, name, results[name])
		} else {
			c.propagateVariables(ts, objectOf(name, results[name]))
		}
	}
	return nil
}

// completionVariables maps what inst produced (a job's or a message's
// variables, a script's result) into the instance, as Zeebe does: with
// output mappings, the payload becomes local to inst and the mappings'
// results are merged from its flow scope upwards (from inst itself for an
// inner instance of a multi-instance body, whose output element lives
// there); without, the payload is merged from inst upwards, so a variable
// inst has locally (an input mapping, a loop variable) takes it.
func (c *Core) completionVariables(inst *elementInstance, el *bpmn.Element) error {
	if inst.Key == inst.Value.ProcessInstanceKey {
		return nil
	}
	if len(el.Outputs) > 0 {
		if len(inst.Payload) > 0 {
			c.setLocalVariables(inst, inst.Payload)
			inst.Payload = nil
		}
		target := inst.Value.FlowScopeKey
		if c.isInner(inst) {
			target = inst.Key
		}
		return c.applyMappings(inst, el.Outputs, inst.Key, target, false)
	}
	if len(inst.Payload) > 0 {
		c.propagateVariables(inst, inst.Payload)
		inst.Payload = nil
	}
	return nil
}

// setVariables is the SET VARIABLES command on a scope.
func (c *Core) setVariables(cmd *record.Record) Response {
	scope := c.st.elements.get(cmd.Value.ScopeKey)
	if scope == nil {
		return c.reject(cmd, record.NotFound, fmt.Sprintf("Expected to update variables for element with key '%d', but no such element was found", cmd.Value.ScopeKey))
	}
	if reason := c.checkDocument(cmd.Value.Variables); reason != "" {
		return c.reject(cmd, record.InvalidArgument, reason)
	}
	if cmd.Value.Local {
		c.setLocalVariables(scope, cmd.Value.Variables)
	} else {
		c.propagateVariables(scope, cmd.Value.Variables)
	}
	v := cmd.Value
	v.ProcessInstanceKey, v.BpmnProcessID = scope.Value.ProcessInstanceKey, scope.Value.BpmnProcessID
	key := c.newKey()
	ev := c.event(record.VariableDocument, record.Updated, key, &v)
	return Response{Record: *ev}
}

func objectOf(name string, value json.RawMessage) json.RawMessage {
	return mustJSON(map[string]json.RawMessage{name: value})
}

func sortedNames(m map[string]json.RawMessage) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
