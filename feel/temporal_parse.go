package feel

import (
	"strings"
)

// Parsers for the ISO 8601 forms FEEL writes: dates (2024-01-31), times
// (10:30:00, 10:30:00.5+01:00, 10:30:00@Europe/Paris), dates and times
// joined by T, and durations (P1Y2M, -P1DT2H30M, PT0.5S).

// digitsAt reads exactly n digits at s[i:].
func digitsAt(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseDatePrefix reads [-]YYYY[Y...]-MM-DD and returns the index after it.
func parseDatePrefix(s string) (Date, int, bool) {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	var y int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 10 {
		y = y*10 + int64(s[i]-'0')
		i++
	}
	if i-start < 4 || i >= len(s) || s[i] != '-' {
		return Date{}, 0, false
	}
	if neg {
		y = -y
	}
	m, ok1 := digitsAt(s, i+1, 2)
	if !ok1 || i+3 >= len(s) || s[i+3] != '-' {
		return Date{}, 0, false
	}
	d, ok2 := digitsAt(s, i+4, 2)
	if !ok2 {
		return Date{}, 0, false
	}
	date, ok := NewDate(y, m, d)
	return date, i + 6, ok
}

func parseDate(s string) (Date, bool) {
	d, n, ok := parseDatePrefix(s)
	return d, ok && n == len(s)
}

// parseClock reads hh:mm[:ss[.fffffffff]] and returns nanoseconds of the day.
func parseClock(s string) (int64, int, bool) {
	h, ok1 := digitsAt(s, 0, 2)
	m, ok2 := digitsAt(s, 3, 2)
	if !ok1 || !ok2 || s[2] != ':' {
		return 0, 0, false
	}
	i := 5
	sec, nano := 0, 0
	if i < len(s) && s[i] == ':' {
		var ok bool
		if sec, ok = digitsAt(s, i+1, 2); !ok {
			return 0, 0, false
		}
		i += 3
		if i < len(s) && s[i] == '.' {
			i++
			start := i
			scale := 100_000_000
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				nano += int(s[i]-'0') * scale
				scale /= 10
				i++
			}
			if i == start {
				return 0, 0, false
			}
		}
	}
	t, ok := NewTime(h, m, sec, nano)
	return t.nanos, i, ok
}

// parseZone reads what follows a time: nothing, Z, ±hh:mm[:ss] or @Zone/Id.
func parseZone(s string) (zone, bool) {
	switch {
	case s == "":
		return zone{}, true
	case s == "Z" || s == "z":
		return zone{kind: zoneOffset}, true
	case s[0] == '@':
		name := s[1:]
		if name == "UTC" || name == "Z" {
			return zone{kind: zoneOffset}, true
		}
		loc, ok := loadZone(name)
		if !ok {
			return zone{}, false
		}
		return zone{kind: zoneNamed, name: name, loc: loc}, true
	case s[0] == '+' || s[0] == '-':
		h, ok1 := digitsAt(s, 1, 2)
		if !ok1 || len(s) < 6 || s[3] != ':' {
			return zone{}, false
		}
		m, ok2 := digitsAt(s, 4, 2)
		sec := 0
		if len(s) == 9 && s[6] == ':' {
			var ok bool
			if sec, ok = digitsAt(s, 7, 2); !ok {
				return zone{}, false
			}
		} else if len(s) != 6 {
			return zone{}, false
		}
		if !ok2 || h > 18 || m > 59 || sec > 59 {
			return zone{}, false
		}
		off := int32(h*3600 + m*60 + sec)
		if s[0] == '-' {
			off = -off
		}
		return zone{kind: zoneOffset, offset: off}, true
	}
	return zone{}, false
}

