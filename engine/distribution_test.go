package engine

import (
	"context"
	"testing"
	"time"
)

func TestDistributionDeadline(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name     string
		deadline time.Duration // from now; 0: none
		want     time.Duration // from now
	}{
		{"no deadline", 0, distributionWait},
		{"short deadline keeps a tenth to answer", 2 * time.Second, 1800 * time.Millisecond},
		{"long deadline keeps a second to answer", time.Minute, 59 * time.Second},
		{"deadline passed", -time.Second, -time.Second},
	}
	for _, c := range cases {
		ctx := context.Background()
		if c.deadline != 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, now.Add(c.deadline))
			defer cancel()
		}
		if got := distributionDeadline(ctx, now); !got.Equal(now.Add(c.want)) {
			t.Errorf("%s: waits until now%+v, want now%+v", c.name, got.Sub(now), c.want)
		}
	}
}
