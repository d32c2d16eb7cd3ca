package cesql

import (
	"math"
	"strings"

	"eddy/cloudevents"
)

// node is a parsed expression. eval is fail-fast: on error it returns the
// zero value of the node's type with the error.
type node interface {
	eval(e *cloudevents.Event) (Value, *Error)
	// typ is the static type, or 0 when only evaluation knows it (an
	// attribute's type depends on the event).
	typ() Type
	// format writes the expression back, fully parenthesised.
	format(b *strings.Builder)
}

type literal struct{ v Value }

func (n *literal) eval(*cloudevents.Event) (Value, *Error) { return n.v, nil }
func (n *literal) typ() Type                               { return n.v.Type }
func (n *literal) format(b *strings.Builder) {
	switch n.v.Type {
	case String:
		writeQuoted(b, n.v.Str)
	case Boolean:
		b.WriteString(strings.ToUpper(n.v.String()))
	default:
		b.WriteString(n.v.String())
	}
}

// Core attributes are read without going through a name lookup.
const (
	attrExtension = iota
	attrID
	attrSource
	attrSpecVersion
	attrType
	attrDataContentType
	attrDataSchema
	attrSubject
	attrTime
)

var coreAttrs = map[string]uint8{
	"id": attrID, "source": attrSource, "specversion": attrSpecVersion, "type": attrType,
	"datacontenttype": attrDataContentType, "dataschema": attrDataSchema, "subject": attrSubject, "time": attrTime,
}

type attribute struct {
	name string
	core uint8
	pos  int
}

// lookup returns the attribute's value, and whether the event has it.
func (n *attribute) lookup(e *cloudevents.Event) (Value, bool, *Error) {
	var s string
	switch n.core {
	case attrID:
		s = e.ID
	case attrSource:
		s = e.Source
	case attrSpecVersion:
		s = e.SpecVersion
	case attrType:
		s = e.Type
	case attrDataContentType:
		s = e.DataContentType
	case attrDataSchema:
		s = e.DataSchema
	case attrSubject:
		s = e.Subject
	case attrTime:
		s = e.Time
	default:
		x, ok := e.Extension(n.name)
		if !ok {
			return Value{}, false, nil
		}
		switch x.Type {
		case cloudevents.TypeBoolean:
			return BoolValue(x.Text == "true"), true, nil
		case cloudevents.TypeInteger:
			i, ok := parseInt32(x.Text)
			if !ok {
				return IntValue(0), true, errorf(CastError, n.pos, "extension %s holds %q, not an Integer", n.name, x.Text)
			}
			return IntValue(i), true, nil
		}
		return StringValue(x.Text), true, nil
	}
	return StringValue(s), s != "", nil
}

func (n *attribute) eval(e *cloudevents.Event) (Value, *Error) {
	v, ok, err := n.lookup(e)
	if err != nil {
		return BoolValue(false), err
	}
	if !ok {
		return BoolValue(false), errorf(MissingAttributeError, n.pos, "the event has no attribute %s", n.name)
	}
	return v, nil
}
func (n *attribute) typ() Type                 { return 0 }
func (n *attribute) format(b *strings.Builder) { b.WriteString(n.name) }

type exists struct{ attr *attribute }

func (n *exists) eval(e *cloudevents.Event) (Value, *Error) {
	_, ok, _ := n.attr.lookup(e)
	return BoolValue(ok), nil
}
func (n *exists) typ() Type { return Boolean }
func (n *exists) format(b *strings.Builder) {
	b.WriteString("(EXISTS ")
	b.WriteString(n.attr.name)
	b.WriteByte(')')
}

// operand evaluates x and casts it to t.
func operand(x node, pos int, t Type, e *cloudevents.Event) (Value, *Error) {
	v, err := x.eval(e)
	if err != nil {
		return zero(t), err
	}
	c, msg := cast(v, t)
	if msg != "" {
		return zero(t), errorf(CastError, pos, "%s", msg)
	}
	return c, nil
}

type not struct {
	x   node
	pos int
}

func (n *not) eval(e *cloudevents.Event) (Value, *Error) {
	v, err := operand(n.x, n.pos, Boolean, e)
	if err != nil {
		return v, err
	}
	return BoolValue(!v.Bool), nil
}
func (n *not) typ() Type { return Boolean }
func (n *not) format(b *strings.Builder) {
	b.WriteString("(NOT ")
	n.x.format(b)
	b.WriteByte(')')
}

type negate struct {
	x   node
	pos int
}

func (n *negate) eval(e *cloudevents.Event) (Value, *Error) {
	v, err := operand(n.x, n.pos, Integer, e)
	if err != nil {
		return v, err
	}
	if v.Int == math.MinInt32 {
		return IntValue(0), errorf(MathError, n.pos, "-(-2147483648) overflows 32 bits")
	}
	return IntValue(-v.Int), nil
}
func (n *negate) typ() Type { return Integer }
func (n *negate) format(b *strings.Builder) {
	b.WriteString("(-(") // "(-1)" would read back as the literal -1
	n.x.format(b)
	b.WriteString("))")
}

// binary is an arithmetic, comparison or logical operator.
type binary struct {
	op   string // "+", "=", "AND", ...
	l, r node
	pos  int
}

func (n *binary) typ() Type {
	switch n.op {
	case "+", "-", "*", "/", "%":
		return Integer
	}
	return Boolean
}

func (n *binary) format(b *strings.Builder) {
	b.WriteByte('(')
	n.l.format(b)
	b.WriteByte(' ')
	b.WriteString(n.op)
	b.WriteByte(' ')
	n.r.format(b)
	b.WriteByte(')')
}

