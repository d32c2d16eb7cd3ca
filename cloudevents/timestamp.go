package cloudevents

import (
	"fmt"
	"time"
)

// parseTimestamp parses RFC 3339 (section 5.6 date-time) exactly:
// YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), 'T' and 'Z' in either case,
// a leap second :60 allowed. time.Parse is not used because it accepts
// things RFC 3339 does not (and refuses :60).
func parseTimestamp(s string) (time.Time, string) {
	const short = "an RFC 3339 timestamp looks like 2024-05-01T12:30:00Z or 2024-05-01T12:30:00.5+02:00"
	if len(s) < len("2006-01-02T15:04:05") {
		return time.Time{}, short
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for j := i; j < i+n; j++ {
			if !isDigit(s[j]) {
				return 0, false
			}
			v = v*10 + int(s[j]-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' ||
		(s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, short
	}
	switch {
	case month < 1 || month > 12:
		return time.Time{}, fmt.Sprintf("month %02d is out of range", month)
	case day < 1 || day > daysIn(month, year):
		return time.Time{}, fmt.Sprintf("day %02d is out of range for %04d-%02d", day, year, month)
	case hour > 23:
		return time.Time{}, fmt.Sprintf("hour %02d is out of range", hour)
	case minute > 59:
		return time.Time{}, fmt.Sprintf("minute %02d is out of range", minute)
	case sec > 60:
		return time.Time{}, fmt.Sprintf("second %02d is out of range", sec)
	}
	i := 19
	nsec := 0
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			if i-start < 9 {
				nsec = nsec*10 + int(s[i]-'0')
			}
			i++
		}
		if i == start {
			return time.Time{}, "a fraction of a second needs digits after '.'"
		}
		for k := i - start; k < 9; k++ {
			nsec *= 10
		}
	}
	if i >= len(s) {
		return time.Time{}, "a timestamp needs a time zone offset (Z or +HH:MM)"
	}
	offset := 0
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(s)-i != 6 || s[i+3] != ':' {
			return time.Time{}, "a time zone offset is +HH:MM or -HH:MM"
		}
		oh, ok1 := num(i+1, 2)
		om, ok2 := num(i+4, 2)
		if !ok1 || !ok2 {
			return time.Time{}, "a time zone offset is +HH:MM or -HH:MM"
		}
		if oh > 23 || om > 59 {
			return time.Time{}, "the time zone offset is out of range"
		}
		offset = (oh*60 + om) * 60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return time.Time{}, fmt.Sprintf("unexpected %q at byte %d; a time zone offset is Z or +HH:MM", rune(s[i]), i)
	}
	if i != len(s) {
		return time.Time{}, fmt.Sprintf("unexpected text %q after the timestamp", s[i:])
	}
	if sec == 60 {
		sec, nsec = 59, 999999999
	}
	loc := time.UTC
	if offset != 0 {
		loc = time.FixedZone("", offset)
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), ""
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
