package feel

import "math"

func init() {
	roundFn := func(name string, mode roundingMode) {
		define(name, []string{"n", "scale"}, func(c *call, args []Value) Value {
			n, ok1 := c.num(args[0], "n")
			scale, ok2 := c.integer(args[1], "scale")
			if !ok1 || !ok2 {
				return Null
			}
			r, ok := n.round(scale, mode)
			if !ok {
				return c.null("scale %d is out of range", scale)
			}
			return Number(r)
		})
	}
	roundFn("decimal", roundHalfEven)
	roundFn("round up", roundUp)
	roundFn("round down", roundDown)
	roundFn("round half up", roundHalfUp)
	roundFn("round half down", roundHalfDown)
	roundFn("floor", roundFloor)
	roundFn("ceiling", roundCeiling)
	define("floor", []string{"n"}, numberFn("n", func(d Decimal) (Decimal, bool) { return d.Floor(), true }))
	define("ceiling", []string{"n"}, numberFn("n", func(d Decimal) (Decimal, bool) { return d.Ceil(), true }))
	define("abs", []string{"n"}, func(c *call, args []Value) Value {
		switch v := args[0]; v.kind {
		case KindNumber:
			return Number(v.dec().Abs())
		case KindDuration, KindYearsMonths:
			if v.n < 0 || v.scale < 0 {
				return negValue(v)
			}
			return v
		default:
			return c.typeError("n", "a number or a duration", v)
		}
	})
	define("modulo", []string{"dividend", "divisor"}, func(c *call, args []Value) Value {
		a, ok1 := c.num(args[0], "dividend")
		b, ok2 := c.num(args[1], "divisor")
		if !ok1 || !ok2 {
			return Null
		}
		r, ok := a.Mod(b)
		if !ok {
			return c.null("division by zero")
		}
		return Number(r)
	})
	define("sqrt", []string{"number"}, numberFn("number", Decimal.Sqrt))
	define("log", []string{"number"}, numberFn("number", func(d Decimal) (Decimal, bool) {
		if d.Sign() <= 0 {
			return Decimal{}, false
		}
		return DecimalFromFloat(math.Log(d.Float64()))
	}))
	define("exp", []string{"number"}, numberFn("number", func(d Decimal) (Decimal, bool) {
		return DecimalFromFloat(math.Exp(d.Float64()))
	}))
	define("odd", []string{"number"}, parityFn(1))
	define("even", []string{"number"}, parityFn(0))
}

// numberFn adapts a function of one number; false means null.
func numberFn(param string, f func(Decimal) (Decimal, bool)) func(c *call, args []Value) Value {
	return func(c *call, args []Value) Value {
		d, ok := c.num(args[0], param)
		if !ok {
			return Null
		}
		r, ok := f(d)
		if !ok {
			return c.null("not defined for %s", d)
		}
		return Number(r)
	}
}

func parityFn(rem int64) func(c *call, args []Value) Value {
	return func(c *call, args []Value) Value {
		d, ok := c.num(args[0], "number")
		if !ok {
			return Null
		}
		if !d.IsInteger() {
			return c.null("%s is not an integer", d)
		}
		m, _ := d.Mod(Decimal{u: 2})
		return Bool(m.Sign() != 0 == (rem == 1))
	}
}
