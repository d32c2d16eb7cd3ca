package feel

import (
	"slices"
	"sort"
)

// aggregate reads the items of an aggregate function, which takes a list
// or its items as arguments: sum([1, 2]) = sum(1, 2).
func aggregate(args []Value) []Value {
	if len(args) == 1 && args[0].kind == KindList {
		return args[0].items()
	}
	return args
}

// numbers reads aggregate items that must all be numbers.
func (c *call) numbers(args []Value) ([]Decimal, bool) {
	items := aggregate(args)
	out := make([]Decimal, len(items))
	for i, it := range items {
		if it.kind != KindNumber {
			c.null("expects numbers, not a %s", it.kind)
			return nil, false
		}
		out[i] = it.dec()
	}
	return out, true
}

func sumOf(ds []Decimal) (Decimal, bool) {
	s := Decimal{}
	for _, d := range ds {
		var ok bool
		if s, ok = s.Add(d); !ok {
			return Decimal{}, false
		}
	}
	return s, true
}

func init() {
	define("list contains", []string{"list", "element"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		for _, it := range items {
			if eq, ok := equalValues(it, args[1]); ok && eq {
				return trueValue
			}
		}
		return falseValue
	})
	define("count", []string{"list"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		return Int(int64(len(items)))
	})
	defineVariadic("min", []string{"list"}, func(c *call, args []Value) Value { return extreme(c, args, -1) })
	defineVariadic("max", []string{"list"}, func(c *call, args []Value) Value { return extreme(c, args, 1) })
	defineVariadic("sum", []string{"list"}, numbersFn(func(ds []Decimal) (Decimal, bool) { return sumOf(ds) }))
	defineVariadic("product", []string{"list"}, numbersFn(func(ds []Decimal) (Decimal, bool) {
		p := Decimal{u: 1}
		for _, d := range ds {
			var ok bool
			if p, ok = p.Mul(d); !ok {
				return Decimal{}, false
			}
		}
		return p, true
	}))
	defineVariadic("mean", []string{"list"}, numbersFn(mean))
	defineVariadic("median", []string{"list"}, numbersFn(func(ds []Decimal) (Decimal, bool) {
		s := slices.Clone(ds)
		slices.SortFunc(s, Decimal.Cmp)
		if len(s)%2 == 1 {
			return s[len(s)/2], true
		}
		return mean(s[len(s)/2-1 : len(s)/2+1])
	}))
	defineVariadic("stddev", []string{"list"}, numbersFn(stddev))
	defineVariadic("mode", []string{"list"}, func(c *call, args []Value) Value {
		ds, ok := c.numbers(args)
		if !ok {
			return Null
		}
		return mode(ds)
	})
	defineVariadic("all", []string{"list"}, func(c *call, args []Value) Value { return allAny(c, args, true) })
	defineVariadic("any", []string{"list"}, func(c *call, args []Value) Value { return allAny(c, args, false) })
	define("sublist", []string{"list", "start position"}, sublist)
	define("sublist", []string{"list", "start position", "length"}, sublist)
	defineVariadic("append", []string{"list", "items"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		c.st.checkLen(c.pos, len(items)+len(args)-1)
		return List(append(slices.Clip(items), args[1:]...)...)
	})
	defineVariadic("concatenate", []string{"lists"}, func(c *call, args []Value) Value {
		out, ok := c.concat(args)
		if !ok {
			return Null
		}
		return List(out...)
	})
	define("insert before", []string{"list", "position", "newItem"}, func(c *call, args []Value) Value {
		items, i, ok := c.position(args)
		if !ok {
			return Null
		}
		return List(slices.Insert(slices.Clone(items), i, args[2])...)
	})
	define("remove", []string{"list", "position"}, func(c *call, args []Value) Value {
		items, i, ok := c.position(args)
		if !ok {
			return Null
		}
		return List(slices.Delete(slices.Clone(items), i, i+1)...)
	})
	define("reverse", []string{"list"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		out := slices.Clone(items)
		slices.Reverse(out)
		return List(out...)
	})
	define("index of", []string{"list", "match"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		out := []Value{}
		for i, it := range items {
			if eq, ok := equalValues(it, args[1]); ok && eq {
				out = append(out, Int(int64(i+1)))
			}
		}
		return List(out...)
	})
	defineVariadic("union", []string{"lists"}, func(c *call, args []Value) Value {
		out, ok := c.concat(args)
		if !ok {
			return Null
		}
		return List(distinct(c, out)...)
	})
	define("distinct values", []string{"list"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		return List(distinct(c, items)...)
	})
	define("flatten", []string{"list"}, func(c *call, args []Value) Value {
		items, ok := c.list(args[0], "list")
		if !ok {
			return Null
		}
		out := []Value{}
		flatten(c, items, &out)
		return List(out...)
	})
	define("sort", []string{"list", "precedes"}, sortFn)
	define("sort", []string{"list"}, sortFn)
}

func numbersFn(f func([]Decimal) (Decimal, bool)) func(c *call, args []Value) Value {
	return func(c *call, args []Value) Value {
		ds, ok := c.numbers(args)
		if !ok {
			return Null
		}
		if len(ds) == 0 {
			return c.null("the list is empty")
		}
		r, ok := f(ds)
		if !ok {
			return c.null("the result is out of range")
		}
		return Number(r)
	}
}

func mean(ds []Decimal) (Decimal, bool) {
	s, ok := sumOf(ds)
	if !ok {
		return Decimal{}, false
	}
	return s.Quo(Decimal{u: int64(len(ds))})
}

