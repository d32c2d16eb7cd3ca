package processor

import (
	"encoding/json"
	"fmt"
)

// SequencingPolicy returns an event's sequence id. Events with the same id
// are handled one after another, in stream order, whatever the parallelism:
// the id decides the event's segment. "" means the event belongs to no
// sequence and may be handled in parallel with any other; such events are
// spread over the segments by position.
type SequencingPolicy func(e *Event) string

// PerKey sequences events by Event.Key: events about one entity stay in
// order. It is the default.
func PerKey() SequencingPolicy { return func(e *Event) string { return e.Key } }

// FullConcurrency puts every event in a sequence of its own.
func FullConcurrency() SequencingPolicy { return func(*Event) string { return "" } }

// Sequential puts every event in one sequence: one segment handles them all,
// in order.
func Sequential() SequencingPolicy { return func(*Event) string { return "*" } }

// ByMetadata sequences events by the value of a metadata key; events without
// it belong to no sequence.
func ByMetadata(key string) SequencingPolicy {
	return func(e *Event) string { return e.Metadata[key] }
}

// ByProperty sequences events whose decoded Value is a T by the property
// that prop returns; other events fall back to their key, as PerKey does.
func ByProperty[T any](prop func(T) string) SequencingPolicy {
	return func(e *Event) string {
		if v, ok := e.Value.(T); ok {
			return prop(v)
		}
		return e.Key
	}
}

// ByJSONField sequences events by a top-level field of their JSON payload
// (a string as is, any other value as its JSON text); events whose payload is
// not a JSON object, or lacks the field, fall back to their key.
func ByJSONField(name string) SequencingPolicy {
	return func(e *Event) string {
		var obj map[string]json.RawMessage
		if json.Unmarshal(e.Data, &obj) != nil {
			return e.Key
		}
		raw, ok := obj[name]
		if !ok {
			return e.Key
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
}

// sequenceHash places an event on a segment: an event belongs to segment
// (id, mask) when hash&mask == id. It must give the same value on every node
// and in every version, or segments would change hands: FNV-1a of the
// sequence id, and a fixed mix of the position for events of no sequence.
func sequenceHash(id string, p Position) uint32 {
	if id != "" {
		return fnv1a(id)
	}
	x := p.Offset*0x9e3779b97f4a7c15 ^ uint64(p.Partition)*0xbf58476d1ce4e5b9
	if p.Stream != "" {
		x ^= uint64(fnv1a(p.Stream)) << 16
	}
	// splitmix64's finalizer: every input bit moves every output bit.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return uint32(x >> 32)
}

func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// deadLetterSequence is the id an event is parked under in the dead-letter
// queue: its sequence id, or, for an event of no sequence, one made from its
// position, so that it is parked alone.
func deadLetterSequence(id string, p Position) string {
	if id != "" {
		return id
	}
	return fmt.Sprintf("@%s", p)
}
