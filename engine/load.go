package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"eddy/storage"
)

// LoadState reads partition p's state from store and rebuilds the indexes
// that are kept only in memory.
func LoadState(ctx context.Context, store *storage.Store, p int) (*State, error) {
	st := newState()
	var events loadedEvents
	tables := map[byte]interface {
		load(key, value []byte) error
	}{
		'd': st.definitions, 'e': st.elements, 'v': st.vars, 'j': st.jobs, 't': st.timers,
		'g': st.messages, 's': st.msgSubs, 'p': st.procSubs, 'n': st.signalSubs, 'i': st.incidents,
		eventRowPrefix: &events,
	}
	err := store.Scan(ctx, p, []byte{keyspace}, func(key, value []byte) error {
		if string(key) == string(metaKey) {
			return json.Unmarshal(value, &st.meta)
		}
		t, ok := tables[key[1]]
		if !ok {
			return fmt.Errorf("partition %d state has an engine key %q of no known table", p, key)
		}
		return t.load(key, value)
	})
	if err != nil {
		return nil, fmt.Errorf("loading the state of partition %d: %w", p, err)
	}
	st.reindex()
	st.events.restore(events)
	return st, nil
}

// reindex rebuilds the in-memory indexes from the tables.
func (st *State) reindex() {
	for _, d := range st.definitions.rows {
		st.indexDefinition(d)
	}
	for k, e := range st.elements.rows {
		if k == e.Value.ProcessInstanceKey && e.Value.CorrelationKey != "" {
			st.startedBy[nameKey(e.Value.BpmnProcessID, e.Value.CorrelationKey)] = k
		}
		if e.Value.FlowScopeKey > 0 {
			m := st.children[e.Value.FlowScopeKey]
			if m == nil {
				m = map[int64]struct{}{}
				st.children[e.Value.FlowScopeKey] = m
			}
			m[k] = struct{}{}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(st.jobs.rows)) {
		j := st.jobs.rows[k]
		switch j.State {
		case jobActivatable:
			st.activatable[j.Value.JobType] = append(st.activatable[j.Value.JobType], k)
		case jobActivated:
			st.schedule(j.Value.Deadline, dueJobTimeout, k)
		case jobBackoff:
			st.schedule(j.Value.Deadline, dueJobBackoff, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(st.timers.rows)) {
		t := st.timers.rows[k]
		st.schedule(t.Due, dueTimer, k)
		if t.ElementInstanceKey != 0 {
			st.timersOf[t.ElementInstanceKey] = append(st.timersOf[t.ElementInstanceKey], k)
		} else {
			st.startTimers[t.Definition] = append(st.startTimers[t.Definition], k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(st.messages.rows)) {
		m := st.messages.rows[k]
		nk := nameKey(m.Name, m.CorrelationKey)
		st.byName[nk] = append(st.byName[nk], k)
		if m.MessageID != "" {
			st.messageIDs[messageIDKey(m.Name, m.CorrelationKey, m.MessageID)] = k
		}
		st.schedule(m.Deadline, dueMessageTTL, k)
	}
	for _, k := range slices.Sorted(maps.Keys(st.msgSubs.rows)) {
		s := st.msgSubs.rows[k]
		nk := nameKey(s.Name, s.CorrelationKey)
		st.subsByName[nk] = append(st.subsByName[nk], k)
	}
	for _, k := range slices.Sorted(maps.Keys(st.procSubs.rows)) {
		s := st.procSubs.rows[k]
		st.subsOf[s.ElementInstanceKey] = append(st.subsOf[s.ElementInstanceKey], k)
	}
	for _, k := range slices.Sorted(maps.Keys(st.signalSubs.rows)) {
		s := st.signalSubs.rows[k]
		st.signalsOf[s.Name] = append(st.signalsOf[s.Name], k)
		if s.ElementInstanceKey != 0 {
			st.sigOf[s.ElementInstanceKey] = append(st.sigOf[s.ElementInstanceKey], k)
		}
	}
}
