package timer

import "time"

// nextOnGrid returns the first of start + k·period (k ≥ 0) after `after`.
func (s *Schedule) nextOnGrid(after time.Time) (time.Time, bool) {
	if s.date.After(after) {
		return s.date, true
	}
	// Find a k whose point is after `after` by doubling, then the least
	// such k by bisection: points grow with k, so this takes O(log k) steps.
	lo, hi := int64(0), int64(1)
	for !s.period.addScaled(s.date, hi).After(after) {
		lo = hi
		if hi > 1<<40 {
			return time.Time{}, false
		}
		hi *= 2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if s.period.addScaled(s.date, mid).After(after) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return s.period.addScaled(s.date, hi), true
}
