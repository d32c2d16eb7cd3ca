package timer

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxSource bounds the text accepted, so a hostile value costs little.
const maxSource = 256

// ParseDate reads an ISO-8601 date-time with an offset or a zone:
// 2024-03-01T10:00:00Z, 2024-03-01T10:00:00.5+01:00,
// 2024-03-01T10:00+0100, 2024-03-01T10:00:00+01:00[Europe/Paris] (Java's
// form) or 2024-03-01T10:00:00@Europe/Paris (FEEL's form). A date-time
// without an offset or zone is refused: it would depend on the server's
// zone.
func ParseDate(s string) (*Schedule, error) {
	t, err := parseDateTime(s)
	if err != nil {
		return nil, err
	}
	return &Schedule{kind: Date, source: s, date: t}, nil
}

// ParseDuration reads an ISO-8601 duration (see ParsePeriod).
func ParseDuration(s string) (*Schedule, error) {
	if len(s) > maxSource {
		return nil, fmt.Errorf("timer duration is longer than %d characters", maxSource)
	}
	p, err := ParsePeriod(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	return &Schedule{kind: Duration, source: s, period: p}, nil
}

// ParseCycle reads a time cycle: an ISO-8601 repeating interval
// (R/PT10S, R5/PT1H, R3/2024-01-01T08:00:00Z/P1D) or a cron expression
// (0 0 9-17 * * MON-FRI, @daily).
func ParseCycle(s string) (*Schedule, error) {
	if len(s) > maxSource {
		return nil, fmt.Errorf("timer cycle is longer than %d characters", maxSource)
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, fmt.Errorf("the timer cycle is empty")
	}
	if t[0] != 'R' && t[0] != 'r' || strings.ContainsAny(t, " \t") {
		c, err := parseCron(t)
		if err != nil {
			return nil, err
		}
		return &Schedule{kind: Cron, source: s, cron: c}, nil
	}
	parts := strings.Split(t, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("%q is not a repeating interval such as R/PT10S, R5/PT1H or R3/2024-01-01T08:00:00Z/P1D", s)
	}
	sc := &Schedule{kind: Cycle, source: s, repetitions: -1}
	if n := parts[0][1:]; n != "" {
		r, err := strconv.Atoi(n)
		if err != nil || r < 1 {
			return nil, fmt.Errorf("%q: the number of repetitions after R must be a whole number of at least 1", s)
		}
		sc.repetitions = r
	}
	if len(parts) == 3 {
		start, err := parseDateTime(parts[1])
		if err != nil {
			return nil, fmt.Errorf("%q: the start: %v", s, err)
		}
		sc.date, sc.hasStart = start, true
	}
	p, err := ParsePeriod(parts[len(parts)-1])
	if err != nil {
		return nil, fmt.Errorf("%q: the interval: %v", s, err)
	}
	if !p.positive() {
		return nil, fmt.Errorf("%q: the interval must be longer than zero", s)
	}
	sc.period = p
	return sc, nil
}

// Parse reads s as the given kind (Date, Duration or Cycle; Cycle also
// accepts cron expressions).
func Parse(kind Kind, s string) (*Schedule, error) {
	switch kind {
	case Date:
		return ParseDate(s)
	case Duration:
		return ParseDuration(s)
	case Cycle, Cron:
		return ParseCycle(s)
	}
	return nil, fmt.Errorf("unknown timer kind %d", kind)
}

// parseDateTime reads the date-time forms ParseDate accepts.
func parseDateTime(s string) (time.Time, error) {
	if len(s) > maxSource {
		return time.Time{}, fmt.Errorf("timer date is longer than %d characters", maxSource)
	}
	in := strings.TrimSpace(s)
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("%q is not an ISO-8601 date-time with an offset, such as 2024-03-01T10:00:00Z or 2024-03-01T10:00:00+01:00[Europe/Paris]", s)
	}
	// A zone id, in Java's brackets or after FEEL's '@'.
	var loc *time.Location
	rest := in
	if i := strings.IndexAny(rest, "[@"); i >= 0 {
		zone := rest[i+1:]
		if rest[i] == '[' {
			if !strings.HasSuffix(zone, "]") {
				return bad()
			}
			zone = zone[:len(zone)-1]
		}
		l, err := loadZone(zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: unknown time zone %q", s, zone)
		}
		loc, rest = l, rest[:i]
	}
	date, clock, ok := strings.Cut(rest, "T")
	if !ok {
		date, clock, ok = strings.Cut(rest, "t")
	}
	if !ok || len(date) != 10 {
		return bad()
	}
	// Split the offset off the clock.
	offset := ""
	if strings.HasSuffix(clock, "Z") || strings.HasSuffix(clock, "z") {
		offset, clock = "Z", clock[:len(clock)-1]
	} else if i := strings.LastIndexAny(clock, "+-"); i >= 0 {
		offset, clock = clock[i:], clock[:i]
	}
	if offset == "" && loc == nil {
		return time.Time{}, fmt.Errorf("%q has no offset or time zone (write 2024-03-01T10:00:00Z, or +01:00, or [Europe/Paris])", s)
	}
	layout := ""
	switch {
	case len(clock) == 5:
		layout = "15:04"
	case len(clock) == 8:
		layout = "15:04:05"
	case len(clock) > 9 && clock[8] == '.':
		layout = "15:04:05." + strings.Repeat("0", len(clock)-9)
	default:
		return bad()
	}
	civil, err := time.ParseInLocation("2006-01-02T"+layout, date+"T"+clock, time.UTC)
	if err != nil {
		return bad()
	}
	if offset == "" {
		y, mo, d := civil.Date()
		h, mi, sec := civil.Clock()
		return time.Date(y, mo, d, h, mi, sec, civil.Nanosecond(), loc), nil
	}
	off, err := parseOffset(offset)
	if err != nil {
		return bad()
	}
	t := civil.Add(-time.Duration(off) * time.Second)
	if loc == nil {
		loc = time.FixedZone("", off)
		if off == 0 {
			loc = time.UTC
		}
	}
	return t.In(loc), nil
}

// parseOffset reads Z, +hh, +hh:mm or +hhmm into seconds east of UTC.
func parseOffset(s string) (int, error) {
	if s == "Z" {
		return 0, nil
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	if len(digits) != 2 && len(digits) != 4 || strings.Count(s, ":") > 1 {
		return 0, fmt.Errorf("bad offset %q", s)
	}
	h, err := strconv.Atoi(digits[:2])
	if err != nil || h > 18 {
		return 0, fmt.Errorf("bad offset %q", s)
	}
	m := 0
	if len(digits) == 4 {
		if m, err = strconv.Atoi(digits[2:]); err != nil || m > 59 {
			return 0, fmt.Errorf("bad offset %q", s)
		}
	}
	return sign * (h*3600 + m*60), nil
}

// loadZone resolves an IANA zone id (Europe/Paris), or Z and UTC. It refuses
// names that could reach outside the zone database.
func loadZone(name string) (*time.Location, error) {
	// "Local" would be the server's own zone: a model must not mean
	// different times on different machines.
	if name == "" || name == "Local" || len(name) > 64 || strings.ContainsAny(name, " \\") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("bad zone")
	}
	if name == "Z" || name == "UTC" {
		return time.UTC, nil
	}
	return time.LoadLocation(name)
}
