package timer

import (
	"testing"
	"time"
)

// FuzzParse feeds any text to every parser; whatever parses must give due
// times that move forward (a cycle or cron due time before its `after`
// would make the engine fire in a loop).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"PT10S", "P1Y2M3W4DT5H6M7.8S", "-PT1S", "2024-03-01T10:00:00+01:00[Europe/Paris]",
		"2024-03-01T10:00:00@Europe/Paris", "R/PT10S", "R5/2024-01-01T00:00:00Z/P1M",
		"0 0 9-17 * * MON-FRI", "0 0 12 LW * *", "0 0 12 ? * 5#2", "@daily", "*/7 */13 * L-3 2 ?",
	} {
		f.Add(s)
	}
	after := time.Date(2024, 2, 29, 23, 59, 59, 999, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []Kind{Date, Duration, Cycle} {
			sc, err := Parse(kind, s)
			if err != nil {
				continue
			}
			due, ok := sc.Next(after)
			switch sc.Kind() {
			case Cron:
				if ok && !due.After(after) {
					t.Fatalf("%q: cron due %s is not after %s", s, due, after)
				}
			case Cycle:
				if !ok || !due.After(after) {
					t.Fatalf("%q: cycle due %s (%v) is not after %s", s, due, ok, after)
				}
			}
		}
	})
}
