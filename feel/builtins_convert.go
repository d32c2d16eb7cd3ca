package feel

import (
	"strings"
)

// Conversion functions: date, time, date and time, number, string,
// duration, years and months duration.

func init() {
	define("date", []string{"from"}, func(c *call, args []Value) Value {
		switch v := args[0]; v.kind {
		case KindDate:
			return v
		case KindDateTime:
			return DateValue(Date{days: (*DateTime)(v.p).days})
		case KindString:
			if d, ok := parseDate(v.str()); ok {
				return DateValue(d)
			}
			if dt, ok := parseDateTime(v.str()); ok && strings.ContainsAny(v.str(), "Tt") {
				return DateValue(Date{days: dt.days})
			}
			return c.null("%q is not a date", v.str())
		default:
			return c.typeError("from", "a string, a date or a date and time", v)
		}
	})
	define("date", []string{"year", "month", "day"}, func(c *call, args []Value) Value {
		y, ok1 := c.integer(args[0], "year")
		m, ok2 := c.integer(args[1], "month")
		d, ok3 := c.integer(args[2], "day")
		if !ok1 || !ok2 || !ok3 {
			return Null
		}
		if m < 1 || m > 12 || d < 1 || d > 31 {
			return c.null("%d-%d-%d is not a date", y, m, d)
		}
		date, ok := NewDate(y, int(m), int(d))
		if !ok {
			return c.null("%d-%d-%d is not a date", y, m, d)
		}
		return DateValue(date)
	})
	define("date and time", []string{"from"}, func(c *call, args []Value) Value {
		switch v := args[0]; v.kind {
		case KindDateTime:
			return v
		case KindDate:
			return DateTimeValue(DateTime{days: v.n})
		case KindString:
			if dt, ok := parseDateTime(v.str()); ok {
				return DateTimeValue(dt)
			}
			return c.null("%q is not a date and time", v.str())
		default:
			return c.typeError("from", "a string or a date", v)
		}
	})
	define("date and time", []string{"date", "time"}, func(c *call, args []Value) Value {
		var days int64
		switch d := args[0]; d.kind {
		case KindDate:
			days = d.n
		case KindDateTime:
			days = (*DateTime)(d.p).days
		default:
			return c.typeError("date", "a date", d)
		}
		if args[1].kind != KindTime {
			return c.typeError("time", "a time", args[1])
		}
		t := (*Time)(args[1].p)
		dt, ok := DateTime{days: days, nanos: t.nanos, zone: t.zone}.resolveLocal()
		if !ok {
			return c.null("out of range")
		}
		return DateTimeValue(dt)
	})
	define("time", []string{"from"}, func(c *call, args []Value) Value {
		switch v := args[0]; v.kind {
		case KindTime:
			return v
		case KindDateTime:
			dt := (*DateTime)(v.p)
			return TimeValue(Time{nanos: dt.nanos, zone: dt.zone})
		case KindDate:
			return TimeValue(Time{})
		case KindString:
			if t, ok := parseTime(v.str()); ok {
				return TimeValue(t)
			}
			if dt, ok := parseDateTime(v.str()); ok && strings.ContainsAny(v.str(), "Tt") {
				return TimeValue(Time{nanos: dt.nanos, zone: dt.zone})
			}
			return c.null("%q is not a time", v.str())
		default:
			return c.typeError("from", "a string, a time or a date and time", v)
		}
	})
	timeOf := func(c *call, args []Value) Value {
		h, ok1 := c.integer(args[0], "hour")
		m, ok2 := c.integer(args[1], "minute")
		s, ok3 := c.num(args[2], "second")
		if !ok1 || !ok2 || !ok3 {
			return Null
		}
		whole := s.Floor()
		sec, _ := whole.Int64()
		frac, _ := s.Sub(whole)
		ns, _ := frac.round(9, roundDown)
		nanos, _ := Decimal{u: ns.u, b: ns.b}.Int64()
		t, ok := NewTime(int(max(min(h, 99), -1)), int(max(min(m, 99), -1)), int(max(min(sec, 99), -1)), int(nanos))
		if !ok {
			return c.null("%d:%d:%s is not a time", h, m, s)
		}
		if len(args) == 4 && args[3].kind != KindNull {
			if args[3].kind != KindDuration {
				return c.typeError("offset", "a days and time duration", args[3])
			}
			off := args[3].dur()
			if off.nsec != 0 || off.sec > 18*3600 || off.sec < -18*3600 {
				return c.null("offset %s is out of range", off)
			}
			t = t.WithOffset(int(off.sec))
		}
		return TimeValue(t)
	}
	define("time", []string{"hour", "minute", "second"}, timeOf)
	define("time", []string{"hour", "minute", "second", "offset"}, timeOf)
	define("number", []string{"from"}, numberFrom)
	define("number", []string{"from", "grouping separator", "decimal separator"}, numberFrom)
	define("string", []string{"from"}, func(_ *call, args []Value) Value {
		if args[0].kind == KindNull {
			return Null
		}
		return String(args[0].text())
	})
	define("duration", []string{"from"}, func(c *call, args []Value) Value {
		s, ok := c.str(args[0], "from")
		if !ok {
			return Null
		}
		v, ok := parseDuration(s)
		if !ok {
			return c.null("%q is not a duration", s)
		}
		return v
	})
	define("years and months duration", []string{"from", "to"}, func(c *call, args []Value) Value {
		from, ok1 := c.localDate(args[0], "from")
		to, ok2 := c.localDate(args[1], "to")
		if !ok1 || !ok2 {
			return Null
		}
		return YearsMonthsValue(YearsMonths(monthsBetween(from, to)))
	})
	define("not", []string{"negand"}, func(_ *call, args []Value) Value {
		if args[0].kind != KindBool {
			return Null
		}
		return Bool(args[0].n == 0)
	})
}

