package timer

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// cronSpec is a parsed six-field cron expression, with Spring's syntax and
// meaning (the one Zeebe uses): second minute hour day-of-month month
// day-of-week. Day-of-month and day-of-week must both match; '?' is '*'.
type cronSpec struct {
	second, minute uint64 // bit n set: value n allowed
	hour           uint32
	month          uint16 // bits 1..12
	dom            uint32 // bits 1..31, plain days of the month
	dow            uint8  // bits 0..6, Sunday = 0, plain days of the week

	// Day-of-month specials: L (last day, minus lastDayOffset), nW (the
	// weekday nearest to day n), LW (the last weekday).
	lastDay       bool
	lastDayOffset int
	nearest       []int
	lastWeekday   bool
	// Day-of-week specials: nL (the last weekday n of the month) and n#k
	// (the k-th weekday n of the month).
	lastDow []time.Weekday
	nthDow  []nthWeekday
	// domAny and dowAny record '*' or '?', which match every day.
	domAny, dowAny bool
}

type nthWeekday struct {
	day time.Weekday
	n   int
}

var cronMacros = map[string]string{
	"@yearly":   "0 0 0 1 1 *",
	"@annually": "0 0 0 1 1 *",
	"@monthly":  "0 0 0 1 * *",
	"@weekly":   "0 0 0 * * 0",
	"@daily":    "0 0 0 * * *",
	"@midnight": "0 0 0 * * *",
	"@hourly":   "0 0 * * * *",
}

var monthNames = []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
var dayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// parseCron reads a cron expression.
func parseCron(s string) (*cronSpec, error) {
	expr := s
	if strings.HasPrefix(s, "@") {
		m, ok := cronMacros[strings.ToLower(s)]
		if !ok {
			return nil, fmt.Errorf("%q is not a cron macro (@yearly, @monthly, @weekly, @daily, @hourly)", s)
		}
		expr = m
	}
	fields := strings.Fields(expr)
	if len(fields) != 6 {
		return nil, fmt.Errorf("%q is neither a repeating interval (R/PT10S) nor a cron expression of six fields (second minute hour day-of-month month day-of-week), it has %d fields", s, len(fields))
	}
	c := &cronSpec{}
	var err error
	errf := func(name string, err error) error {
		return fmt.Errorf("cron expression %q: %s: %v", s, name, err)
	}
	if c.second, err = parseField(fields[0], 0, 59, nil); err != nil {
		return nil, errf("seconds", err)
	}
	if c.minute, err = parseField(fields[1], 0, 59, nil); err != nil {
		return nil, errf("minutes", err)
	}
	h, err := parseField(fields[2], 0, 23, nil)
	if err != nil {
		return nil, errf("hours", err)
	}
	c.hour = uint32(h)
	if err = c.parseDayOfMonth(fields[3]); err != nil {
		return nil, errf("day of month", err)
	}
	mo, err := parseField(fields[4], 1, 12, monthNames)
	if err != nil {
		return nil, errf("month", err)
	}
	c.month = uint16(mo)
	if err = c.parseDayOfWeek(fields[5]); err != nil {
		return nil, errf("day of week", err)
	}
	return c, nil
}

