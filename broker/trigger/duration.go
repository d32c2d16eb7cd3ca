package trigger

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads an ISO 8601 duration as Knative's delivery fields
// use them: PnW, or PnDTnHnMnS with any of the parts, a decimal fraction
// (with '.' or ',') allowed on the last part only. Years and months are
// refused: they have no fixed length. Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	bad := func(format string, args ...any) (time.Duration, error) {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration (as PT0.5S, PT1M30S, P1D): "+format, append([]any{s}, args...)...)
	}
	if strings.HasPrefix(s, "-") {
		return bad("a delay cannot be negative")
	}
	if len(s) < 3 || (s[0] != 'P' && s[0] != 'p') {
		return bad("it starts with P and needs at least one part")
	}
	rest := s[1:]
	var total float64
	inTime := false
	units := "YMWD" // allowed designators, in order, before T
	parts := 0
	fraction := false
	for len(rest) > 0 {
		if rest[0] == 'T' || rest[0] == 't' {
			if inTime {
				return bad("T appears twice")
			}
			inTime, units = true, "HMS"
			rest = rest[1:]
			if rest == "" {
				return bad("T must be followed by hours, minutes or seconds")
			}
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.' || rest[i] == ',') {
			i++
		}
		if i == 0 || i == len(rest) {
			return bad("expected a number followed by a designator (Y, M, W, D, H, M or S)")
		}
		if fraction {
			return bad("only the last part can have a fraction")
		}
		num := strings.Replace(rest[:i], ",", ".", 1)
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || strings.HasPrefix(num, ".") || strings.HasSuffix(num, ".") {
			return bad("%q is not a number", rest[:i])
		}
		fraction = strings.Contains(num, ".")
		d := rest[i] &^ 0x20 // upper case
		k := strings.IndexByte(units, d)
		if k < 0 {
			if !inTime && strings.IndexByte("HS", d) >= 0 {
				return bad("hours and seconds go after T (PT%s%c)", rest[:i], d)
			}
			return bad("unexpected designator %q here", rest[i])
		}
		units = units[k+1:]
		var unit time.Duration
		switch {
		case !inTime && (d == 'Y' || d == 'M'):
			return bad("years and months have no fixed length; use days (P30D) or weeks")
		case d == 'W':
			unit = 7 * 24 * time.Hour
		case d == 'D':
			unit = 24 * time.Hour
		case d == 'H':
			unit = time.Hour
		case d == 'M':
			unit = time.Minute
		case d == 'S':
			unit = time.Second
		}
		total += v * float64(unit)
		parts++
		rest = rest[i+1:]
	}
	if parts == 0 {
		return bad("it needs at least one part")
	}
	if total > math.MaxInt64 {
		return bad("too long")
	}
	return time.Duration(math.Round(total)), nil
}

// FormatDuration writes d as an ISO 8601 duration (PT1.5S, PT2M, P1DT2H).
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	if days := d / (24 * time.Hour); days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10))
		b.WriteByte('D')
		d -= days * 24 * time.Hour
	}
	if d == 0 {
		return b.String()
	}
	b.WriteByte('T')
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10))
		b.WriteByte('H')
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10))
		b.WriteByte('M')
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
		b.WriteByte('S')
	}
	return b.String()
}
