package trigger

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"PT0.2S", 200 * time.Millisecond, ""},
		{"PT0,5S", 500 * time.Millisecond, ""},
		{"PT1S", time.Second, ""},
		{"PT1M30S", 90 * time.Second, ""},
		{"PT2H", 2 * time.Hour, ""},
		{"P1D", 24 * time.Hour, ""},
		{"P1DT1H", 25 * time.Hour, ""},
		{"P2W", 14 * 24 * time.Hour, ""},
		{"pt10s", 10 * time.Second, ""},
		{"PT1.5M", 90 * time.Second, ""},
		{"PT0S", 0, ""},
		{"P1M", 0, "years and months"},
		{"P1Y", 0, "years and months"},
		{"PT", 0, "starts with P"},
		{"P", 0, "starts with P"},
		{"P1DT", 0, "T must be followed"},
		{"1S", 0, "starts with P"},
		{"-PT1S", 0, "negative"},
		{"P1S", 0, "go after T"},
		{"PT1S1M", 0, "unexpected designator"},
		{"PT1.5M3S", 0, "only the last part"},
		{"PT.5S", 0, "not a number"},
		{"PT5.S", 0, "not a number"},
		{"PT1X", 0, "unexpected designator 'X'"},
		{"PT1", 0, "expected a number followed by a designator"},
		{"PTT1S", 0, "T appears twice"},
		{"P1DT1HT1S", 0, "T appears twice"},
		{"PT99999999999999999H", 0, "too long"},
	} {
		got, err := ParseDuration(tc.in)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if back, err := ParseDuration(FormatDuration(got)); err != nil || back != got {
				t.Errorf("FormatDuration(%v) = %q does not read back: %v %v", got, FormatDuration(got), back, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseDuration(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
		}
	}
	if got := FormatDuration(25*time.Hour + 90*time.Second + 500*time.Millisecond); got != "P1DT1H1M30.5S" {
		t.Errorf("FormatDuration = %q", got)
	}
}

func TestBackoff(t *testing.T) {
	lin := Delivery{BackoffPolicy: Linear, BackoffDelay: time.Second}
	exp := Delivery{BackoffPolicy: Exponential, BackoffDelay: 200 * time.Millisecond}
	for _, tc := range []struct {
		d    Delivery
		n    int
		want time.Duration
	}{
		{lin, 0, 0},
		{lin, 1, time.Second},
		{lin, 2, 2 * time.Second},
		{lin, 5, 5 * time.Second},
		{exp, 1, 400 * time.Millisecond},
		{exp, 2, 800 * time.Millisecond},
		{exp, 3, 1600 * time.Millisecond},
		{exp, 200, math.MaxInt64}, // saturates
		{Delivery{BackoffPolicy: Exponential}, 3, 0},
		// backoffMax caps every backoff, and the saturated one too.
		{Delivery{BackoffPolicy: Exponential, BackoffDelay: time.Second, BackoffMax: 5 * time.Second}, 2, 4 * time.Second},
		{Delivery{BackoffPolicy: Exponential, BackoffDelay: time.Second, BackoffMax: 5 * time.Second}, 3, 5 * time.Second},
		{Delivery{BackoffPolicy: Exponential, BackoffDelay: time.Second, BackoffMax: 5 * time.Second}, 200, 5 * time.Second},
		{Delivery{BackoffPolicy: Linear, BackoffDelay: time.Second, BackoffMax: 5 * time.Second}, 9, 5 * time.Second},
	} {
		if got := tc.d.Backoff(tc.n); got != tc.want {
			t.Errorf("%s delay %v retry %d: %v, want %v", tc.d.BackoffPolicy, tc.d.BackoffDelay, tc.n, got, tc.want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	capAt := 30 * time.Second
	zero := time.Duration(0)
	d := Delivery{BackoffPolicy: Linear, BackoffDelay: time.Second, RetryAfterMax: &capAt}
	for _, tc := range []struct {
		name       string
		d          Delivery
		status     int
		retryAfter string
		want       time.Duration
	}{
		{"plain backoff", d, 500, "", 2 * time.Second},
		{"429 seconds", d, 429, "10", 10 * time.Second},
		{"503 date", d, 503, now.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second},
		{"capped", d, 429, "3600", 30 * time.Second},
		{"shorter than backoff", d, 429, "1", 2 * time.Second},
		{"past date", d, 503, now.Add(-time.Hour).Format(http.TimeFormat), 2 * time.Second},
		{"garbage", d, 429, "soon", 2 * time.Second},
		{"not 429 or 503", d, 500, "10", 2 * time.Second},
		{"no retryAfterMax", Delivery{BackoffPolicy: Linear, BackoffDelay: time.Second}, 429, "10", 2 * time.Second},
		{"retryAfterMax zero", Delivery{BackoffPolicy: Linear, BackoffDelay: time.Second, RetryAfterMax: &zero}, 429, "10", 2 * time.Second},
	} {
		if got := tc.d.RetryDelay(2, tc.status, tc.retryAfter, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{
		0: true, 200: false, 202: false, 301: false, 400: false, 401: false, 403: false, 404: true,
		408: true, 409: true, 410: false, 413: false, 429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		if got := Retryable(status); got != want {
			t.Errorf("Retryable(%d) = %v", status, got)
		}
	}
	if !Delivered(200) || !Delivered(202) || Delivered(300) || Delivered(0) {
		t.Error("Delivered")
	}
}

func TestNext(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	d := Delivery{Retry: 2, BackoffPolicy: Exponential, BackoffDelay: 100 * time.Millisecond}
	for _, tc := range []struct {
		retries, status int
		retry           bool
		wait            time.Duration
	}{
		{0, 200, false, 0},
		{0, 202, false, 0},
		{0, 400, false, 0},
		{0, 503, true, 200 * time.Millisecond},
		{1, 0, true, 400 * time.Millisecond},
		{1, 404, true, 400 * time.Millisecond},
		{2, 500, false, 0}, // retries spent
	} {
		retry, wait := d.Next(tc.retries, tc.status, "", now)
		if retry != tc.retry || wait != tc.wait {
			t.Errorf("Next(%d, %d) = %v %v, want %v %v", tc.retries, tc.status, retry, wait, tc.retry, tc.wait)
		}
	}
	// A whole delivery: a subscriber failing with 503 three times is tried
	// 1 + Retry times, waiting 200 ms then 400 ms.
	var waits []time.Duration
	for retries := 0; ; retries++ {
		retry, wait := d.Next(retries, 503, "", now)
		if !retry {
			break
		}
		waits = append(waits, wait)
	}
	if len(waits) != 2 || waits[0] != 200*time.Millisecond || waits[1] != 400*time.Millisecond {
		t.Fatalf("waits %v", waits)
	}
}

// TestParseYAMLInt: a retry count YAML tagged an integer is read as YAML
// writes integers (decimal grouped with '_', 0x, 0o, 0b, and octal with a
// leading 0, as gopkg.in/yaml reads them), and one beyond int32 is an
// error.
func TestParseYAMLInt(t *testing.T) {
	for _, c := range []struct {
		text string
		want int64
		ok   bool
	}{
		{"3", 3, true}, {"1_000", 1000, true}, {"017", 15, true}, {"0x10", 16, true}, {"0o17", 15, true}, {"0b101", 5, true},
		{"-2", -2, true}, {"2147483647", 2147483647, true}, {"2147483648", 0, false},
	} {
		got, err := parseYAMLInt(c.text)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("parseYAMLInt(%q) = %d, %v; want %d, ok %v", c.text, got, err, c.want, c.ok)
		}
	}
}