func (n *binary) eval(e *cloudevents.Event) (Value, *Error) {
	switch n.op {
	case "AND", "OR":
		l, err := operand(n.l, n.pos, Boolean, e)
		if err != nil {
			return l, err
		}
		if l.Bool == (n.op == "OR") {
			return l, nil // short circuit
		}
		return operand(n.r, n.pos, Boolean, e)
	case "XOR":
		l, err := operand(n.l, n.pos, Boolean, e)
		if err != nil {
			return l, err
		}
		r, err := operand(n.r, n.pos, Boolean, e)
		if err != nil {
			return r, err
		}
		return BoolValue(l.Bool != r.Bool), nil
	case "=", "!=", "<>":
		// Ambiguous operator: the right operand's type decides (3.7).
		l, err := n.l.eval(e)
		if err != nil {
			return BoolValue(false), err
		}
		r, err := n.r.eval(e)
		if err != nil {
			return BoolValue(false), err
		}
		l, msg := cast(l, r.Type)
		if msg != "" {
			return BoolValue(false), errorf(CastError, n.pos, "%s", msg)
		}
		return BoolValue(equal(l, r) == (n.op == "=")), nil
	}
	l, err := operand(n.l, n.pos, Integer, e)
	if err != nil {
		return zero(n.typ()), err
	}
	r, err := operand(n.r, n.pos, Integer, e)
	if err != nil {
		return zero(n.typ()), err
	}
	x, y := int64(l.Int), int64(r.Int)
	var z int64
	switch n.op {
	case "<":
		return BoolValue(x < y), nil
	case "<=":
		return BoolValue(x <= y), nil
	case ">":
		return BoolValue(x > y), nil
	case ">=":
		return BoolValue(x >= y), nil
	case "+":
		z = x + y
	case "-":
		z = x - y
	case "*":
		z = x * y
	case "/", "%":
		if y == 0 {
			return IntValue(0), errorf(MathError, n.pos, "division by zero")
		}
		if n.op == "/" {
			z = x / y // Go truncates toward zero, as CESQL requires
		} else {
			z = x % y // and the remainder takes the dividend's sign
		}
	}
	if z < math.MinInt32 || z > math.MaxInt32 {
		return IntValue(0), errorf(MathError, n.pos, "%d %s %d overflows 32 bits", x, n.op, y)
	}
	return IntValue(int32(z)), nil
}

func equal(a, b Value) bool {
	switch a.Type {
	case Boolean:
		return a.Bool == b.Bool
	case Integer:
		return a.Int == b.Int
	}
	return a.Str == b.Str
}

type like struct {
	x   node
	p   *pattern
	not bool
	pos int
}

func (n *like) eval(e *cloudevents.Event) (Value, *Error) {
	v, err := operand(n.x, n.pos, String, e)
	if err != nil {
		return BoolValue(false), err
	}
	return BoolValue(n.p.match(v.Str) != n.not), nil
}
func (n *like) typ() Type { return Boolean }
func (n *like) format(b *strings.Builder) {
	b.WriteByte('(')
	n.x.format(b)
	if n.not {
		b.WriteString(" NOT")
	}
	b.WriteString(" LIKE ")
	writeQuoted(b, n.p.src)
	b.WriteByte(')')
}

type in struct {
	x   node
	set []node
	not bool
	pos int
}

func (n *in) eval(e *cloudevents.Event) (Value, *Error) {
	x, err := n.x.eval(e)
	if err != nil {
		return BoolValue(false), err
	}
	for _, y := range n.set {
		v, err := operand(y, n.pos, x.Type, e)
		if err != nil {
			return BoolValue(false), err
		}
		if equal(v, x) {
			return BoolValue(!n.not), nil
		}
	}
	return BoolValue(n.not), nil
}
func (n *in) typ() Type { return Boolean }
func (n *in) format(b *strings.Builder) {
	b.WriteByte('(')
	n.x.format(b)
	if n.not {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN (")
	for k, y := range n.set {
		if k > 0 {
			b.WriteString(", ")
		}
		y.format(b)
	}
	b.WriteString("))")
}

type call struct {
	fn   *function
	args []node
	pos  int
}

func (n *call) eval(e *cloudevents.Event) (Value, *Error) {
	var buf [3]Value
	args := buf[:0]
	for k, a := range n.args {
		v, err := operand(a, n.pos, n.fn.paramType(k), e)
		if err != nil {
			return zero(n.fn.result), err
		}
		args = append(args, v)
	}
	v, msg := n.fn.invoke(args)
	if msg != "" {
		kind := n.fn.errKind
		if kind == 0 {
			kind = FunctionEvaluationError
		}
		return v, errorf(kind, n.pos, "%s", msg)
	}
	return v, nil
}
func (n *call) typ() Type { return n.fn.result }
func (n *call) format(b *strings.Builder) {
	b.WriteString(n.fn.name)
	b.WriteByte('(')
	for k, a := range n.args {
		if k > 0 {
			b.WriteString(", ")
		}
		a.format(b)
	}
	b.WriteByte(')')
}

// writeQuoted writes a string literal that lexes back to s. Inside quotes
// q, a backslash escapes only q, so a value holding \' is written with
// double quotes and one holding \" with single quotes (a value holding
// both cannot be written at all, and comes out as best it can).
func writeQuoted(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.Contains(s, `\'`) {
		q = '"'
	}
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			b.WriteString(s[i : i+2]) // an escape pair of the source, kept as it was
			i++
		case s[i] == q:
			b.WriteByte('\\')
			b.WriteByte(q)
		default:
			b.WriteByte(s[i])
		}
	}
	b.WriteByte(q)
}
