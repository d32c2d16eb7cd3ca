package feel

import "strings"

// feelType is a type written after "instance of" (or a parameter's ": type").
type feelType struct {
	name   string // as written, for messages
	kind   Kind
	any    bool        // Any: every value but null
	elem   *feelType   // list<T>, range<T>
	fields []typeField // context<k: T, ...>
	params []*feelType // function<T, ...> -> R
	result *feelType
}

type typeField struct {
	key string
	typ *feelType
}

var typeNames = map[string]Kind{
	"number": KindNumber, "string": KindString, "boolean": KindBool,
	"date": KindDate, "time": KindTime, "date and time": KindDateTime,
	"dateTime": KindDateTime, "days and time duration": KindDuration,
	"dayTimeDuration": KindDuration, "years and months duration": KindYearsMonths,
	"yearMonthDuration": KindYearsMonths, "list": KindList, "context": KindContext,
	"range": KindRange, "function": KindFunction, "Null": KindNull,
}

// typeRef reads a type: a name (possibly of several words), list<T>,
// range<T>, context<k: T>, function<T> -> R.
func (p *parser) typeRef() *feelType {
	t := p.peek()
	// The longest run of words that names a type ("date and time", but
	// "date" in "x instance of date and y").
	var words []string
	name, end := "", p.i
	for j := p.i; p.toks[j].kind == tWord; j++ {
		words = append(words, p.toks[j].text)
		cand := strings.Join(words, " ")
		if !isTypePrefix(cand) {
			break
		}
		if _, ok := typeNames[cand]; ok || cand == "Any" {
			name, end = cand, j+1
		}
	}
	p.i = end
	ft := &feelType{name: name}
	switch k, ok := typeNames[name]; {
	case name == "Any":
		ft.any = true
	case ok:
		ft.kind = k
	default:
		p.failAt(t.pos, "expected a type after \"instance of\" (number, string, boolean, date, time, date and time, days and time duration, years and months duration, list, context, range, function, Any, Null), found %s", t.describe())
	}
	if !p.is(tLt) {
		return ft
	}
	open := p.next()
	switch ft.kind {
	case KindList, KindRange:
		ft.elem = p.typeRef()
	case KindContext:
		for {
			kt := p.peek()
			key, ok := p.name()
			if !ok {
				p.failAt(kt.pos, "expected a context key in the type, found %s", kt.describe())
			}
			p.expect(tColon, "after a key of the context type")
			ft.fields = append(ft.fields, typeField{key, p.typeRef()})
			if !p.accept(tComma) {
				break
			}
		}
	case KindFunction:
		for !p.is(tGt) {
			ft.params = append(ft.params, p.typeRef())
			if !p.accept(tComma) {
				break
			}
		}
	default:
		p.failAt(open.pos, "type %s takes no parameters", name)
	}
	p.closeWith(tGt, open)
	if ft.kind == KindFunction {
		p.expect(tArrow, "after the parameter types of a function type")
		ft.result = p.typeRef()
	}
	return ft
}

func isTypePrefix(s string) bool {
	if s == "Any" {
		return true
	}
	for name := range typeNames {
		if name == s || strings.HasPrefix(name, s+" ") {
			return true
		}
	}
	return false
}

// matches reports whether v is an instance of t.
func (t *feelType) matches(v Value) bool {
	if t.any {
		return v.kind != KindNull
	}
	if v.kind != t.kind {
		return false
	}
	switch {
	case t.elem != nil && v.kind == KindList:
		for _, x := range v.items() {
			if !t.elem.matches(x) {
				return false
			}
		}
	case t.elem != nil && v.kind == KindRange:
		r := (*Range)(v.p)
		return (r.StartUnbounded || t.elem.matches(r.Start)) && (r.EndUnbounded || t.elem.matches(r.End))
	case t.fields != nil:
		c := v.ctx()
		for _, f := range t.fields {
			x, ok := c.Get(f.key)
			if !ok || !f.typ.matches(x) {
				return false
			}
		}
	case t.result != nil:
		f := (*Function)(v.p)
		return f.arity() < 0 || f.arity() == len(t.params)
	}
	return true
}
