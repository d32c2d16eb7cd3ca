package feel

import "math"

// Arithmetic on FEEL values. Each operation returns null (false) when FEEL
// does not define it for its operands' types or the result is out of range.

func numberOrNull(d Decimal, ok bool) (Value, bool) {
	if !ok {
		return Null, false
	}
	return Number(d), true
}

func addValues(a, b Value) (Value, bool) {
	switch a.kind {
	case KindNumber:
		if b.kind == KindNumber {
			if a.p == nil && b.p == nil && a.scale == b.scale {
				if r := a.n + b.n; (r > a.n) == (b.n > 0) {
					return Value{kind: KindNumber, n: r, scale: a.scale}, true
				}
			}
			return numberOrNull(a.dec().Add(b.dec()))
		}
	case KindString:
		if b.kind == KindString {
			return String(a.str() + b.str()), true
		}
	case KindDuration:
		switch b.kind {
		case KindDuration:
			return durationOrNull(durationAdd(a.dur(), b.dur()))
		case KindDate, KindTime, KindDateTime:
			return addValues(b, a)
		}
	case KindYearsMonths:
		switch b.kind {
		case KindYearsMonths:
			if r := a.n + b.n; (r > a.n) == (b.n > 0) {
				return YearsMonthsValue(YearsMonths(r)), true
			}
			return Null, false
		case KindDate, KindDateTime:
			return addValues(b, a)
		}
	case KindDate:
		switch b.kind {
		case KindDuration:
			d := b.dur()
			secs := a.n*86400 + d.sec
			if d.nsec < 0 {
				secs--
			}
			return dateOrNull(floorDiv(secs, 86400))
		case KindYearsMonths:
			days, ok := addMonths(a.n, b.n)
			if !ok {
				return Null, false
			}
			return DateValue(Date{days: days}), true
		}
	case KindTime:
		if b.kind == KindDuration {
			t := *(*Time)(a.p)
			d := b.dur()
			t.nanos = floorMod(t.nanos+floorMod(d.sec, 86400)*nanosPerSecond+int64(d.nsec), nanosPerDay)
			return TimeValue(t), true
		}
	case KindDateTime:
		t := (*DateTime)(a.p)
		switch b.kind {
		case KindDuration:
			sec, nsec := t.epoch()
			d, ok := durationAdd(Duration{sec: sec, nsec: int32(nsec)}, b.dur())
			if !ok {
				return Null, false
			}
			if d.nsec < 0 {
				d.sec--
				d.nsec += int32(nanosPerSecond)
			}
			r, ok := fromInstant(d.sec, int64(d.nsec), t.zone)
			if !ok {
				return Null, false
			}
			return DateTimeValue(r), true
		case KindYearsMonths:
			days, ok := addMonths(t.days, b.n)
			if !ok {
				return Null, false
			}
			r, ok := DateTime{days: days, nanos: t.nanos, zone: t.zone}.resolveLocal()
			if !ok {
				return Null, false
			}
			return DateTimeValue(r), true
		}
	}
	return Null, false
}

func subValues(a, b Value) (Value, bool) {
	switch {
	case a.kind == KindNumber && b.kind == KindNumber:
		if a.p == nil && b.p == nil && a.scale == b.scale {
			if r := a.n - b.n; (r < a.n) == (b.n > 0) {
				return Value{kind: KindNumber, n: r, scale: a.scale}, true
			}
		}
		return numberOrNull(a.dec().Sub(b.dec()))
	case a.kind == KindDate && b.kind == KindDate:
		return DurationValue(Duration{sec: (a.n - b.n) * 86400}), true
	case a.kind == KindTime && b.kind == KindTime:
		x, y := (*Time)(a.p), (*Time)(b.p)
		if (x.zone.kind == zoneLocal) != (y.zone.kind == zoneLocal) {
			return Null, false
		}
		ns := (x.nanos - int64(x.zone.offset)*nanosPerSecond) - (y.nanos - int64(y.zone.offset)*nanosPerSecond)
		return DurationValue(Duration{sec: ns / nanosPerSecond, nsec: int32(ns % nanosPerSecond)}), true
	case a.kind == KindDateTime && b.kind == KindDateTime:
		x, y := (*DateTime)(a.p), (*DateTime)(b.p)
		if (x.zone.kind == zoneLocal) != (y.zone.kind == zoneLocal) {
			return Null, false
		}
		xs, xn := x.epoch()
		ys, yn := y.epoch()
		return durationOrNull(durationAdd(Duration{sec: xs, nsec: int32(xn)}, Duration{sec: -ys, nsec: -int32(yn)}))
	case b.kind == KindDuration || b.kind == KindYearsMonths:
		if a.kind == KindDuration && b.kind == KindYearsMonths || a.kind == KindYearsMonths && b.kind == KindDuration {
			return Null, false
		}
		return addValues(a, negValue(b))
	}
	return Null, false
}

