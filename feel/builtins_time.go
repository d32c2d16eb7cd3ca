package feel

import "time"

// Temporal functions (now, today, day of week, ...) and the properties of
// temporal values and ranges (d.year, t.hour, r.start, ...).

func init() {
	define("now", nil, func(c *call, _ []Value) Value { return DateTimeValue(c.now()) })
	define("today", nil, func(c *call, _ []Value) Value { return DateValue(Date{days: c.now().days}) })
	builtins["now"].clock = true
	builtins["today"].clock = true
	dateFn := func(name string, f func(days int64) Value) {
		define(name, []string{"date"}, func(c *call, args []Value) Value {
			days, ok := c.localDate(args[0], "date")
			if !ok {
				return Null
			}
			return f(days)
		})
	}
	dateFn("day of week", func(days int64) Value { return String(weekday(days).String()) })
	dateFn("day of year", func(days int64) Value {
		y, _, _ := civilFromDays(days)
		return Int(days - daysFromCivil(y, 1, 1) + 1)
	})
	dateFn("week of year", func(days int64) Value { return Int(isoWeek(days)) })
	dateFn("month of year", func(days int64) Value {
		_, m, _ := civilFromDays(days)
		return String(time.Month(m).String())
	})
}

// now is the evaluation's current time; without one, now() cannot be
// evaluated (the engine must pass its clock's time, never the machine's).
func (c *call) now() DateTime {
	if c.st.now.IsZero() {
		c.st.fail(c.pos, "%s() needs the current time, and none was given (Env.Now)", c.name)
	}
	return DateTimeFromTime(c.st.now)
}

func weekday(days int64) time.Weekday { return time.Weekday(floorMod(days+4, 7)) } // 1970-01-01 was a Thursday

// isoWeek returns the ISO 8601 week number: weeks start on Monday, week 1
// holds the year's first Thursday.
func isoWeek(days int64) int64 {
	wd := (int64(weekday(days)) + 6) % 7 // Monday = 0
	thursday := days - wd + 3
	y, _, _ := civilFromDays(thursday)
	return (thursday-daysFromCivil(y, 1, 1))/7 + 1
}

// property reads a named property of a temporal value or a range.
func property(v Value, key string) (Value, bool) {
	switch v.kind {
	case KindDate:
		return dateProperty(v.n, key)
	case KindDateTime:
		t := (*DateTime)(v.p)
		if p, ok := dateProperty(t.days, key); ok {
			return p, true
		}
		return clockProperty(t.nanos, t.zone, key)
	case KindTime:
		t := (*Time)(v.p)
		return clockProperty(t.nanos, t.zone, key)
	case KindDuration:
		d := v.dur()
		switch key {
		case "days":
			return Int(d.sec / 86400), true
		case "hours":
			return Int(d.sec / 3600 % 24), true
		case "minutes":
			return Int(d.sec / 60 % 60), true
		case "seconds":
			return Int(d.sec % 60), true
		}
	case KindYearsMonths:
		switch key {
		case "years":
			return Int(v.n / 12), true
		case "months":
			return Int(v.n % 12), true
		}
	case KindRange:
		r := (*Range)(v.p)
		switch key {
		case "start":
			return r.Start, true
		case "end":
			return r.End, true
		case "start included":
			return Bool(r.StartIncluded), true
		case "end included":
			return Bool(r.EndIncluded), true
		}
	}
	return Null, false
}

func dateProperty(days int64, key string) (Value, bool) {
	y, m, d := civilFromDays(days)
	switch key {
	case "year":
		return Int(y), true
	case "month":
		return Int(int64(m)), true
	case "day":
		return Int(int64(d)), true
	case "weekday":
		return Int((int64(weekday(days))+6)%7 + 1), true
	}
	return Null, false
}

func clockProperty(nanos int64, z zone, key string) (Value, bool) {
	s := nanos / nanosPerSecond
	switch key {
	case "hour":
		return Int(s / 3600), true
	case "minute":
		return Int(s / 60 % 60), true
	case "second":
		if f := nanos % nanosPerSecond; f != 0 {
			return Number(Decimal{u: s%60*nanosPerSecond + f, scale: 9}.Normalize()), true
		}
		return Int(s % 60), true
	case "time offset":
		if z.kind == zoneLocal {
			return Null, true
		}
		return DurationValue(Duration{sec: int64(z.offset)}), true
	case "timezone":
		if z.kind == zoneNamed {
			return String(z.name), true
		}
		return Null, true
	}
	return Null, false
}
