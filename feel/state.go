package feel

import (
	"fmt"
	"sync"
	"time"
)

// node is a compiled piece of an expression.
type node interface {
	eval(st *state) Value
	pos() int
}

// at records where a node starts in the source.
type at int

func (a at) pos() int { return int(a) }

// state is what one evaluation carries: the caller's environment, the frame
// of local bindings (for, some, every, function parameters, context entries,
// ?, item), the items of the filters being applied, a stack for arguments,
// and the budgets that bound the work.
type state struct {
	src    string
	vars   Scope
	now    time.Time
	limits Limits
	frame  []Value
	items  []Value
	args   []Value
	steps  int
	depth  int
	first  *Warning
	warns  *[]Warning
}

var statePool = sync.Pool{New: func() any { return new(state) }}

func getState(src string, nslots int, env *Env) *state {
	st := statePool.Get().(*state)
	st.src = src
	st.vars = env.Vars
	st.now = env.Now
	st.limits = env.Limits.withDefaults()
	st.warns = env.Warnings
	if cap(st.frame) < nslots {
		st.frame = make([]Value, nslots)
	}
	st.frame = st.frame[:nslots]
	return st
}

// putState returns a state to the pool, holding no values. The argument and
// item stacks are normally empty, cleared by their pops.
func putState(st *state) {
	if len(st.frame) > 0 {
		clear(st.frame)
	}
	if len(st.items) > 0 || len(st.args) > 0 { // a failure left them
		clear(st.items)
		clear(st.args)
	}
	st.vars, st.warns, st.first, st.src = nil, nil, nil, ""
	st.steps, st.depth = 0, 0
	st.items, st.args = st.items[:0], st.args[:0]
	statePool.Put(st)
}

// evalFailure carries an evaluation error up through the recursion; Eval
// recovers it. Anything else that panics is a bug and keeps panicking.
type evalFailure struct{ err *Error }

func (st *state) fail(pos int, format string, args ...any) {
	panic(evalFailure{errorAt(st.src, pos, format, args...)})
}

// warn records why something evaluated to null. Only the first reason is
// kept unless the caller asked for all of them.
func (st *state) warn(pos int, format string, args ...any) {
	if st.first != nil && st.warns == nil {
		return
	}
	w := Warning{Offset: pos, Msg: fmt.Sprintf(format, args...)}
	if st.first == nil {
		st.first = &w
	}
	if st.warns != nil {
		*st.warns = append(*st.warns, w)
	}
}

// step counts one unit of work (an iteration, a call) against the budget.
func (st *state) step(pos int) { st.work(pos, 1) }

// work counts n units of work: operations over whole lists and long
// strings count their size, so that no expression can run for long.
func (st *state) work(pos, n int) {
	st.steps += n
	if st.steps > st.limits.MaxSteps {
		st.fail(pos, "evaluation exceeds %d steps (Limits.MaxSteps)", st.limits.MaxSteps)
	}
}

// workOf is the work of handling v as a whole: its length for lists, a
// unit per kilobyte for strings.
func workOf(v Value) int {
	switch v.kind {
	case KindList:
		return len(v.items())
	case KindString:
		return int(v.n >> 10)
	}
	return 0
}

// checkLen fails when a list or string would exceed the length limit.
func (st *state) checkLen(pos, n int) {
	if n > st.limits.MaxLength {
		st.fail(pos, "result longer than %d (Limits.MaxLength)", st.limits.MaxLength)
	}
}

// Limits bound the work of one evaluation, so that no expression can hang
// or exhaust memory: the result is an error instead.
type Limits struct {
	MaxSteps  int // loop iterations and function calls; default 1,000,000
	MaxDepth  int // nested calls of user functions; default 256
	MaxLength int // elements of a list, bytes of a string; default 10,000,000
}

func (l Limits) withDefaults() Limits {
	if l.MaxSteps <= 0 {
		l.MaxSteps = 1_000_000
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 256
	}
	if l.MaxLength <= 0 {
		l.MaxLength = 10_000_000
	}
	return l
}

// pushArgs reserves n argument slots on the argument stack; the caller fills
// them and pops with popArgs(base). Builtins that keep arguments copy them.
func (st *state) pushArgs(n int) (base int) {
	base = len(st.args)
	for range n {
		st.args = append(st.args, Null)
	}
	return base
}

func (st *state) popArgs(base int) {
	clear(st.args[base:])
	st.args = st.args[:base]
}