// stddev is the sample standard deviation (n - 1 in the denominator).
func stddev(ds []Decimal) (Decimal, bool) {
	if len(ds) < 2 {
		return Decimal{}, false
	}
	m, ok := mean(ds)
	if !ok {
		return Decimal{}, false
	}
	var sq Decimal
	for _, d := range ds {
		x, ok1 := d.Sub(m)
		x2, ok2 := x.Mul(x)
		var ok3 bool
		sq, ok3 = sq.Add(x2)
		if !ok1 || !ok2 || !ok3 {
			return Decimal{}, false
		}
	}
	v, ok := sq.Quo(Decimal{u: int64(len(ds) - 1)})
	if !ok {
		return Decimal{}, false
	}
	return v.Sqrt()
}

// mode returns the most frequent numbers, ascending.
func mode(ds []Decimal) Value {
	s := slices.Clone(ds)
	slices.SortFunc(s, Decimal.Cmp)
	best := 0
	var out []Value
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j].Cmp(s[i]) == 0 {
			j++
		}
		switch n := j - i; {
		case n > best:
			best, out = n, []Value{Number(s[i])}
		case n == best:
			out = append(out, Number(s[i]))
		}
		i = j
	}
	if out == nil {
		out = []Value{}
	}
	return List(out...)
}

// extreme returns the least (dir -1) or greatest (dir 1) item.
func extreme(c *call, args []Value, dir int) Value {
	items := aggregate(args)
	if len(items) == 0 {
		return c.null("the list is empty")
	}
	best := items[0]
	for _, it := range items[1:] {
		cmp, ok := compareValues(it, best)
		if !ok {
			return c.null("cannot compare a %s with a %s", it.kind, best.kind)
		}
		if cmp == dir {
			best = it
		}
	}
	return best
}

func allAny(c *call, args []Value, all bool) Value {
	items := args
	if len(args) == 1 {
		switch v := args[0]; v.kind {
		case KindList:
			items = v.items()
		case KindBool:
		default:
			return c.typeError("list", "a list of booleans", v)
		}
	}
	res := Bool(all)
	for _, it := range items {
		if all {
			res = and3(res, it)
		} else {
			res = or3(res, it)
		}
	}
	return res
}

func sublist(c *call, args []Value) Value {
	items, ok1 := c.list(args[0], "list")
	start, ok2 := c.integer(args[1], "start position")
	if !ok1 || !ok2 {
		return Null
	}
	n := int64(len(items))
	from := start - 1
	if start < 0 {
		from = n + start
	}
	if from < 0 || from >= n {
		return c.null("start position %d is out of range for a list of %d", start, n)
	}
	to := n
	if len(args) == 3 {
		l, ok := c.integer(args[2], "length")
		if !ok {
			return Null
		}
		if l < 0 || from+l > n {
			return c.null("length %d is out of range", l)
		}
		to = from + l
	}
	return List(slices.Clone(items[from:to])...)
}

// position reads (list, position) and returns the 0-based index.
func (c *call) position(args []Value) ([]Value, int, bool) {
	items, ok1 := c.list(args[0], "list")
	pos, ok2 := c.integer(args[1], "position")
	if !ok1 || !ok2 {
		return nil, 0, false
	}
	n := int64(len(items))
	i := pos - 1
	if pos < 0 {
		i = n + pos
	}
	if pos == 0 || i < 0 || i >= n {
		c.null("position %d is out of range for a list of %d", pos, n)
		return nil, 0, false
	}
	return items, int(i), true
}

func (c *call) concat(args []Value) ([]Value, bool) {
	total := 0
	for _, a := range args {
		if a.kind != KindList {
			c.typeError("lists", "lists", a)
			return nil, false
		}
		total += len(a.items())
	}
	c.st.checkLen(c.pos, total)
	out := make([]Value, 0, total)
	for _, a := range args {
		out = append(out, a.items()...)
	}
	return out, true
}

// distinct keeps the first of equal items, in order.
func distinct(c *call, items []Value) []Value {
	out := []Value{}
	for _, it := range items {
		c.st.work(c.pos, len(out))
		dup := false
		for _, o := range out {
			if eq, ok := equalValues(it, o); ok && eq {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, it)
		}
	}
	return out
}

func flatten(c *call, items []Value, out *[]Value) {
	for _, it := range items {
		if it.kind == KindList {
			flatten(c, it.items(), out)
			continue
		}
		c.st.checkLen(c.pos, len(*out)+1)
		*out = append(*out, it)
	}
}

// sortFn sorts by a "precedes" function (a, b) → boolean, or in natural
// order without one. The sort is stable.
func sortFn(c *call, args []Value) Value {
	items, ok := c.list(args[0], "list")
	if !ok {
		return Null
	}
	out := slices.Clone(items)
	if len(args) == 1 || args[1].kind == KindNull {
		bad := false
		sort.SliceStable(out, func(i, j int) bool {
			cmp, ok := compareValues(out[i], out[j])
			bad = bad || !ok
			return cmp < 0
		})
		if bad {
			return c.null("the items cannot be compared with each other")
		}
		return List(out...)
	}
	if args[1].kind != KindFunction {
		return c.typeError("precedes", "a function", args[1])
	}
	f := (*Function)(args[1].p)
	sort.SliceStable(out, func(i, j int) bool {
		r := c.st.call(c.pos, f, "precedes", []Value{out[i], out[j]}, nil)
		return r.kind == KindBool && r.n != 0
	})
	return List(out...)
}
