package feel

// Iteration: for, some/every, and filters.

// iteration is "name in domain" (or "name in from..to").
type iteration struct {
	pos    int
	domain node
	to     node // set for "from..to"
	slot   int
}

// values returns what an iteration runs over; ok is false (with a warning)
// when the domain is not a list or a range of integers.
func (it *iteration) values(st *state) ([]Value, bool) {
	d := it.domain.eval(st)
	if it.to != nil {
		return st.intRange(it.pos, d, it.to.eval(st), true, true)
	}
	switch d.kind {
	case KindList:
		return d.items(), true
	case KindRange:
		r := (*Range)(d.p)
		if r.StartUnbounded || r.EndUnbounded {
			break
		}
		return st.intRange(it.pos, r.Start, r.End, r.StartIncluded, r.EndIncluded)
	case KindNull:
		return nil, false
	}
	st.warn(it.pos, "cannot iterate over a %s", d.kind)
	return nil, false
}

// intRange lists the integers from a to b (downwards when b < a).
func (st *state) intRange(pos int, a, b Value, inclA, inclB bool) ([]Value, bool) {
	if a.kind != KindNumber || b.kind != KindNumber {
		if a.kind != KindNull && b.kind != KindNull {
			st.warn(pos, "cannot iterate from a %s to a %s", a.kind, b.kind)
		}
		return nil, false
	}
	from, ok1 := a.dec().Int64()
	to, ok2 := b.dec().Int64()
	if !ok1 || !ok2 {
		st.warn(pos, "cannot iterate over a range of numbers that are not integers")
		return nil, false
	}
	step := int64(1)
	if to < from {
		step = -1
	}
	if !inclA {
		from += step
	}
	if !inclB {
		to -= step
	}
	if (to-from)*step < 0 {
		return nil, true
	}
	n := (to-from)*step + 1
	if n < 0 || n > int64(st.limits.MaxLength) {
		st.fail(pos, "range of %d..%d is longer than %d (Limits.MaxLength)", a.n, b.n, st.limits.MaxLength)
	}
	out := make([]Value, n)
	for i := range out {
		out[i] = Int(from + int64(i)*step)
	}
	return out, true
}

// each binds every combination of the iterations' values in turn (the
// last iteration varying fastest) and runs body, which returns false to
// stop early. It returns false when a domain cannot be iterated.
func each(st *state, its []iteration, body func() bool) bool {
	ok, _ := eachFrom(st, its, 0, body)
	return ok
}

func eachFrom(st *state, its []iteration, k int, body func() bool) (ok, more bool) {
	if k == len(its) {
		return true, body()
	}
	it := &its[k]
	vals, ok := it.values(st)
	if !ok {
		return false, false
	}
	for _, v := range vals {
		st.frame[it.slot] = v
		if ok, more := eachFrom(st, its, k+1, body); !ok || !more {
			return ok, more
		}
	}
	return true, true
}

// forNode is "for x in a, y in b return body": the body for every
// combination, in order; "partial" holds the results so far.
type forNode struct {
	at
	its     []iteration
	partial int
	body    node
}

func (n *forNode) eval(st *state) Value {
	out := []Value{}
	ok := each(st, n.its, func() bool {
		st.step(int(n.at))
		st.checkLen(int(n.at), len(out)+1)
		st.frame[n.partial] = List(out[:len(out):len(out)]...)
		out = append(out, n.body.eval(st))
		return true
	})
	if !ok {
		return Null
	}
	return List(out...)
}

// quantNode is "some/every x in a satisfies cond", with FEEL's ternary
// logic over the results (some: true if any is true; every: false if any
// is false; otherwise null if any is not a boolean).
type quantNode struct {
	at
	every bool
	its   []iteration
	cond  node
}

func (n *quantNode) eval(st *state) Value {
	res := Bool(n.every)
	ok := each(st, n.its, func() bool {
		st.step(int(n.at))
		if c := n.cond.eval(st); n.every {
			res = and3(res, c)
		} else {
			res = or3(res, c)
		}
		return res.kind != KindBool || (res.n != 0) == n.every // stop once decided
	})
	if !ok {
		return Null
	}
	return res
}

type filterKind uint8

const (
	filterDynamic filterKind = iota // decided by the first result
	filterIndex                     // a number: the item at that position
	filterBool                      // a condition: the items it holds for
)

// filterNode is list[condition] or list[index] (1-based, negative from
// the end). A value that is not a list filters as a list of one.
type filterNode struct {
	at
	x    node
	cond node
	item int
	mode filterKind
}

func (n *filterNode) eval(st *state) Value {
	v := n.x.eval(st)
	if v.kind == KindNull {
		return Null
	}
	items := []Value{v}
	if v.kind == KindList {
		items = v.items()
	}
	mode := n.mode
	var first Value
	if mode != filterBool && len(items) > 0 {
		first = n.test(st, items[0])
		if first.kind == KindNumber {
			mode = filterIndex
		}
	}
	if mode == filterIndex {
		idx := first
		if n.mode == filterIndex {
			idx = n.cond.eval(st)
		}
		if len(items) == 0 {
			return Null
		}
		return n.index(st, items, idx)
	}
	var out []Value
	for i, it := range items {
		c := first // the first item's result, when already known
		if i > 0 || n.mode == filterBool {
			c = n.test(st, it)
		}
		if c.kind == KindBool && c.n != 0 {
			out = append(out, it)
		}
	}
	if out == nil {
		out = []Value{}
	}
	return List(out...)
}

// test evaluates the condition for one item.
func (n *filterNode) test(st *state, it Value) Value {
	st.step(int(n.at))
	st.frame[n.item] = it
	st.items = append(st.items, it)
	c := n.cond.eval(st)
	st.items[len(st.items)-1] = Null
	st.items = st.items[:len(st.items)-1]
	return c
}

func (n *filterNode) index(st *state, items []Value, idx Value) Value {
	if idx.kind != KindNumber {
		st.warn(int(n.at), "a list index must be a number, not a %s", idx.kind)
		return Null
	}
	i, ok := idx.dec().Int64()
	if !ok {
		st.warn(int(n.at), "a list index must be an integer, not %s", idx.dec())
		return Null
	}
	switch {
	case i > 0 && i <= int64(len(items)):
		return items[i-1]
	case i < 0 && -i <= int64(len(items)):
		return items[int64(len(items))+i]
	}
	st.warn(int(n.at), "index %d is out of range for a list of %d", i, len(items))
	return Null
}
