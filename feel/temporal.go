package feel

import (
	"math/big"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Date is a calendar date of the proleptic Gregorian calendar.
type Date struct{ days int64 } // days since 1970-01-01

// Years FEEL can write (DMN: -999,999,999 to 999,999,999).
const maxYear = 999_999_999

// NewDate returns the date year-month-day; false when there is no such day.
func NewDate(year int64, month, day int) (Date, bool) {
	if year < -maxYear || year > maxYear || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return Date{}, false
	}
	return Date{days: daysFromCivil(year, month, day)}, true
}

// Parts returns year, month (1-12) and day.
func (d Date) Parts() (year int64, month, day int) { return civilFromDays(d.days) }

func (d Date) String() string {
	y, m, dd := d.Parts()
	var b strings.Builder
	writeDate(&b, y, m, dd)
	return b.String()
}

func writeDate(b *strings.Builder, y int64, m, d int) {
	if y < 0 {
		b.WriteByte('-')
		y = -y
	}
	ys := strconv.FormatInt(y, 10)
	for i := len(ys); i < 4; i++ {
		b.WriteByte('0')
	}
	b.WriteString(ys)
	b.WriteByte('-')
	write2(b, m)
	b.WriteByte('-')
	write2(b, d)
}

func write2(b *strings.Builder, n int) {
	b.WriteByte(byte('0' + n/10))
	b.WriteByte(byte('0' + n%10))
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// daysFromCivil counts days from 1970-01-01 (eras of 400 years, years
// starting in March so that the leap day comes last).
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (int64, int, int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := int(doy - (153*mp+2)/5 + 1)
	m := int(mp + 3)
	if mp >= 10 {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// addMonths moves a date by months, clamping the day to the month's last
// (2024-01-31 + 1 month = 2024-02-29), as java.time and FEEL do.
func addMonths(days int64, months int64) (int64, bool) {
	y, m, d := civilFromDays(days)
	total := y*12 + int64(m-1) + months
	ny := floorDiv(total, 12)
	nm := int(floorMod(total, 12)) + 1
	if ny < -maxYear || ny > maxYear {
		return 0, false
	}
	return daysFromCivil(ny, nm, min(d, daysIn(ny, nm))), true
}

const (
	nanosPerSecond = int64(time.Second)
	nanosPerDay    = 86400 * nanosPerSecond
)

type zoneKind uint8

const (
	zoneLocal  zoneKind = iota // no zone: a local time
	zoneOffset                 // a fixed offset (Z, +01:00)
	zoneNamed                  // an IANA zone (@Europe/Paris)
)

// zone is the time zone of a time or date and time. For named zones offset
// is the one in force at the value's instant.
type zone struct {
	kind   zoneKind
	offset int32 // seconds east of UTC
	name   string
	loc    *time.Location
}

var (
	zoneCache     sync.Map // name → *time.Location (nil: not a zone)
	zoneCacheSize atomic.Int64
)

// loadZone finds an IANA zone. The tz database is read once per name and
// cached: zones are data, not a clock, so evaluation stays deterministic
// for a given tz database.
func loadZone(name string) (*time.Location, bool) {
	if l, ok := zoneCache.Load(name); ok {
		loc := l.(*time.Location)
		return loc, loc != nil
	}
	if name == "" || strings.ContainsAny(name, " \\") || strings.Contains(name, "..") || name == "Local" {
		return nil, false
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = nil
	}
	// Unknown names are cached too (as nil), up to a bound, so that a
	// stream of bad names does not read the tz database over and over.
	if zoneCacheSize.Add(1) <= 1000 {
		zoneCache.Store(name, l)
	}
	return l, l != nil
}

func (z zone) write(b *strings.Builder) {
	switch z.kind {
	case zoneOffset:
		writeOffset(b, z.offset)
	case zoneNamed:
		b.WriteByte('@')
		b.WriteString(z.name)
	}
}

func writeOffset(b *strings.Builder, off int32) {
	if off == 0 {
		b.WriteByte('Z')
		return
	}
	if off < 0 {
		b.WriteByte('-')
		off = -off
	} else {
		b.WriteByte('+')
	}
	write2(b, int(off/3600))
	b.WriteByte(':')
	write2(b, int(off/60%60))
	if off%60 != 0 {
		b.WriteByte(':')
		write2(b, int(off%60))
	}
}

// Time is a time of day, local or with a zone.
type Time struct {
	nanos int64 // since midnight
	zone  zone
}

// NewTime returns a local time of day.
func NewTime(hour, minute, second, nanosecond int) (Time, bool) {
	if hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || nanosecond < 0 || nanosecond >= 1e9 {
		return Time{}, false
	}
	return Time{nanos: int64(hour)*3600*nanosPerSecond + int64(minute)*60*nanosPerSecond + int64(second)*nanosPerSecond + int64(nanosecond)}, true
}

// WithOffset returns t at a fixed offset from UTC (seconds east).
func (t Time) WithOffset(seconds int) Time {
	t.zone = zone{kind: zoneOffset, offset: int32(seconds)}
	return t
}

func (t Time) String() string {
	var b strings.Builder
	writeClock(&b, t.nanos)
	t.zone.write(&b)
	return b.String()
}

func writeClock(b *strings.Builder, nanos int64) {
	s := nanos / nanosPerSecond
	write2(b, int(s/3600))
	b.WriteByte(':')
	write2(b, int(s/60%60))
	b.WriteByte(':')
	write2(b, int(s%60))
	if f := nanos % nanosPerSecond; f != 0 {
		fs := strconv.FormatInt(f+nanosPerSecond, 10)[1:]
		b.WriteByte('.')
		b.WriteString(strings.TrimRight(fs, "0"))
	}
}

// DateTime is a date and time of day, local or with a zone.
type DateTime struct {
	days  int64 // local date
	nanos int64 // local time of day
	zone  zone
}

// DateTimeFromTime returns the instant t in t's location: UTC becomes the
// offset Z, other named locations keep their name.
func DateTimeFromTime(t time.Time) DateTime {
	y, m, d := t.Date()
	_, off := t.Zone()
	dt := DateTime{
		days:  daysFromCivil(int64(y), int(m), d),
		nanos: int64(t.Hour())*3600*nanosPerSecond + int64(t.Minute())*60*nanosPerSecond + int64(t.Second())*nanosPerSecond + int64(t.Nanosecond()),
		zone:  zone{kind: zoneOffset, offset: int32(off)},
	}
	if l := t.Location(); l != time.UTC && l.String() != "" && l.String() != "Local" {
		if _, ok := loadZone(l.String()); ok {
			dt.zone = zone{kind: zoneNamed, offset: int32(off), name: l.String(), loc: l}
		}
	}
	return dt
}

// Time returns the instant of a zoned date and time; false for a local one.
func (t DateTime) Time() (time.Time, bool) {
	if t.zone.kind == zoneLocal {
		return time.Time{}, false
	}
	sec, nsec := t.epoch()
	tt := time.Unix(sec, nsec)
	if t.zone.kind == zoneNamed {
		return tt.In(t.zone.loc), true
	}
	return tt.In(time.FixedZone("", int(t.zone.offset))), true
}

// epoch returns seconds and nanoseconds since 1970-01-01T00:00:00 (UTC for a
// zoned value, local for a local one).
func (t DateTime) epoch() (int64, int64) {
	sec := t.days*86400 + t.nanos/nanosPerSecond - int64(t.zone.offset)
	return sec, t.nanos % nanosPerSecond
}

func (t DateTime) String() string {
	var b strings.Builder
	y, m, d := civilFromDays(t.days)
	writeDate(&b, y, m, d)
	b.WriteByte('T')
	writeClock(&b, t.nanos)
	t.zone.write(&b)
	return b.String()
}

// resolveLocal fixes the offset of a named zone for the value's local date
// and time (a time in a gap moves forward, as java.time does).
func (t DateTime) resolveLocal() (DateTime, bool) {
	if t.zone.kind != zoneNamed {
		return t, true
	}
	y, m, d := civilFromDays(t.days)
	s := t.nanos / nanosPerSecond
	tt := time.Date(int(y), time.Month(m), d, int(s/3600), int(s/60%60), int(s%60), int(t.nanos%nanosPerSecond), t.zone.loc)
	return fromInstant(tt.Unix(), int64(tt.Nanosecond()), t.zone)
}

// fromInstant returns the local fields of an instant in zone z.
func fromInstant(sec, nsec int64, z zone) (DateTime, bool) {
	if z.kind == zoneNamed {
		_, off := time.Unix(sec, 0).In(z.loc).Zone()
		z.offset = int32(off)
	}
	local := sec + int64(z.offset)
	days := floorDiv(local, 86400)
	y, _, _ := civilFromDays(days)
	if y < -maxYear || y > maxYear {
		return DateTime{}, false
	}
	return DateTime{days: days, nanos: floorMod(local, 86400)*nanosPerSecond + nsec, zone: z}, true
}

// Duration is a days and time duration, exact to the nanosecond.
type Duration struct {
	sec  int64
	nsec int32 // same sign as sec
}

// DurationOf converts a Go duration.
func DurationOf(d time.Duration) Duration {
	return Duration{sec: int64(d / time.Second), nsec: int32(d % time.Second)}
}

// Seconds returns the whole seconds and the nanoseconds (same sign).
func (d Duration) Seconds() (int64, int32) { return d.sec, d.nsec }

func (d Duration) sign() int {
	switch {
	case d.sec < 0 || d.nsec < 0:
		return -1
	case d.sec > 0 || d.nsec > 0:
		return 1
	}
	return 0
}

func (d Duration) String() string {
	if d.sign() == 0 {
		return "PT0S"
	}
	var b strings.Builder
	sec, nsec := d.sec, int64(d.nsec)
	if d.sign() < 0 {
		b.WriteByte('-')
		sec, nsec = -sec, -nsec
	}
	b.WriteByte('P')
	if days := sec / 86400; days > 0 {
		b.WriteString(strconv.FormatInt(days, 10))
		b.WriteByte('D')
	}
	rest := sec % 86400
	if rest == 0 && nsec == 0 {
		return b.String()
	}
	b.WriteByte('T')
	if h := rest / 3600; h > 0 {
		b.WriteString(strconv.FormatInt(h, 10))
		b.WriteByte('H')
	}
	if m := rest / 60 % 60; m > 0 {
		b.WriteString(strconv.FormatInt(m, 10))
		b.WriteByte('M')
	}
	if s := rest % 60; s > 0 || nsec > 0 {
		b.WriteString(strconv.FormatInt(s, 10))
		if nsec > 0 {
			b.WriteByte('.')
			b.WriteString(strings.TrimRight(strconv.FormatInt(nsec+nanosPerSecond, 10)[1:], "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

// decimalSeconds returns the duration in seconds as a decimal.
func (d Duration) decimalSeconds() Decimal {
	x, _ := Decimal{u: d.sec}.Mul(Decimal{u: nanosPerSecond})
	x, _ = x.Add(Decimal{u: int64(d.nsec)})
	return Decimal{u: x.u, b: x.b, scale: x.scale + 9}
}

// durationFromSeconds rounds a number of seconds to the nanosecond.
func durationFromSeconds(s Decimal) (Duration, bool) {
	r, ok := s.round(9, roundHalfEven)
	if !ok {
		return Duration{}, false
	}
	ns := r.bigU()
	if ns.BitLen() > 120 {
		return Duration{}, false
	}
	q, m := new(big.Int).QuoRem(ns, bigPow10(9), new(big.Int))
	if !q.IsInt64() {
		return Duration{}, false
	}
	return Duration{sec: q.Int64(), nsec: int32(m.Int64())}, true
}

// YearsMonths is a years and months duration, counted in months.
type YearsMonths int64

func (m YearsMonths) String() string {
	if m == 0 {
		return "P0M"
	}
	var b strings.Builder
	n := int64(m)
	if n < 0 {
		b.WriteByte('-')
		n = -n
	}
	b.WriteByte('P')
	if y := n / 12; y > 0 {
		b.WriteString(strconv.FormatInt(y, 10))
		b.WriteByte('Y')
	}
	if mm := n % 12; mm > 0 {
		b.WriteString(strconv.FormatInt(mm, 10))
		b.WriteByte('M')
	}
	return b.String()
}
