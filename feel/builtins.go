package feel

import (
	"strconv"
	"strings"
)

// builtin is a built-in function: one or more signatures.
type builtin struct {
	name  string
	sigs  []*signature
	clock bool // reads Env.Now: never folded at compile time
}

// signature is one overload: named parameters, or any number of
// arguments (variadic, the parameter names then describe the list form).
type signature struct {
	params   []string
	variadic bool
	fn       func(c *call, args []Value) Value
}

// call is what a built-in sees of its invocation.
type call struct {
	st   *state
	pos  int
	name string
}

// null explains why a built-in returns null.
func (c *call) null(format string, args ...any) Value {
	c.st.warn(c.pos, "%s: %s", c.name, sprintf(format, args...))
	return Null
}

// typeError is the common null: an argument of the wrong type.
func (c *call) typeError(param string, want string, got Value) Value {
	if got.kind == KindNull {
		return Null // explained where the null arose
	}
	return c.null("%s must be %s, not a %s", param, want, got.kind)
}

var builtins = map[string]*builtin{}

// define registers a built-in signature.
func define(name string, params []string, fn func(c *call, args []Value) Value) {
	defineSig(name, &signature{params: params, fn: fn})
}

// defineVariadic registers a built-in that takes any number of arguments.
func defineVariadic(name string, params []string, fn func(c *call, args []Value) Value) {
	defineSig(name, &signature{params: params, variadic: true, fn: fn})
}

func defineSig(name string, s *signature) {
	b := builtins[name]
	if b == nil {
		b = &builtin{name: name}
		builtins[name] = b
	}
	b.sigs = append(b.sigs, s)
}

// builtinCall resolves a call of a built-in to a signature. A call that
// fits none compiles to a node that fails when evaluated, as in Zeebe,
// which accepts such an expression and fails at run time.
func (p *parser) builtinCall(b *builtin, pos int, args []node, names []string) node {
	var sig *signature
	var order []int
	for _, s := range b.sigs {
		if o, ok := s.fits(len(args), names); ok {
			sig, order = s, o
			break
		}
	}
	if sig == nil {
		return &failNode{at(pos), mismatchMessage(b, len(args), names)}
	}
	n := &builtinNode{at: at(pos), b: b, sig: sig, args: args, order: order}
	n.nargs = len(args)
	if !sig.variadic {
		n.nargs = len(sig.params)
	}
	return fold(n)
}

// fits reports whether a call with n arguments (named by names, if set)
// fits s, and where each argument goes.
func (s *signature) fits(n int, names []string) ([]int, bool) {
	if names == nil {
		if s.variadic {
			return nil, n >= 1 || len(s.params) == 0
		}
		return nil, n == len(s.params)
	}
	if s.variadic {
		if len(names) == 1 && names[0] == s.params[0] {
			return []int{0}, true
		}
		return nil, false
	}
	if len(names) != len(s.params) {
		return nil, false // every parameter named: optional ones are other signatures
	}
	order := make([]int, len(names))
	for i, name := range names {
		k := indexOf(s.params, name)
		if k < 0 {
			return nil, false
		}
		order[i] = k
	}
	return order, true
}

func mismatchMessage(b *builtin, n int, names []string) string {
	var forms []string
	for _, s := range b.sigs {
		ps := strings.Join(s.params, ", ")
		if s.variadic {
			ps += ", ..."
		}
		forms = append(forms, b.name+"("+ps+")")
	}
	got := strconv.Itoa(n) + " arguments"
	if names != nil {
		got = "arguments named " + strings.Join(names, ", ")
	}
	return "no function found with name " + quoteName(b.name) + " and " + got + " (it takes " + strings.Join(forms, " or ") + ")"
}

func quoteName(s string) string { return strconv.Quote(s) }

// builtinNode calls a built-in; arguments go through the state's argument
// stack, so a call allocates nothing of its own.
type builtinNode struct {
	at
	b     *builtin
	sig   *signature
	args  []node
	order []int // position of each argument when named
	nargs int
}

func (n *builtinNode) eval(st *state) Value {
	base := st.pushArgs(n.nargs)
	for i, a := range n.args {
		v := a.eval(st)
		k := i
		if n.order != nil {
			k = n.order[i]
		}
		st.args[base+k] = v
		if w := workOf(v); w > 0 {
			st.work(int(n.at), w)
		}
	}
	c := call{st: st, pos: int(n.at), name: n.b.name}
	v := n.sig.fn(&c, st.args[base:base+n.nargs])
	st.popArgs(base)
	return v
}

// failNode fails when evaluated.
type failNode struct {
	at
	msg string
}

func (n *failNode) eval(st *state) Value {
	st.fail(int(n.at), "%s", n.msg)
	return Null
}

// isDefinedNode is "is defined(x)": whether a variable, context entry or
// item key exists (null counts as defined).
type isDefinedNode struct {
	at
	x node
}

func (n *isDefinedNode) eval(st *state) Value { return Bool(isDefined(st, n.x)) }
