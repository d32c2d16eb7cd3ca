package feel

import "fmt"

var sprintf = fmt.Sprintf

// fold evaluates a node at compile time when everything it depends on is a
// constant (date("2024-01-01"), -5, [1, 2, 3]). A constant that evaluates
// with a warning or an error is left for evaluation time, which reports it.
func fold(n node) node {
	if !foldable(n) {
		return n
	}
	st := &state{limits: Limits{}.withDefaults()}
	v, ok := tryEval(st, n)
	if !ok || st.first != nil {
		return n
	}
	return &constNode{at(n.pos()), v}
}

func tryEval(st *state, n node) (v Value, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isFailure := r.(evalFailure); !isFailure {
				panic(r)
			}
			ok = false
		}
	}()
	return n.eval(st), true
}

func isConst(ns ...node) bool {
	for _, n := range ns {
		if _, ok := n.(*constNode); !ok {
			return false
		}
	}
	return true
}

func foldable(n node) bool {
	switch n := n.(type) {
	case *arithNode:
		return isConst(n.l, n.r)
	case *cmpNode:
		return isConst(n.l, n.r)
	case *andNode:
		return isConst(n.l, n.r)
	case *orNode:
		return isConst(n.l, n.r)
	case *negNode:
		return isConst(n.x)
	case *betweenNode:
		return isConst(n.x, n.lo, n.hi)
	case *instanceNode:
		return isConst(n.x)
	case *pathNode:
		return isConst(n.x)
	case *rangeNode:
		return isConst(n.start, n.end)
	case *listNode:
		return isConst(n.items...)
	case *builtinNode:
		return !n.b.clock && isConst(n.args...)
	}
	return false
}
