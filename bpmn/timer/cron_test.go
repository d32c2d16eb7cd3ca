package timer

import (
	"testing"
	"time"
)

func TestCronNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr        string
		loc         *time.Location
		after, want string // local times of loc; want "" for never
	}{
		{"0 0 9-17 * * MON-FRI", time.UTC, "2024-03-01T17:30:00", "2024-03-04T09:00:00"},
		{"0 0 9-17 * * MON-FRI", time.UTC, "2024-03-04T09:00:00", "2024-03-04T10:00:00"},
		{"*/10 * * * * *", time.UTC, "2024-01-01T00:00:05", "2024-01-01T00:00:10"},
		{"*/10 * * * * *", time.UTC, "2024-12-31T23:59:55", "2025-01-01T00:00:00"},
		{"5/15 * * * * *", time.UTC, "2024-01-01T00:00:21", "2024-01-01T00:00:35"},
		{"0 0 0 1 1 *", time.UTC, "2024-06-01T00:00:00", "2025-01-01T00:00:00"},
		{"@yearly", time.UTC, "2024-06-01T00:00:00", "2025-01-01T00:00:00"},
		{"@monthly", time.UTC, "2024-01-31T10:00:00", "2024-02-01T00:00:00"},
		{"@weekly", time.UTC, "2024-03-01T10:00:00", "2024-03-03T00:00:00"},
		{"@daily", time.UTC, "2024-03-01T10:00:00", "2024-03-02T00:00:00"},
		{"@hourly", time.UTC, "2024-03-01T10:00:00", "2024-03-01T11:00:00"},
		{"0 0 12 * * *", time.UTC, "2024-01-01T12:00:00", "2024-01-02T12:00:00"},
		{"0 0 12 * * ?", time.UTC, "2024-01-01T11:59:59", "2024-01-01T12:00:00"},
		{"0 15,45 8 * JAN,JUL *", time.UTC, "2024-01-31T08:50:00", "2024-07-01T08:15:00"},
		{"0 0 12 L * *", time.UTC, "2024-02-10T00:00:00", "2024-02-29T12:00:00"},
		{"0 0 12 L-2 * *", time.UTC, "2024-02-10T00:00:00", "2024-02-27T12:00:00"},
		{"0 0 12 15W * *", time.UTC, "2024-06-01T00:00:00", "2024-06-14T12:00:00"},
		{"0 0 12 1W * *", time.UTC, "2024-08-31T13:00:00", "2024-09-02T12:00:00"},
		{"0 0 12 1W * *", time.UTC, "2024-05-31T13:00:00", "2024-06-03T12:00:00"},
		{"0 0 12 31W * *", time.UTC, "2024-08-01T00:00:00", "2024-08-30T12:00:00"},
		{"0 0 12 LW * *", time.UTC, "2024-08-01T00:00:00", "2024-08-30T12:00:00"},
		{"0 0 12 ? * 5L", time.UTC, "2024-03-01T00:00:00", "2024-03-29T12:00:00"},
		{"0 0 12 ? * FRIL", time.UTC, "2024-03-01T00:00:00", "2024-03-29T12:00:00"},
		{"0 0 12 ? * FRI#2", time.UTC, "2024-03-01T13:00:00", "2024-03-08T12:00:00"},
		{"0 0 12 ? * 1#1", time.UTC, "2024-01-02T00:00:00", "2024-02-05T12:00:00"},
		{"0 0 0 29 2 *", time.UTC, "2024-03-01T00:00:00", "2028-02-29T00:00:00"},
		{"0 0 0 30 2 *", time.UTC, "2024-03-01T00:00:00", ""},
		{"0 0 0 * * 7", time.UTC, "2024-03-01T00:00:00", "2024-03-03T00:00:00"},
		{"0 0 0 * * 0", time.UTC, "2024-03-01T00:00:00", "2024-03-03T00:00:00"},
		{"0 0 0 * * MON-SUN", time.UTC, "2024-03-01T00:00:00", "2024-03-02T00:00:00"},
		{"0 0 0 * * 5-7", time.UTC, "2024-03-04T00:00:00", "2024-03-08T00:00:00"},
		// Day of month and day of week must both match (Spring).
		{"0 0 0 1 * MON", time.UTC, "2024-01-02T00:00:00", "2024-04-01T00:00:00"},
		// 02:30 does not exist in Berlin on 31 March 2024.
		{"0 30 2 * * *", berlin, "2024-03-30T03:00:00", "2024-04-01T02:30:00"},
		// Fields are read in the location of the time given.
		{"0 0 9 * * *", newYork, "2024-01-01T10:00:00", "2024-01-02T09:00:00"},
	} {
		s, err := ParseCycle(tc.expr)
		if err != nil {
			t.Errorf("ParseCycle(%q): %v", tc.expr, err)
			continue
		}
		if s.Kind() != Cron || s.Repetitions() != -1 {
			t.Errorf("%q: kind %s, repetitions %d", tc.expr, s.Kind(), s.Repetitions())
		}
		after := mustTime(t, "2006-01-02T15:04:05", tc.after, tc.loc)
		due, ok := s.Next(after)
		if tc.want == "" {
			if ok {
				t.Errorf("%q after %s: due %s, want never", tc.expr, tc.after, due)
			}
			continue
		}
		want := mustTime(t, "2006-01-02T15:04:05", tc.want, tc.loc)
		if !ok || !due.Equal(want) {
			t.Errorf("%q after %s: due %s (%v), want %s", tc.expr, tc.after, due.In(tc.loc), ok, want)
		}
	}
}

func TestCronErrors(t *testing.T) {
	for _, in := range []string{
		"0 0 9 * *", "0 0 9 * * * *", "60 * * * * *", "* 60 * * * *", "* * 24 * * *", "* * * 0 * *",
		"* * * 32 * *", "* * * * 13 *", "* * * * 0 *", "* * * * * 8", "*/0 * * * * *", "*/61 * * * * *",
		"0 0 12 L-31 * *", "0 0 12 0W * *", "0 0 12 32W * *", "@every", "@every 5m", "5-1 * * * * *",
		"0 0 0 ? * 5#6", "0 0 0 ? * 5#0", "0 0 0 ? * XYZ", "0 0 0 ? * 9L", "a b c d e f", "0 0 0 ? FOO *",
		"1-2-3 * * * * *", "0 0 0 ? * #2",
	} {
		if s, err := ParseCycle(in); err == nil {
			t.Errorf("ParseCycle(%q) = %+v, want an error", in, s)
		}
	}
}
