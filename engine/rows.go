package engine

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"eddy/record"
)

// The hot tables (element instances, jobs, variables, incidents) are
// written on almost every command, so their rows use a compact binary form
// instead of JSON: a format byte, then the fields in a fixed order. A field
// added later goes at the end; older rows simply stop before it and read
// as zero. Rows written as JSON (they start with '{') still load.

const rowFormatV1 = 1

var errRowShort = errors.New("row ends early")

type rowWriter struct{ b []byte }

func (w *rowWriter) int(v int64) { w.b = binary.AppendVarint(w.b, v) }
func (w *rowWriter) bytes(p []byte) {
	w.b = binary.AppendUvarint(w.b, uint64(len(p)))
	w.b = append(w.b, p...)
}
func (w *rowWriter) str(s string) {
	w.b = binary.AppendUvarint(w.b, uint64(len(s)))
	w.b = append(w.b, s...)
}
func (w *rowWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}
func (w *rowWriter) value(v *record.Value) {
	// Length-prefixed: the value codec reads to the end of its input.
	at := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	w.b = record.AppendValue(w.b, v)
	binary.BigEndian.PutUint32(w.b[at:], uint32(len(w.b)-at-4))
}

// rowReader reads fields in the order they were written; past the end of
// the row every field reads as zero.
type rowReader struct {
	b   []byte
	err error
}

