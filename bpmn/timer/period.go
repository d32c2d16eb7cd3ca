package timer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is an ISO-8601 duration: a calendar part (years, months, days),
// which follows the calendar of the time it is added to, and an exact part
// (hours, minutes, seconds). P1D is one calendar day (23 or 25 hours across
// a daylight-saving change); PT24H is always 24 hours.
type Period struct {
	Years, Months, Days int
	Time                time.Duration
}

// Limits that keep every computation inside int64 and time.Time's range.
const (
	maxCalendarField = 100_000
	maxTime          = time.Duration(1<<63 - 1)
)

// IsZero reports a period of no length.
func (p Period) IsZero() bool { return p == Period{} }

// positive reports whether adding the period moves time forward.
func (p Period) positive() bool {
	return p.Years >= 0 && p.Months >= 0 && p.Days >= 0 && p.Time >= 0 && !p.IsZero()
}

// AddTo returns t plus the period: months are added first, keeping the day
// of the month but never passing the month's last day (31 January plus one
// month is the last day of February), then days, then the exact part.
func (p Period) AddTo(t time.Time) time.Time { return p.addScaled(t, 1) }

// addScaled returns t + k·p, computing k·p field by field (not by k
// additions), so grid points of a cycle do not drift at month ends.
func (p Period) addScaled(t time.Time, k int64) time.Time {
	months := k * int64(12*p.Years+p.Months)
	if months != 0 {
		t = addMonths(t, months)
	}
	if p.Days != 0 {
		t = t.AddDate(0, 0, int(k*int64(p.Days)))
	}
	if p.Time != 0 {
		t = t.Add(time.Duration(k) * p.Time)
	}
	return t
}

// addMonths adds n months, clamping the day to the last day of the month.
func addMonths(t time.Time, n int64) time.Time {
	y, m, d := t.Date()
	total := int64(y)*12 + int64(m-1) + n
	ny, nm := int(total/12), time.Month(total%12+1)
	if total < 0 {
		ny, nm = int((total-11)/12), time.Month((total%12+12)%12+1)
	}
	if last := daysIn(ny, nm); d > last {
		d = last
	}
	hh, mm, ss := t.Clock()
	return time.Date(ny, nm, d, hh, mm, ss, t.Nanosecond(), t.Location())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// approx is the period's length with average months, for estimates only.
func (p Period) approx() time.Duration {
	const day = 24 * time.Hour
	d := float64(p.Time) + float64(p.Days)*float64(day) +
		float64(12*p.Years+p.Months)*30.436875*float64(day)
	if d >= float64(maxTime) {
		return maxTime
	}
	return time.Duration(d)
}

// String formats the period in ISO-8601 (PT0S when zero).
func (p Period) String() string {
	var b strings.Builder
	b.WriteByte('P')
	if p.Years != 0 {
		fmt.Fprintf(&b, "%dY", p.Years)
	}
	if p.Months != 0 {
		fmt.Fprintf(&b, "%dM", p.Months)
	}
	if p.Days != 0 {
		fmt.Fprintf(&b, "%dD", p.Days)
	}
	if p.Time != 0 || b.Len() == 1 {
		b.WriteByte('T')
		rest := p.Time
		if h := rest / time.Hour; h != 0 {
			fmt.Fprintf(&b, "%dH", h)
			rest -= h * time.Hour
		}
		if m := rest / time.Minute; m != 0 {
			fmt.Fprintf(&b, "%dM", m)
			rest -= m * time.Minute
		}
		if rest != 0 || b.Len() == 2 {
			b.WriteString(strconv.FormatFloat(rest.Seconds(), 'f', -1, 64))
			b.WriteByte('S')
		}
	}
	return b.String()
}

// ParsePeriod reads an ISO-8601 duration as Zeebe does: PnYnMnWnDTnHnMnS,
// with any part omitted but at least one present, a fraction allowed on the
// seconds, letters in either case, and a leading '-' for a negative
// duration.
func ParsePeriod(s string) (Period, error) {
	in := s
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if len(s) < 2 || (s[0] != 'P' && s[0] != 'p') {
		return Period{}, fmt.Errorf("%q is not an ISO-8601 duration such as PT10S, P1DT12H or P2W", in)
	}
	s = s[1:]
	var p Period
	inTime, any := false, false
	order := "YMWD" // designators allowed, in order, before T
	for len(s) > 0 {
		if s[0] == 'T' || s[0] == 't' {
			if inTime {
				return Period{}, fmt.Errorf("%q has two T separators", in)
			}
			inTime, order, s = true, "HMS", s[1:]
			if s == "" {
				return Period{}, fmt.Errorf("%q has nothing after T", in)
			}
			continue
		}
		n := 0
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '.' || s[n] == ',') {
			n++
		}
		if n == 0 || n == len(s) {
			return Period{}, fmt.Errorf("%q is not an ISO-8601 duration such as PT10S, P1DT12H or P2W", in)
		}
		num, unit := strings.ReplaceAll(s[:n], ",", "."), s[n]
		if unit >= 'a' && unit <= 'z' {
			unit -= 'a' - 'A'
		}
		s = s[n+1:]
		i := strings.IndexByte(order, unit)
		if i < 0 {
			return Period{}, fmt.Errorf("%q: unexpected %q (the order is PnYnMnWnDTnHnMnS)", in, string(rune(unit)))
		}
		order = order[i+1:]
		any = true
		if unit == 'S' && inTime {
			d, err := parseSeconds(num)
			if err != nil {
				return Period{}, fmt.Errorf("%q: %v", in, err)
			}
			if p.Time > maxTime-d {
				return Period{}, fmt.Errorf("%q is too long", in)
			}
			p.Time += d
			continue
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return Period{}, fmt.Errorf("%q: %q is not a whole number (only seconds may have a fraction)", in, num)
		}
		if !inTime {
			if v > maxCalendarField {
				return Period{}, fmt.Errorf("%q is too long", in)
			}
			switch unit {
			case 'Y':
				p.Years = v
			case 'M':
				p.Months = v
			case 'W':
				p.Days += 7 * v
			case 'D':
				p.Days += v
			}
			continue
		}
		unitDur := time.Hour
		if unit == 'M' {
			unitDur = time.Minute
		}
		if int64(v) > int64(maxTime/unitDur) || p.Time > maxTime-time.Duration(v)*unitDur {
			return Period{}, fmt.Errorf("%q is too long", in)
		}
		p.Time += time.Duration(v) * unitDur
	}
	if !any {
		return Period{}, fmt.Errorf("%q is not an ISO-8601 duration such as PT10S, P1DT12H or P2W", in)
	}
	if neg {
		p = Period{-p.Years, -p.Months, -p.Days, -p.Time}
	}
	return p, nil
}

// parseSeconds reads "12", "1.5" or "0.000000001" as a duration.
func parseSeconds(num string) (time.Duration, error) {
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" || strings.Contains(frac, ".") || len(frac) > 9 {
		return 0, fmt.Errorf("%q is not a number of seconds", num)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > int64(maxTime/time.Second) {
		return 0, fmt.Errorf("%q is not a number of seconds", num)
	}
	d := time.Duration(w) * time.Second
	if frac != "" {
		f, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of seconds", num)
		}
		if d > maxTime-time.Duration(f) {
			return 0, fmt.Errorf("%q is too long", num)
		}
		d += time.Duration(f)
	}
	return d, nil
}
