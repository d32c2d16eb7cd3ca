package feel

import "strings"

// Function is a FEEL function value: defined in an expression
// (function(a, b) a + b) or supplied by the caller from Go (NewFunction).
type Function struct {
	params   []string
	def      *funcDefNode
	captured []Value // the bindings in scope where it was defined
	native   func(args []Value) (Value, error)
}

// NewFunction wraps a Go function for use in expressions (through a Scope):
// calls pass the arguments in the order of params; a returned error fails
// the evaluation.
func NewFunction(params []string, fn func(args []Value) (Value, error)) *Function {
	return &Function{params: params, native: fn}
}

// Params returns the parameter names.
func (f *Function) Params() []string { return append([]string(nil), f.params...) }

func (f *Function) arity() int { return len(f.params) }

func (f *Function) String() string { return "function(" + strings.Join(f.params, ", ") + ")" }

// call invokes f with arguments given by position, or by name when names is
// set. Arity and names are checked: a mismatch is an evaluation error, as in
// Zeebe ("no function found with name ... and parameters ...").
func (st *state) call(pos int, f *Function, name string, args []Value, names []string) Value {
	st.step(pos)
	if names != nil {
		ordered := make([]Value, len(f.params))
		for i, n := range names {
			k := indexOf(f.params, n)
			if k < 0 {
				st.fail(pos, "function %s has no parameter %q (parameters: %s)", describeFn(name, f), n, strings.Join(f.params, ", "))
			}
			ordered[k] = args[i]
		}
		args = ordered
	} else if len(args) != len(f.params) {
		st.fail(pos, "function %s takes %d arguments, not %d", describeFn(name, f), len(f.params), len(args))
	}
	if f.native != nil {
		v, err := f.native(append([]Value(nil), args...))
		if err != nil {
			st.fail(pos, "function %s failed: %v", describeFn(name, f), err)
		}
		return v
	}
	st.depth++
	if st.depth > st.limits.MaxDepth {
		st.fail(pos, "function calls nest deeper than %d (Limits.MaxDepth)", st.limits.MaxDepth)
	}
	frame := make([]Value, max(*f.def.nslots, len(f.captured)))
	copy(frame, f.captured)
	for i, slot := range f.def.slots {
		frame[slot] = args[i]
	}
	saved, savedItems := st.frame, st.items
	st.frame, st.items = frame, nil
	v := f.def.body.eval(st)
	st.frame, st.items = saved, savedItems
	st.depth--
	return v
}

func describeFn(name string, f *Function) string {
	if name != "" {
		return quoteName(name)
	}
	return f.String()
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

// callNode calls a function value: a local binding, a variable, or the
// result of an expression.
type callNode struct {
	at
	fn    node
	name  string
	args  []node
	names []string
}

func (n *callNode) eval(st *state) Value {
	fv := n.fn.eval(st)
	if fv.kind != KindFunction {
		if n.name != "" {
			st.fail(int(n.at), "no function found with name %s", quoteName(n.name))
		}
		st.fail(int(n.at), "cannot call a %s: it is not a function", fv.kind)
	}
	args := make([]Value, len(n.args))
	for i, a := range n.args {
		args[i] = a.eval(st)
	}
	return st.call(int(n.at), (*Function)(fv.p), n.name, args, n.names)
}