func parseTime(s string) (Time, bool) {
	if len(s) < 5 {
		return Time{}, false
	}
	nanos, n, ok := parseClock(s)
	if !ok {
		return Time{}, false
	}
	z, ok := parseZone(s[n:])
	if !ok {
		return Time{}, false
	}
	t := Time{nanos: nanos, zone: z}
	if z.kind == zoneNamed {
		// A time has no date to fix a named zone's offset; take the zone's
		// standard offset on 1970-01-01.
		dt, _ := DateTime{nanos: nanos, zone: z}.resolveLocal()
		t.zone.offset = dt.zone.offset
	}
	return t, true
}

func parseDateTime(s string) (DateTime, bool) {
	d, n, ok := parseDatePrefix(s)
	if !ok {
		return DateTime{}, false
	}
	if n == len(s) { // a date alone is its midnight
		return DateTime{days: d.days}, true
	}
	if s[n] != 'T' && s[n] != 't' {
		return DateTime{}, false
	}
	t, ok := parseTime(s[n+1:])
	if !ok {
		return DateTime{}, false
	}
	return DateTime{days: d.days, nanos: t.nanos, zone: t.zone}.resolveLocal()
}

// parseDuration reads an ISO 8601 duration: only years and months make a
// years and months duration, only days, hours, minutes and seconds a days
// and time duration; mixing both is not a FEEL duration.
func parseDuration(s string) (Value, bool) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg = true
		s = s[1:]
	}
	if len(s) < 2 || s[0] != 'P' {
		return Null, false
	}
	s = s[1:]
	var years, months, days, hours, minutes int64
	var secs Decimal
	hasYM, hasDT, inTime := false, false, false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime || len(s) == 1 {
				return Null, false
			}
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 || i == len(s) || i > 18 {
			return Null, false
		}
		num, unit := s[:i], s[i]
		s = s[i+1:]
		if unit == 'S' && inTime {
			d, ok := ParseDecimal(num)
			if !ok || d.Sign() < 0 {
				return Null, false
			}
			secs, hasDT = d, true
			continue
		}
		d, ok := ParseDecimal(num)
		n, isInt := d.Int64()
		if !ok || !isInt || strings.Contains(num, ".") {
			return Null, false
		}
		switch {
		case unit == 'Y' && !inTime:
			years, hasYM = n, true
		case unit == 'M' && !inTime:
			months, hasYM = n, true
		case unit == 'W' && !inTime:
			days, hasDT = days+7*n, true
		case unit == 'D' && !inTime:
			days, hasDT = days+n, true
		case unit == 'H' && inTime:
			hours, hasDT = n, true
		case unit == 'M' && inTime:
			minutes, hasDT = n, true
		default:
			return Null, false
		}
	}
	if hasYM == hasDT {
		return Null, false
	}
	if hasYM {
		if years > 1e9 || months > 1e10 {
			return Null, false
		}
		m := years*12 + months
		if neg {
			m = -m
		}
		return YearsMonthsValue(YearsMonths(m)), true
	}
	if days > 1e12 || hours > 1e13 || minutes > 1e14 {
		return Null, false
	}
	whole, _ := Decimal{u: days*86400 + hours*3600 + minutes*60}.Add(secs)
	if neg {
		whole = whole.Neg()
	}
	d, ok := durationFromSeconds(whole)
	if !ok {
		return Null, false
	}
	return DurationValue(d), true
}

// parseTemporal reads the text of an @"..." literal.
func parseTemporal(s string) (Value, bool) {
	switch {
	case strings.HasPrefix(s, "P") || strings.HasPrefix(s, "-P"):
		return parseDuration(s)
	case len(s) >= 3 && s[2] == ':':
		t, ok := parseTime(s)
		if !ok {
			return Null, false
		}
		return TimeValue(t), true
	case strings.ContainsAny(s, "Tt"):
		dt, ok := parseDateTime(s)
		if !ok {
			return Null, false
		}
		return DateTimeValue(dt), true
	default:
		d, ok := parseDate(s)
		if !ok {
			return Null, false
		}
		return DateValue(d), true
	}
}
