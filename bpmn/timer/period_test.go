package timer

import (
	"testing"
	"time"
	_ "time/tzdata" // zones for the tests, whatever the machine has
)

func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Period
	}{
		{"PT10S", Period{Time: 10 * time.Second}},
		{"P1DT12H", Period{Days: 1, Time: 12 * time.Hour}},
		{"P2W", Period{Days: 14}},
		{"P1W2D", Period{Days: 9}},
		{"P1Y2M3DT4H5M6.5S", Period{1, 2, 3, 4*time.Hour + 5*time.Minute + 6500*time.Millisecond}},
		{"pt1m", Period{Time: time.Minute}},
		{"PT1,5S", Period{Time: 1500 * time.Millisecond}},
		{"-PT5S", Period{Time: -5 * time.Second}},
		{"PT0.000000001S", Period{Time: 1}},
		{"PT0S", Period{}},
		{"P1M", Period{Months: 1}},
		{"PT36H", Period{Time: 36 * time.Hour}},
	} {
		got, err := ParsePeriod(tc.in)
		if err != nil {
			t.Errorf("ParsePeriod(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParsePeriod(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParsePeriodErrors(t *testing.T) {
	for _, in := range []string{
		"", "P", "PT", "10S", "P1H", "PT1D", "P1.5D", "PT1S2M", "P1Y1Y", "PT1.0000000001S",
		"P999999999Y", "PT9999999999999H", "PT1.2.3S", "P-1D", "P1DT", "PTS", "P1", "1D",
	} {
		if p, err := ParsePeriod(in); err == nil {
			t.Errorf("ParsePeriod(%q) = %+v, want an error", in, p)
		}
	}
}

func TestPeriodAddTo(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time { return mustTime(t, time.RFC3339, s, time.UTC) }
	for _, tc := range []struct {
		period string
		from   time.Time
		want   time.Time
	}{
		// The day of the month never passes the month's end.
		{"P1M", utc("2024-01-31T10:00:00Z"), utc("2024-02-29T10:00:00Z")},
		{"P1M", utc("2023-01-31T10:00:00Z"), utc("2023-02-28T10:00:00Z")},
		{"P1Y", utc("2024-02-29T00:00:00Z"), utc("2025-02-28T00:00:00Z")},
		{"P1Y1M1DT1H1M1S", utc("2024-01-01T00:00:00Z"), utc("2025-02-02T01:01:01Z")},
		// A calendar day across the spring change is 23 hours; PT24H is not.
		{"P1D", time.Date(2024, 3, 30, 12, 0, 0, 0, berlin), time.Date(2024, 3, 31, 12, 0, 0, 0, berlin)},
		{"PT24H", time.Date(2024, 3, 30, 12, 0, 0, 0, berlin), time.Date(2024, 3, 31, 13, 0, 0, 0, berlin)},
		{"-PT1H", utc("2024-01-01T00:00:00Z"), utc("2023-12-31T23:00:00Z")},
	} {
		p, err := ParsePeriod(tc.period)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.AddTo(tc.from); !got.Equal(tc.want) {
			t.Errorf("%s + %s = %s, want %s", tc.from, tc.period, got, tc.want)
		}
	}
}

func TestPeriodString(t *testing.T) {
	for _, in := range []string{"PT10S", "P1DT12H", "P1Y2M3DT4H5M6.5S", "PT0S", "P14D", "PT1M"} {
		p, err := ParsePeriod(in)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePeriod(p.String())
		if err != nil || back != p {
			t.Errorf("%q printed as %q, read back as %+v (%v)", in, p.String(), back, err)
		}
	}
}

func mustTime(t testing.TB, layout, s string, loc *time.Location) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