func (r *rowReader) int() int64 {
	if len(r.b) == 0 || r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errRowShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns a copy (nil when empty): rows outlive the buffer they are
// read from.
func (r *rowReader) bytes() []byte {
	if len(r.b) == 0 || r.err != nil {
		return nil
	}
	l, n := binary.Uvarint(r.b)
	if n <= 0 || uint64(len(r.b)-n) < l {
		r.err = errRowShort
		return nil
	}
	p := r.b[n : n+int(l)]
	r.b = r.b[n+int(l):]
	if len(p) == 0 {
		return nil
	}
	return slices.Clone(p)
}

func (r *rowReader) str() string { return string(r.bytes()) }

func (r *rowReader) bool() bool {
	if len(r.b) == 0 || r.err != nil {
		return false
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v != 0
}

func (r *rowReader) value(v *record.Value) {
	if len(r.b) == 0 || r.err != nil {
		return
	}
	if len(r.b) < 4 {
		r.err = errRowShort
		return
	}
	l := binary.BigEndian.Uint32(r.b)
	if uint64(len(r.b)-4) < uint64(l) {
		r.err = errRowShort
		return
	}
	if err := record.UnmarshalValue(r.b[4:4+l], v); err != nil {
		r.err = err
	}
	r.b = r.b[4+l:]
}

// rowCodec encodes rows of one table.
type rowCodec[T any] struct {
	encode func(w *rowWriter, v *T)
	decode func(r *rowReader, v *T)
}

func (c *rowCodec[T]) marshal(dst []byte, v *T) []byte {
	w := rowWriter{b: append(dst, rowFormatV1)}
	c.encode(&w, v)
	return w.b
}

func (c *rowCodec[T]) unmarshal(data []byte, v *T) error {
	if len(data) == 0 {
		return errors.New("empty row")
	}
	if data[0] == '{' {
		return json.Unmarshal(data, v)
	}
	if data[0] != rowFormatV1 {
		return fmt.Errorf("unknown row format %d", data[0])
	}
	r := rowReader{b: data[1:]}
	c.decode(&r, v)
	return r.err
}

var elementCodec = &rowCodec[elementInstance]{
	encode: func(w *rowWriter, e *elementInstance) {
		w.int(e.Key)
		w.int(int64(e.State))
		w.value(&e.Value)
		w.int(int64(e.Active))
		w.int(int64(len(e.Joins)))
		for _, k := range sortedKeys32(e.Joins) {
			w.int(int64(k))
			w.int(int64(e.Joins[k]))
		}
		w.int(e.JobKey)
		w.bool(e.Interrupted)
		if e.Pending != nil {
			w.bool(true)
			w.int(int64(e.Pending.Element))
			w.bytes(e.Pending.Variables)
		} else {
			w.bool(false)
		}
		w.int(int64(e.Loop))
		w.int(int64(e.Completed))
		w.bytes(e.Items)
		w.int(int64(len(e.Results)))
		for _, r := range e.Results {
			// A result may be absent (nil) or JSON null: keep them apart.
			if r == nil {
				w.int(-1)
				continue
			}
			w.int(int64(len(r)))
			w.b = append(w.b, r...)
		}
		w.int(e.Called)
		w.int(e.IncidentKey)
		w.bytes(e.Payload)
		w.bool(e.Triggered)
		w.int(int64(len(e.Flows)))
		for _, f := range e.Flows {
			w.int(int64(f))
		}
	},
	decode: func(r *rowReader, e *elementInstance) {
		e.Key = r.int()
		e.State = record.Intent(r.int())
		r.value(&e.Value)
		e.Active = int32(r.int())
		if n := r.count(); n > 0 {
			e.Joins = make(map[int32]int32, n)
			for range n {
				k := int32(r.int())
				e.Joins[k] = int32(r.int())
			}
		}
		e.JobKey = r.int()
		e.Interrupted = r.bool()
		if r.bool() {
			e.Pending = &pendingActivation{Element: int32(r.int()), Variables: r.bytes()}
		}
		e.Loop = int32(r.int())
		e.Completed = int32(r.int())
		e.Items = r.bytes()
		if n := r.count(); n > 0 {
			e.Results = make([]json.RawMessage, n)
			for i := range e.Results {
				e.Results[i] = r.raw()
			}
		}
		e.Called = r.int()
		e.IncidentKey = r.int()
		e.Payload = r.bytes()
		e.Triggered = r.bool()
		if n := r.count(); n > 0 {
			e.Flows = make([]int32, n)
			for i := range e.Flows {
				e.Flows[i] = int32(r.int())
			}
		}
	},
}

// count reads a collection length, refusing one the row cannot hold.
func (r *rowReader) count() int {
	n := r.int()
	if n < 0 || n > int64(len(r.b)) {
		if n != 0 && r.err == nil {
			r.err = fmt.Errorf("row holds a collection of %d items in %d bytes", n, len(r.b))
		}
		return 0
	}
	return int(n)
}

// raw reads a result slot written with a signed length (-1: absent).
func (r *rowReader) raw() []byte {
	n := r.int()
	switch {
	case r.err != nil || n < 0:
		return nil
	case n > int64(len(r.b)):
		r.err = errRowShort
		return nil
	}
	p := slices.Clone(r.b[:n])
	r.b = r.b[n:]
	return p
}

var jobCodec = &rowCodec[job]{
	encode: func(w *rowWriter, j *job) {
		w.int(j.Key)
		w.int(int64(j.State))
		w.value(&j.Value)
	},
	decode: func(r *rowReader, j *job) {
		j.Key = r.int()
		j.State = int(r.int())
		r.value(&j.Value)
	},
}

var incidentCodec = &rowCodec[incident]{
	encode: func(w *rowWriter, i *incident) {
		w.int(i.Key)
		w.value(&i.Value)
	},
	decode: func(r *rowReader, i *incident) {
		i.Key = r.int()
		r.value(&i.Value)
	},
}

var variablesCodec = &rowCodec[variables]{
	encode: func(w *rowWriter, v *variables) {
		names := make([]string, 0, len(v.Vars))
		for n := range v.Vars {
			names = append(names, n)
		}
		slices.Sort(names)
		w.int(int64(len(names)))
		for _, n := range names {
			w.str(n)
			w.bytes(v.Vars[n])
		}
	},
	decode: func(r *rowReader, v *variables) {
		n := r.count()
		v.Vars = make(map[string]json.RawMessage, n)
		for range n {
			name := r.str()
			v.Vars[name] = r.bytes()
		}
	},
}

func sortedKeys32(m map[int32]int32) []int32 {
	ks := make([]int32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
