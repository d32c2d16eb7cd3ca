package feel

// Nodes that produce values: literals, names, paths, lists, contexts,
// ranges and function definitions.

type constNode struct {
	at
	v Value
}

func (n *constNode) eval(*state) Value { return n.v }

// varNode reads a variable from the caller's Scope.
type varNode struct {
	at
	name string
}

func (n *varNode) eval(st *state) Value {
	if st.vars != nil {
		if v, ok := st.vars.Lookup(n.name); ok {
			return v
		}
	}
	st.warn(int(n.at), "no variable found for name %q", n.name)
	return Null
}

func (n *varNode) defined(st *state) bool {
	if st.vars == nil {
		return false
	}
	_, ok := st.vars.Lookup(n.name)
	return ok
}

// localNode reads a binding of the expression itself.
type localNode struct {
	at
	slot int
}

func (n *localNode) eval(st *state) Value { return st.frame[n.slot] }

// itemKeyNode is a name inside a filter: a key of the item being filtered
// (innermost filter first) or, failing that, what the name means outside.
type itemKeyNode struct {
	at
	name     string
	fallback node
}

func (n *itemKeyNode) eval(st *state) Value {
	if v, ok := n.fromItems(st); ok {
		return v
	}
	return n.fallback.eval(st)
}

func (n *itemKeyNode) fromItems(st *state) (Value, bool) {
	for i := len(st.items) - 1; i >= 0; i-- {
		if it := st.items[i]; it.kind == KindContext {
			if v, ok := it.ctx().Get(n.name); ok {
				return v, true
			}
		}
	}
	return Null, false
}

func (n *itemKeyNode) defined(st *state) bool {
	if _, ok := n.fromItems(st); ok {
		return true
	}
	return isDefined(st, n.fallback)
}

// pathNode reads a context entry (a.b), maps over a list of contexts
// ([{a:1},{a:2}].a = [1, 2]) or reads a property of a temporal value or a
// range (d.year, r.start).
type pathNode struct {
	at
	x   node
	key string
}

func (n *pathNode) eval(st *state) Value { return st.path(n.x.eval(st), n.key, int(n.at)) }

func (n *pathNode) defined(st *state) bool {
	if !isDefined(st, n.x) {
		return false
	}
	v := n.x.eval(st)
	if v.kind == KindContext {
		_, ok := v.ctx().Get(n.key)
		return ok
	}
	return !st.path(v, n.key, int(n.at)).IsNull()
}

func (st *state) path(v Value, key string, pos int) Value {
	switch v.kind {
	case KindContext:
		if x, ok := v.ctx().Get(key); ok {
			return x
		}
		st.warn(pos, "no context entry found with key %q", key)
		return Null
	case KindList:
		items := v.items()
		out := make([]Value, len(items))
		for i, it := range items {
			if it.kind == KindContext {
				out[i], _ = it.ctx().Get(key)
			} else {
				out[i] = st.path(it, key, pos)
			}
		}
		return List(out...)
	case KindNull:
		return Null
	}
	if p, ok := property(v, key); ok {
		return p
	}
	st.warn(pos, "a %s has no property %q", v.kind, key)
	return Null
}

type listNode struct {
	at
	items []node
}

func (n *listNode) eval(st *state) Value {
	out := make([]Value, len(n.items))
	for i, x := range n.items {
		out[i] = x.eval(st)
	}
	return List(out...)
}

// contextNode builds a context; each entry is bound so that later entries
// can use it.
type contextNode struct {
	at
	keys  []string
	vals  []node
	slots []int
}

func (n *contextNode) eval(st *state) Value {
	var b ContextBuilder
	b.keys = make([]string, 0, len(n.keys))
	b.vals = make([]Value, 0, len(n.keys))
	for i, x := range n.vals {
		v := x.eval(st)
		if _, isDef := x.(*funcDefNode); isDef {
			// Let a function defined in an entry call itself by name.
			f := (*Function)(v.p)
			if n.slots[i] < len(f.captured) {
				f.captured[n.slots[i]] = v
			}
		}
		st.frame[n.slots[i]] = v
		b.Set(n.keys[i], v)
	}
	return b.Value()
}

type rangeNode struct {
	at
	start, end                 node
	startIncluded, endIncluded bool
}

func (n *rangeNode) eval(st *state) Value {
	s, e := n.start.eval(st), n.end.eval(st)
	if s.kind == KindNull || e.kind == KindNull {
		return Null
	}
	if _, ok := compareValues(s, e); !ok {
		st.warn(int(n.at), "a range cannot go from a %s to a %s", s.kind, e.kind)
		return Null
	}
	return RangeValue(Range{Start: s, End: e, StartIncluded: n.startIncluded, EndIncluded: n.endIncluded})
}

// funcDefNode defines a function; its value captures the bindings in scope.
type funcDefNode struct {
	at
	params []string
	slots  []int
	body   node
	nslots *int // the expression's frame size, known once parsing ends
}

func (n *funcDefNode) eval(st *state) Value {
	f := &Function{params: n.params, def: n, captured: append([]Value(nil), st.frame...)}
	return FunctionValue(f)
}

// isDefined reports whether a name or path exists, for "is defined".
func isDefined(st *state, n node) bool {
	if d, ok := n.(interface{ defined(*state) bool }); ok {
		return d.defined(st)
	}
	return true
}
