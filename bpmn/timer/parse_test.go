package timer

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // RFC 3339 in UTC
		zone string // the location's name, when a zone id was given
	}{
		{"2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z", ""},
		{"2024-03-01T10:00:00.5+01:00", "2024-03-01T09:00:00.5Z", ""},
		{"2024-03-01T10:00+0100", "2024-03-01T09:00:00Z", ""},
		{"2024-03-01T10:00:00-05", "2024-03-01T15:00:00Z", ""},
		{" 2024-03-01T10:00:00Z ", "2024-03-01T10:00:00Z", ""},
		{"2024-03-01T10:00:00+01:00[Europe/Paris]", "2024-03-01T09:00:00Z", "Europe/Paris"},
		{"2024-03-01T10:00:00@Europe/Paris", "2024-03-01T09:00:00Z", "Europe/Paris"},
		{"2024-07-01T10:00:00@Europe/Paris", "2024-07-01T08:00:00Z", "Europe/Paris"},
		{"2024-07-01T10:00:00[UTC]", "2024-07-01T10:00:00Z", "UTC"},
	} {
		s, err := ParseDate(tc.in)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", tc.in, err)
			continue
		}
		due, ok := s.Next(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		if !ok || due.UTC().Format(time.RFC3339Nano) != tc.want {
			t.Errorf("ParseDate(%q) is due %s, want %s", tc.in, due.UTC().Format(time.RFC3339Nano), tc.want)
		}
		if tc.zone != "" && due.Location().String() != tc.zone {
			t.Errorf("ParseDate(%q) is in %s, want %s", tc.in, due.Location(), tc.zone)
		}
		if s.Kind() != Date || s.Repetitions() != 1 || s.String() != tc.in {
			t.Errorf("ParseDate(%q): kind %s, repetitions %d, text %q", tc.in, s.Kind(), s.Repetitions(), s.String())
		}
	}
}

func TestParseDateErrors(t *testing.T) {
	for _, in := range []string{
		"", "2024-03-01T10:00:00", "2024-03-01", "2024-13-01T10:00:00Z", "2024-03-01T25:00:00Z",
		"2024-03-01T10:00:00+25:00", "2024-03-01T10:00:00[Mars/Base]", "2024-03-01T10:00:00[Europe/Paris",
		"2024-03-01T10:00:00@../../etc/passwd", "24-03-01T10:00:00Z", "2024-03-01T10:0:00Z",
		"2024-03-01T10:00:00.Z", "2024-03-01T10:00:00+1:00", "PT10S", "2024-03-01T10:00:00@Local", "2024-03-01T10:00:00[Local]",
	} {
		if s, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", in, s.date)
		}
	}
}

func TestDuration(t *testing.T) {
	s, err := ParseDuration("PT2M")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	due, ok := s.Next(from)
	if !ok || !due.Equal(from.Add(2*time.Minute)) {
		t.Errorf("PT2M from %s is due %s", from, due)
	}
	if s.Kind() != Duration || s.Repetitions() != 1 || s.Period() != (Period{Time: 2 * time.Minute}) {
		t.Errorf("PT2M: kind %s, repetitions %d, period %v", s.Kind(), s.Repetitions(), s.Period())
	}
	if _, err := ParseDuration("2 minutes"); err == nil {
		t.Error("ParseDuration accepted 2 minutes")
	}
}

func TestCycle(t *testing.T) {
	utc := func(s string) time.Time { return mustTime(t, time.RFC3339Nano, s, time.UTC) }
	for _, tc := range []struct {
		in          string
		repetitions int
		after, want string
	}{
		{"R/PT10S", -1, "2024-01-01T00:00:00Z", "2024-01-01T00:00:10Z"},
		{"R5/PT1H", 5, "2024-01-01T00:30:00Z", "2024-01-01T01:30:00Z"},
		{"r2/p1d", 2, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"},
		// With a start, due times keep the start's cadence.
		{"R3/2024-01-01T08:00:00Z/P1D", 3, "2023-12-31T00:00:00Z", "2024-01-01T08:00:00Z"},
		{"R3/2024-01-01T08:00:00Z/P1D", 3, "2024-01-01T08:00:00Z", "2024-01-02T08:00:00Z"},
		{"R3/2024-01-01T08:00:00Z/P1D", 3, "2024-01-05T09:00:00Z", "2024-01-06T08:00:00Z"},
		{"R/2024-01-31T00:00:00Z/P1M", -1, "2024-02-01T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"R/2024-01-31T00:00:00Z/P1M", -1, "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z"},
		{"R/1970-01-01T00:00:00Z/PT1S", -1, "2024-05-05T10:00:00.5Z", "2024-05-05T10:00:01Z"},
		{"R/1970-01-01T00:00:00Z/PT1S", -1, "2024-05-05T10:00:00Z", "2024-05-05T10:00:01Z"},
	} {
		s, err := ParseCycle(tc.in)
		if err != nil {
			t.Errorf("ParseCycle(%q): %v", tc.in, err)
			continue
		}
		if s.Kind() != Cycle || s.Repetitions() != tc.repetitions {
			t.Errorf("ParseCycle(%q): kind %s, repetitions %d, want cycle, %d", tc.in, s.Kind(), s.Repetitions(), tc.repetitions)
		}
		due, ok := s.Next(utc(tc.after))
		if !ok || !due.Equal(utc(tc.want)) {
			t.Errorf("%s after %s: due %s (%v), want %s", tc.in, tc.after, due.UTC().Format(time.RFC3339Nano), ok, tc.want)
		}
	}
}

func TestCycleErrors(t *testing.T) {
	for _, in := range []string{
		"", "R0/PT1S", "R/PT0S", "R/-PT1S", "Rx/PT1S", "R/PT1S/x/y", "R/", "R",
		"R/2024-01-01T00:00:00/PT1S", "R/2024-01-01T00:00:00Z/P0D", "R-1/PT1S",
	} {
		if s, err := ParseCycle(in); err == nil {
			t.Errorf("ParseCycle(%q) = %+v, want an error", in, s)
		}
	}
}

func TestParseDispatch(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		in   string
		want Kind
	}{
		{Date, "2024-01-01T00:00:00Z", Date},
		{Duration, "PT1S", Duration},
		{Cycle, "R/PT1S", Cycle},
		{Cycle, "0 0 * * * *", Cron},
		{Cron, "@hourly", Cron},
	} {
		s, err := Parse(tc.kind, tc.in)
		if err != nil || s.Kind() != tc.want {
			t.Errorf("Parse(%s, %q) = %v, %v; want kind %s", tc.kind, tc.in, s, err, tc.want)
		}
	}
	if _, err := Parse(Kind(0), "PT1S"); err == nil {
		t.Error("Parse accepted kind 0")
	}
	if _, err := ParseCycle(string(make([]byte, maxSource+1))); err == nil {
		t.Error("ParseCycle accepted an overlong value")
	}
}