// localDate reads a date, or the date of a date and time.
func (c *call) localDate(v Value, param string) (int64, bool) {
	switch v.kind {
	case KindDate:
		return v.n, true
	case KindDateTime:
		return (*DateTime)(v.p).days, true
	}
	c.typeError(param, "a date or a date and time", v)
	return 0, false
}

// monthsBetween counts whole months from one date to another, as
// java.time's Period.between does.
func monthsBetween(from, to int64) int64 {
	y1, m1, d1 := civilFromDays(from)
	y2, m2, d2 := civilFromDays(to)
	months := (y2*12 + int64(m2)) - (y1*12 + int64(m1))
	switch {
	case months > 0 && d2 < d1:
		months--
	case months < 0 && d2 > d1:
		months++
	}
	return months
}

// numberFrom reads a number from text, with optional grouping and decimal
// separators (" ", ",", "." and ",", ".").
func numberFrom(c *call, args []Value) Value {
	s, ok := c.str(args[0], "from")
	if !ok {
		return Null
	}
	if len(args) == 3 {
		group, dec := "", "."
		if args[1].kind != KindNull {
			if group, ok = c.str(args[1], "grouping separator"); !ok {
				return Null
			}
			if group != " " && group != "," && group != "." {
				return c.null("grouping separator must be a space, a comma or a period, not %q", group)
			}
		}
		if args[2].kind != KindNull {
			if dec, ok = c.str(args[2], "decimal separator"); !ok {
				return Null
			}
			if dec != "," && dec != "." || dec == group {
				return c.null("decimal separator must be a comma or a period other than the grouping separator, not %q", dec)
			}
		}
		if group != "" {
			s = strings.ReplaceAll(s, group, "")
		}
		s = strings.ReplaceAll(s, dec, ".")
	}
	if strings.ContainsAny(s, "eE+") || strings.TrimSpace(s) != s {
		return c.null("%q is not a number", s)
	}
	d, ok := ParseDecimal(s)
	if !ok {
		return c.null("%q is not a number", s)
	}
	return Number(d)
}
