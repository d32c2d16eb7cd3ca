package feel

// Equality and ordering as FEEL defines them: values of different types are
// not comparable (the comparison is null), null equals only null, a local
// time or date and time is not comparable with a zoned one.

// equalValues reports whether a = b; ok is false when FEEL's result is null.
func equalValues(a, b Value) (eq bool, ok bool) {
	if a.kind != b.kind {
		if a.kind == KindNull || b.kind == KindNull {
			return false, true
		}
		return false, false
	}
	switch a.kind {
	case KindNull:
		return true, true
	case KindBool, KindDate, KindYearsMonths:
		return a.n == b.n, true
	case KindDuration:
		return a.n == b.n && a.scale == b.scale, true
	case KindString:
		return a.str() == b.str(), true
	case KindNumber:
		return a.dec().Cmp(b.dec()) == 0, true
	case KindTime, KindDateTime:
		c, ok := compareValues(a, b)
		return c == 0, ok
	case KindList:
		x, y := a.items(), b.items()
		if len(x) != len(y) {
			return false, true
		}
		for i := range x {
			eq, ok := equalValues(x[i], y[i])
			if !ok || !eq {
				return false, ok
			}
		}
		return true, true
	case KindContext:
		x, y := a.ctx(), b.ctx()
		if x.Len() != y.Len() {
			return false, true
		}
		for i, k := range x.keys {
			w, found := y.Get(k)
			if !found {
				return false, true
			}
			eq, ok := equalValues(x.vals[i], w)
			if !ok || !eq {
				return false, ok
			}
		}
		return true, true
	case KindRange:
		x, y := (*Range)(a.p), (*Range)(b.p)
		if x.StartIncluded != y.StartIncluded || x.EndIncluded != y.EndIncluded ||
			x.StartUnbounded != y.StartUnbounded || x.EndUnbounded != y.EndUnbounded {
			return false, true
		}
		e1, ok1 := equalValues(x.Start, y.Start)
		e2, ok2 := equalValues(x.End, y.End)
		return e1 && e2, ok1 && ok2
	case KindFunction:
		return a.p == b.p, true
	}
	return false, false
}

// compareValues orders a and b (-1, 0, 1); ok is false when they are not
// ordered (different types, null, booleans, lists, contexts...).
func compareValues(a, b Value) (int, bool) {
	if a.kind != b.kind {
		return 0, false
	}
	switch a.kind {
	case KindNumber:
		if a.p == nil && b.p == nil && a.scale == b.scale {
			return cmpInt(a.n, b.n), true
		}
		return a.dec().Cmp(b.dec()), true
	case KindString:
		switch {
		case a.str() < b.str():
			return -1, true
		case a.str() > b.str():
			return 1, true
		}
		return 0, true
	case KindDate, KindYearsMonths:
		return cmpInt(a.n, b.n), true
	case KindDuration:
		if c := cmpInt(a.n, b.n); c != 0 {
			return c, true
		}
		return cmpInt(int64(a.scale), int64(b.scale)), true
	case KindTime:
		x, y := (*Time)(a.p), (*Time)(b.p)
		if (x.zone.kind == zoneLocal) != (y.zone.kind == zoneLocal) {
			return 0, false
		}
		return cmpInt(x.nanos-int64(x.zone.offset)*nanosPerSecond, y.nanos-int64(y.zone.offset)*nanosPerSecond), true
	case KindDateTime:
		x, y := (*DateTime)(a.p), (*DateTime)(b.p)
		if (x.zone.kind == zoneLocal) != (y.zone.kind == zoneLocal) {
			return 0, false
		}
		xs, xn := x.epoch()
		ys, yn := y.epoch()
		if c := cmpInt(xs, ys); c != 0 {
			return c, true
		}
		return cmpInt(xn, yn), true
	}
	return 0, false
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// inRange reports whether x lies in r; ok is false when x is not comparable
// with r's ends.
func inRange(r *Range, x Value) (bool, bool) {
	if !r.StartUnbounded {
		c, ok := compareValues(x, r.Start)
		if !ok {
			return false, false
		}
		if c < 0 || (c == 0 && !r.StartIncluded) {
			return false, true
		}
	}
	if !r.EndUnbounded {
		c, ok := compareValues(x, r.End)
		if !ok {
			return false, false
		}
		if c > 0 || (c == 0 && !r.EndIncluded) {
			return false, true
		}
	}
	return true, true
}
