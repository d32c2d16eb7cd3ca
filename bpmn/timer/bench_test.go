package timer

import (
	"testing"
	"time"
)

// BenchmarkNext computes due dates as the engine does when it schedules a
// timer or reschedules a cycle.
func BenchmarkNext(b *testing.B) {
	after := time.Date(2024, 3, 1, 17, 30, 0, 0, time.UTC)
	for _, s := range []string{"PT10S", "R/PT10S", "R/2024-01-01T08:00:00Z/P1D", "0 0 9-17 * * MON-FRI", "0 0 12 LW * *"} {
		kind := Duration
		if s[0] != 'P' {
			kind = Cycle
		}
		sc, err := Parse(kind, s)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := sc.Next(after); !ok {
					b.Fatal("never")
				}
			}
		})
	}
}

// BenchmarkParse reads timer values as the engine does for FEEL timers.
func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct {
		kind Kind
		s    string
	}{{Duration, "P1DT12H"}, {Date, "2024-03-01T10:00:00+01:00"}, {Cycle, "R5/PT1H"}, {Cycle, "0 0 9-17 * * MON-FRI"}} {
		b.Run(tc.s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(tc.kind, tc.s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
