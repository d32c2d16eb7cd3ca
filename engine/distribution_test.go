package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"eddy/record"
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

// TestDeletionIsAwaitedOnEveryPartition: once DeleteResource returns, no
// partition of the node starts an instance of the deleted definition, as
// none fails to after a deploy returns. Each round creates on every
// partition in turn right after the deletion.
func TestDeletionIsAwaitedOnEveryPartition(t *testing.T) {
	e, store := startEngine(t, t.TempDir(), 4)
	defer store.Close()
	defer e.Close()
	ctx := context.Background()
	for round := range 5 {
		res := resource(t, "start-end.bpmn")
		res.Content = fmt.Appendf(res.Content, "<!-- round %d -->\n", round) // a new version
		dep, err := e.Deploy(ctx, res)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.DeleteResource(ctx, dep.Value.Processes[0].ProcessDefinitionKey); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for p := range 4 {
			r, err := e.CreateInstance(ctx, CreateRequest{BpmnProcessID: "quick"})
			var rej *Rejection
			if !errors.As(err, &rej) || rej.Type != record.NotFound {
				t.Fatalf("round %d, create %d after the deletion: %+v, %v; want NOT_FOUND", round, p, r.Value, err)
			}
		}
	}
}
