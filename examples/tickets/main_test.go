package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestCheckFlags: a --partitions out of 1 to 4096 is refused, naming the
// flag and the range (before, 0 made a store of the default 2 partitions
// and a negative count failed in the store, naming no flag).
func TestCheckFlags(t *testing.T) {
	for n, want := range map[int]string{0: "invalid --partitions 0: use 1 to 4096", -1: "invalid --partitions -1: use 1 to 4096", 4097: "invalid --partitions 4097", 1: "", 2: "", 4096: ""} {
		cfg := validFlags()
		cfg.Partitions = n
		err := checkFlags(cfg)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("--partitions %d: %v, want %q", n, err, want)
		}
	}
}

// validFlags is the flags' defaults.
func validFlags() config {
	return config{Partitions: 2, Stock: 200, QueueRate: 0.5, PaymentDelay: 2 * time.Second, Hold: 3 * time.Minute}
}

// TestCheckFlagsRefusesWhatMeansNothing: a negative --stock, --queue-rate
// or --payment-delay, and a --hold that is not above 0, are refused,
// naming the flag and what it takes. Before, --hold 0 or -1s held
// reservations the default 3 minutes, --queue-rate -1 let the queue out
// with no limit, --payment-delay -1s authorized at once, and --stock -5
// said 'the log holds 0 tickets sold and 0 held, more than the stock of
// -5' of a new store.
func TestCheckFlagsRefusesWhatMeansNothing(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*config)
		want string
	}{
		{"defaults", func(*config) {}, ""},
		{"no stock", func(c *config) { c.Stock = 0 }, ""},
		{"no queue limit", func(c *config) { c.QueueRate = 0 }, ""},
		{"instant payments", func(c *config) { c.PaymentDelay = 0 }, ""},
		{"negative stock", func(c *config) { c.Stock = -5 }, "invalid --stock -5: use 0 or more tickets"},
		{"negative queue rate", func(c *config) { c.QueueRate = -1 }, "invalid --queue-rate -1: use 0 (no limit) or more customers per second"},
		{"queue rate not a number", func(c *config) { c.QueueRate = math.NaN() }, "invalid --queue-rate NaN"},
		{"infinite queue rate", func(c *config) { c.QueueRate = math.Inf(1) }, "invalid --queue-rate +Inf"},
		{"negative payment delay", func(c *config) { c.PaymentDelay = -time.Second }, "invalid --payment-delay -1s: use 0 or more"},
		{"no hold", func(c *config) { c.Hold = 0 }, "invalid --hold 0s: use a duration above 0"},
		{"negative hold", func(c *config) { c.Hold = -time.Second }, "invalid --hold -1s: use a duration above 0"},
	} {
		cfg := validFlags()
		c.set(&cfg)
		err := checkFlags(cfg)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