// parseField reads a comma-separated list of *, n, n-m, with an optional
// /step, into a bit set. names, when given, are the names of min, min+1...
func parseField(f string, min, max int, names []string) (uint64, error) {
	var set uint64
	for _, item := range strings.Split(f, ",") {
		lo, hi, err := parseRange(item, min, max, names)
		if err != nil {
			return 0, err
		}
		step := 1
		if i := strings.IndexByte(item, '/'); i >= 0 {
			if step, err = strconv.Atoi(item[i+1:]); err != nil || step < 1 || step > max {
				return 0, fmt.Errorf("%q: the step after / must be a whole number from 1 to %d", item, max)
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// parseRange reads the part of an item before any /step. "n/step" runs from
// n to max, as in Spring.
func parseRange(item string, min, max int, names []string) (int, int, error) {
	r, _, hasStep := strings.Cut(item, "/")
	if r == "*" || r == "?" {
		return min, max, nil
	}
	a, b, isRange := strings.Cut(r, "-")
	lo, err := parseValue(a, min, max, names)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		if hasStep {
			return lo, max, nil
		}
		return lo, lo, nil
	}
	hi, err := parseValue(b, min, max, names)
	if err != nil {
		return 0, 0, err
	}
	if hi == 0 && max == 7 {
		hi = 7 // a range of days ending on Sunday (MON-SUN)
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("%q: the range ends before it starts", r)
	}
	return lo, hi, nil
}

func parseValue(s string, min, max int, names []string) (int, error) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < min || v > max {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, min, max)
	}
	return v, nil
}

func (c *cronSpec) parseDayOfMonth(f string) error {
	if f == "*" || f == "?" {
		c.domAny = true
		return nil
	}
	var plain []string
	for _, item := range strings.Split(f, ",") {
		u := strings.ToUpper(item)
		switch {
		case u == "L":
			c.lastDay = true
		case u == "LW":
			c.lastWeekday = true
		case strings.HasPrefix(u, "L-"):
			n, err := strconv.Atoi(u[2:])
			if err != nil || n < 1 || n > 30 {
				return fmt.Errorf("%q: the offset after L- must be from 1 to 30", item)
			}
			c.lastDay, c.lastDayOffset = true, n
		case strings.HasSuffix(u, "W"):
			n, err := strconv.Atoi(u[:len(u)-1])
			if err != nil || n < 1 || n > 31 {
				return fmt.Errorf("%q: the day before W must be from 1 to 31", item)
			}
			c.nearest = append(c.nearest, n)
		default:
			plain = append(plain, item)
		}
	}
	if len(plain) > 0 {
		set, err := parseField(strings.Join(plain, ","), 1, 31, nil)
		if err != nil {
			return err
		}
		c.dom = uint32(set)
	}
	return nil
}

func (c *cronSpec) parseDayOfWeek(f string) error {
	if f == "*" || f == "?" {
		c.dowAny = true
		return nil
	}
	// Days are 0-7 (0 and 7 are Sunday) or SUN-SAT.
	names := append(append([]string{}, dayNames...), "SUN")
	var plain []string
	for _, item := range strings.Split(f, ",") {
		u := strings.ToUpper(item)
		switch {
		case strings.Contains(u, "#"):
			d, n, _ := strings.Cut(u, "#")
			day, err := parseValue(d, 0, 7, names)
			if err != nil {
				return err
			}
			k, err := strconv.Atoi(n)
			if err != nil || k < 1 || k > 5 {
				return fmt.Errorf("%q: the number after # must be from 1 to 5", item)
			}
			c.nthDow = append(c.nthDow, nthWeekday{time.Weekday(day % 7), k})
		case len(u) > 1 && strings.HasSuffix(u, "L"):
			day, err := parseValue(u[:len(u)-1], 0, 7, names)
			if err != nil {
				return err
			}
			c.lastDow = append(c.lastDow, time.Weekday(day%7))
		default:
			plain = append(plain, item)
		}
	}
	if len(plain) > 0 {
		set, err := parseField(strings.Join(plain, ","), 0, 7, names)
		if err != nil {
			return err
		}
		if set&(1<<7) != 0 {
			set |= 1
		}
		c.dow = uint8(set & 0x7f)
	}
	return nil
}

// dayMatches reports whether the date matches both day fields.
func (c *cronSpec) dayMatches(y int, m time.Month, d int) bool {
	last := daysIn(y, m)
	wd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()
	return c.domMatches(y, m, d, last) && c.dowMatches(d, wd, last)
}

func (c *cronSpec) domMatches(y int, m time.Month, d, last int) bool {
	if c.domAny || c.dom&(1<<d) != 0 {
		return true
	}
	if c.lastDay && d == last-c.lastDayOffset {
		return true
	}
	if c.lastWeekday && d == nearestWeekday(y, m, last, last) {
		return true
	}
	for _, n := range c.nearest {
		if n <= last && d == nearestWeekday(y, m, n, last) {
			return true
		}
	}
	return false
}

func (c *cronSpec) dowMatches(d int, wd time.Weekday, last int) bool {
	if c.dowAny || c.dow&(1<<wd) != 0 {
		return true
	}
	for _, l := range c.lastDow {
		if wd == l && d+7 > last {
			return true
		}
	}
	for _, n := range c.nthDow {
		if wd == n.day && (d-1)/7+1 == n.n {
			return true
		}
	}
	return false
}

// nearestWeekday is the Monday-to-Friday day of the month nearest to day
// n, never leaving the month.
func nearestWeekday(y int, m time.Month, n, last int) int {
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

// searchYears bounds the search: the Gregorian calendar repeats every 400
// years, so nothing found in that span is never found.
const searchYears = 400

// next returns the first matching instant strictly after `after`, walking
// civil fields in after's location and skipping whole months, days, hours
// and minutes that cannot match.
func (c *cronSpec) next(after time.Time) (time.Time, bool) {
	loc := after.Location()
	start := after.Truncate(time.Second).Add(time.Second)
	y, mo, d := start.Date()
	h, mi, s := start.Clock()
	limit := y + searchYears
	for y <= limit {
		switch {
		case c.month&(1<<mo) == 0:
			y, mo, d, h, mi, s = carry(y, mo+1, 1, 0, 0, 0)
		case !c.dayMatches(y, mo, d):
			y, mo, d, h, mi, s = carry(y, mo, d+1, 0, 0, 0)
		case c.hour>>h == 0:
			y, mo, d, h, mi, s = carry(y, mo, d+1, 0, 0, 0)
		case c.hour&(1<<h) == 0:
			h, mi, s = nextBit(uint64(c.hour), h), 0, 0
		case c.minute>>mi == 0:
			y, mo, d, h, mi, s = carry(y, mo, d, h+1, 0, 0)
		case c.minute&(1<<mi) == 0:
			mi, s = nextBit(c.minute, mi), 0
		case c.second>>s == 0:
			y, mo, d, h, mi, s = carry(y, mo, d, h, mi+1, 0)
		case c.second&(1<<s) == 0:
			s = nextBit(c.second, s)
		default:
			t := time.Date(y, mo, d, h, mi, s, 0, loc)
			// A local time skipped by a daylight-saving change does not
			// exist; a repeated one may come before `after`. Move on.
			if ty, tmo, td := t.Date(); ty == y && tmo == mo && td == d && t.Hour() == h && t.Minute() == mi && t.After(after) {
				return t, true
			}
			y, mo, d, h, mi, s = carry(y, mo, d, h, mi, s+1)
		}
	}
	return time.Time{}, false
}

// nextBit returns the lowest set bit of set at or above from (set>>from
// must not be zero).
func nextBit(set uint64, from int) int {
	return from + bits.TrailingZeros64(set>>from)
}

// carry normalises civil fields after one of them was incremented past its
// range.
func carry(y int, mo time.Month, d, h, mi, s int) (int, time.Month, int, int, int, int) {
	if s > 59 {
		s, mi = 0, mi+1
	}
	if mi > 59 {
		mi, h = 0, h+1
	}
	if h > 23 {
		h, d = 0, d+1
	}
	if mo <= 12 && d > daysIn(y, mo) {
		d, mo = 1, mo+1
	}
	if mo > 12 {
		mo, y = 1, y+1
	}
	return y, mo, d, h, mi, s
}
