package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"eddy/record"
)

// Queries read a partition's state for the APIs. They run in the
// partition's loop between batches and copy what they return: the loop goes
// on changing its rows afterwards. They may see the effects of commands
// whose commit is still in flight (see commitpipe.go); those are answered
// only once durable, and a failed commit stops the partition.

// ElementInstanceState is an active element instance as the state holds it.
type ElementInstanceState struct {
	Key int64
	// State is ElementActivating, ElementActivated, ElementCompleting or
	// ElementTerminating.
	State record.Intent
	// Value is as on the element's PROCESS_INSTANCE records: ElementID,
	// ElementType, FlowScopeKey, BpmnProcessID, ...
	Value       record.Value
	IncidentKey int64
	JobKey      int64
	// Variables are the variables set on this scope itself.
	Variables map[string]json.RawMessage
}

// InstanceState is a running process instance: its root, the element
// instances inside it (not those of called processes), and its open
// incidents. Ended instances are not kept in the state.
type InstanceState struct {
	ElementInstanceState
	Elements  []ElementInstanceState
	Incidents []Incident
}

// Incident is an open incident.
type Incident struct {
	Key   int64
	Value record.Value
}

// InstanceState returns the running process instance key.
func (e *Engine) InstanceState(ctx context.Context, key int64) (InstanceState, error) {
	p, err := e.partitionOfKey(key, "a process instance")
	if err != nil {
		return InstanceState{}, err
	}
	if _, local := e.parts[p]; !local && e.peers != nil {
		return e.peers.InstanceState(ctx, p, key)
	}
	return e.localInstanceState(ctx, p, key)
}

func (e *Engine) localInstanceState(ctx context.Context, p int, key int64) (InstanceState, error) {
	var out InstanceState
	found := false
	err := e.query(ctx, p, func(c *Core) {
		root := c.st.elements.get(key)
		if root == nil || root.Key != root.Value.ProcessInstanceKey {
			return
		}
		found = true
		out.ElementInstanceState = elementState(c, root)
		// Walk the scopes breadth first; keys sort each level so that the
		// answer does not depend on map order.
		scopes := []int64{key}
		for len(scopes) > 0 {
			scope := scopes[0]
			scopes = scopes[1:]
			children := slices.Sorted(maps.Keys(c.st.children[scope]))
			for _, k := range children {
				if inst := c.st.elements.get(k); inst != nil && inst.Value.ProcessInstanceKey == key {
					out.Elements = append(out.Elements, elementState(c, inst))
					scopes = append(scopes, k)
				}
			}
		}
		for k, in := range c.st.incidents.rows {
			if in.Value.ProcessInstanceKey == key {
				out.Incidents = append(out.Incidents, Incident{Key: k, Value: in.Value})
			}
		}
	})
	if err != nil {
		return InstanceState{}, err
	}
	if !found {
		return InstanceState{}, &Rejection{Type: record.NotFound, Reason: fmt.Sprintf("Expected to find a running process instance with key '%d', but none was found (it may have ended)", key)}
	}
	slices.SortFunc(out.Incidents, func(a, b Incident) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

func elementState(c *Core, inst *elementInstance) ElementInstanceState {
	s := ElementInstanceState{Key: inst.Key, State: inst.State, Value: inst.Value, IncidentKey: inst.IncidentKey, JobKey: inst.JobKey}
	s.Value.Variables = nil
	if row := c.st.vars.get(inst.Key); row != nil && len(row.Vars) > 0 {
		s.Variables = maps.Clone(row.Vars)
	}
	return s
}

// IncidentQuery selects open incidents.
type IncidentQuery struct {
	// ProcessInstanceKey, if set, keeps the incidents of that instance.
	ProcessInstanceKey int64
	// After, if set, keeps incidents with a greater key (a cursor).
	After int64
	// Limit caps the count returned; 0 means no cap.
	Limit int
}

// Incidents returns the open incidents of every partition, ordered by key:
// with peers, those of the partitions other nodes hold are asked of them.
func (e *Engine) Incidents(ctx context.Context, q IncidentQuery) ([]Incident, error) {
	parts := e.ids
	if e.peers != nil {
		parts = e.allPartitions()
	}
	if q.ProcessInstanceKey != 0 {
		p, err := e.partitionOfKey(q.ProcessInstanceKey, "a process instance")
		if err != nil {
			return nil, err
		}
		parts = []int{p}
	}
	out, err := e.incidentsOf(ctx, parts, q)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Incident) int { return cmp.Compare(a.Key, b.Key) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (e *Engine) incidentsOf(ctx context.Context, parts []int, q IncidentQuery) ([]Incident, error) {
	var out []Incident
	for _, p := range parts {
		var in []Incident
		var err error
		if _, local := e.parts[p]; !local && e.peers != nil {
			// The peer answers for its partition only, with its Limit
			// lowest keys: all the merged page can take from it.
			in, err = e.peers.Incidents(ctx, p, q)
		} else {
			in, err = e.incidentsLocal(ctx, p, q)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in...)
	}
	return out, nil
}

func (e *Engine) incidentsLocal(ctx context.Context, p int, q IncidentQuery) ([]Incident, error) {
	var out []Incident
	err := e.query(ctx, p, func(c *Core) {
		for k, in := range c.st.incidents.rows {
			if k > q.After && (q.ProcessInstanceKey == 0 || in.Value.ProcessInstanceKey == q.ProcessInstanceKey) {
				out = append(out, Incident{Key: k, Value: in.Value})
			}
		}
	})
	return out, err
}

// Only keeps the named variables of the outcome (all when names is empty):
// what fetchVariables asks of a publish-with-result, which PublishRequest
// does not carry.
func (o Outcome) Only(names []string) Outcome {
	o.Variables = filterVariables(o.Variables, names)
	return o
}