func mulValues(a, b Value) (Value, bool) {
	switch {
	case a.kind == KindNumber && b.kind == KindNumber:
		if a.p == nil && b.p == nil {
			if r, ok := mulInt64(a.n, b.n); ok {
				if s := int64(a.scale) + int64(b.scale); s <= maxScale && s >= -maxAdjusted {
					return Value{kind: KindNumber, n: r, scale: int32(s)}, true
				}
			}
		}
		return numberOrNull(a.dec().Mul(b.dec()))
	case a.kind == KindNumber && (b.kind == KindDuration || b.kind == KindYearsMonths):
		return mulValues(b, a)
	case a.kind == KindDuration && b.kind == KindNumber:
		s, ok := a.dur().decimalSeconds().Mul(b.dec())
		if !ok {
			return Null, false
		}
		return durationOrNull(durationFromSeconds(s))
	case a.kind == KindYearsMonths && b.kind == KindNumber:
		m, ok := Decimal{u: a.n}.Mul(b.dec())
		if !ok {
			return Null, false
		}
		return yearsMonthsOf(m)
	}
	return Null, false
}

func divValues(a, b Value) (Value, bool) {
	switch {
	case a.kind == KindNumber && b.kind == KindNumber:
		return numberOrNull(a.dec().Quo(b.dec()))
	case a.kind == KindDuration && b.kind == KindNumber:
		s, ok := a.dur().decimalSeconds().Quo(b.dec())
		if !ok {
			return Null, false
		}
		return durationOrNull(durationFromSeconds(s))
	case a.kind == KindDuration && b.kind == KindDuration:
		return numberOrNull(a.dur().decimalSeconds().Quo(b.dur().decimalSeconds()))
	case a.kind == KindYearsMonths && b.kind == KindNumber:
		m, ok := Decimal{u: a.n}.Quo(b.dec())
		if !ok {
			return Null, false
		}
		return yearsMonthsOf(m)
	case a.kind == KindYearsMonths && b.kind == KindYearsMonths:
		return numberOrNull(Decimal{u: a.n}.Quo(Decimal{u: b.n}))
	}
	return Null, false
}

// powValues computes a ** b: integer exponents exactly (to 34 digits),
// others through float64, as Zeebe's FEEL engine does.
func powValues(a, b Value) (Value, bool) {
	if a.kind != KindNumber || b.kind != KindNumber {
		return Null, false
	}
	x, y := a.dec(), b.dec()
	if n, ok := y.Int64(); ok && n >= -999_999_999 && n <= 999_999_999 {
		if x.Sign() == 0 && n < 0 {
			return Null, false
		}
		return numberOrNull(x.powInt(n))
	}
	f := math.Pow(x.Float64(), y.Float64())
	return numberOrNull(DecimalFromFloat(f))
}

func negValue(a Value) Value {
	switch a.kind {
	case KindNumber:
		return Number(a.dec().Neg())
	case KindDuration:
		return DurationValue(Duration{sec: -a.n, nsec: -a.scale})
	case KindYearsMonths:
		return YearsMonthsValue(YearsMonths(-a.n))
	}
	return Null
}

func yearsMonthsOf(m Decimal) (Value, bool) {
	n, ok := m.trunc().Int64()
	if !ok {
		return Null, false
	}
	return YearsMonthsValue(YearsMonths(n)), true
}

func dateOrNull(days int64) (Value, bool) {
	y, _, _ := civilFromDays(days)
	if y < -maxYear || y > maxYear {
		return Null, false
	}
	return DateValue(Date{days: days}), true
}

func durationOrNull(d Duration, ok bool) (Value, bool) {
	if !ok {
		return Null, false
	}
	return DurationValue(d), true
}

// durationAdd adds two durations, keeping seconds and nanoseconds of one
// sign; false on overflow.
func durationAdd(a, b Duration) (Duration, bool) {
	sec := a.sec + b.sec
	if (sec > a.sec) != (b.sec > 0) {
		return Duration{}, false
	}
	nsec := int64(a.nsec) + int64(b.nsec)
	sec += nsec / nanosPerSecond
	nsec %= nanosPerSecond
	if sec > 0 && nsec < 0 {
		sec--
		nsec += nanosPerSecond
	} else if sec < 0 && nsec > 0 {
		sec++
		nsec -= nanosPerSecond
	}
	return Duration{sec: sec, nsec: int32(nsec)}, true
}
