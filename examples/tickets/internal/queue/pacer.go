package queue

import "time"

// pacer meters the exits: a token bucket that fills at rate per second and
// holds at most two ticks' worth (and at least one customer), so that a
// queue that was empty for a while does not let a burst out later.
type pacer struct {
	rate      float64
	tick      time.Duration
	allowance float64
	last      time.Time
}

// newPacer returns a pacer for rate customers per second (> 0), ticking
// every 10 ms, or every customer's interval when that is longer.
func newPacer(rate float64, now time.Time) *pacer {
	tick := 10 * time.Millisecond
	if d := time.Duration(float64(time.Second) / rate); d > tick {
		tick = d
	}
	return &pacer{rate: rate, tick: tick, last: now}
}

// grant adds what accrued since the last call and returns how many
// customers may leave now, at most limit.
func (p *pacer) grant(now time.Time, limit int) int {
	if now.After(p.last) {
		p.allowance += p.rate * now.Sub(p.last).Seconds()
		p.last = now
	}
	p.allowance = min(p.allowance, max(1, 2*p.rate*p.tick.Seconds()))
	return max(0, min(limit, int(p.allowance)))
}

// spend takes n customers' worth out of the bucket.
func (p *pacer) spend(n int) { p.allowance -= float64(n) }
