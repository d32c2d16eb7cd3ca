package timer

import "time"

// Kind is the form a schedule was written in.
type Kind uint8

// Schedule kinds.
const (
	Date     Kind = iota + 1 // a fixed date-time
	Duration                 // a delay from activation
	Cycle                    // a repeating interval, with or without a start
	Cron                     // a cron expression
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Date:
		return "date"
	case Duration:
		return "duration"
	case Cycle:
		return "cycle"
	case Cron:
		return "cron"
	}
	return "invalid"
}

// Schedule is a parsed timer value. It is immutable and safe to share.
type Schedule struct {
	kind        Kind
	source      string
	date        time.Time // Date; the start of a Cycle when hasStart
	hasStart    bool
	period      Period // Duration and Cycle
	repetitions int    // Cycle: -1 for unbounded
	cron        *cronSpec
}

// Kind returns the form the schedule was written in.
func (s *Schedule) Kind() Kind { return s.kind }

// String returns the text the schedule was parsed from.
func (s *Schedule) String() string { return s.source }

// Repetitions is how many times a cycle fires: -1 for unbounded (R/..., and
// every cron expression), 1 for a date or a duration.
func (s *Schedule) Repetitions() int {
	switch s.kind {
	case Cycle:
		return s.repetitions
	case Cron:
		return -1
	}
	return 1
}

// Period returns the duration of a Duration schedule or the interval of a
// Cycle (zero for the other kinds).
func (s *Schedule) Period() Period { return s.period }

// Next returns when the timer is due, given after: the activation time for
// the first due date, the previous due date for the following repetitions.
//
//   - Date: the date itself, even when it is not after `after` (a past date
//     is due at once).
//   - Duration, and Cycle without a start: after + the period.
//   - Cycle with a start S and interval I: the first of S, S+I, S+2I, ...
//     that is after `after`, so repetitions keep the cadence of the start.
//   - Cron: the first instant after `after` that matches, in after's
//     location.
//
// ok is false when the schedule has no due time after `after` (a cron
// expression that never matches again, such as 30 February).
// Counting repetitions is the caller's job (see Repetitions).
func (s *Schedule) Next(after time.Time) (due time.Time, ok bool) {
	switch s.kind {
	case Date:
		return s.date, true
	case Duration:
		return s.period.AddTo(after), true
	case Cycle:
		if s.hasStart {
			return s.nextOnGrid(after)
		}
		return s.period.AddTo(after), true
	case Cron:
		return s.cron.next(after)
	}
	return time.Time{}, false
}
