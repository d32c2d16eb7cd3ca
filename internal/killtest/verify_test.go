package killtest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"eddy/api/rest"
)

// settleGuard bounds waiting for work the engine still has to do after a
// restart (a buffered message reaching its instance across partitions): a
// guard against hanging, not a measurement.
const settleGuard = 30 * time.Second

// checkers is how many requests a check keeps in flight.
const checkers = 4

// verify checks, after a restart, every promise the ledger holds, and
// leaves the ledger knowing exactly where every instance stands.
func verify(ctx context.Context, c *rest.Client, led *ledger, found *findings) {
	instances, messages := led.snapshot()

	// Every acknowledged instance exists and stands where its acknowledged
	// work put it.
	var waiting []instance // killtest-paid instances whose message was acknowledged
	var mu sync.Mutex
	each(instances, func(in instance) {
		at, ok := look(ctx, c, in, found)
		if !ok {
			return
		}
		switch {
		case at == in.stage:
		case in.tried && at == next[in.stage]:
			// The completion whose answer the kill cut took effect.
		case in.stage == atCatch && at == atShip && led.messageOf(in).sent():
		case at == next[in.stage] || at == ended:
			found.add("instance moved on by itself", "process instance %d (%s) is at %s, but acknowledged work had put it at %s and nothing was asked of it since",
				in.key, in.process, at, in.stage)
		default:
			found.add("acknowledged work lost", "process instance %d (%s) is at %s, but acknowledged work had put it at %s",
				in.key, in.process, at, in.stage)
		}
		led.observed(in.key, at)
		if at == atCatch && led.messageOf(in).acked {
			mu.Lock()
			waiting = append(waiting, in)
			mu.Unlock()
		}
	})

	// Every acknowledged message is still buffered: its id is taken. A
	// message whose publish went unanswered is published again, so that
	// from here on the ledger knows it is there.
	each(messages, func(m message) {
		if !m.acked && !m.tried {
			return
		}
		res, err := c.PublishMessage(ctx, paidMessage(m.orderID))
		var p *rest.Problem
		switch {
		case err == nil && m.acked:
			found.add("acknowledged message lost", "the message of order %s was acknowledged, yet publishing its id again made a new message (key %d) instead of a duplicate",
				m.orderID, res.MessageKey)
			led.published(m.orderID, 0)
		case err == nil:
			led.published(m.orderID, res.MessageKey)
		case errors.As(err, &p) && p.Status == http.StatusConflict && p.Type == rest.TypeAlreadyExists:
			led.published(m.orderID, 0)
		default:
			found.add("request failed", "publishing the message of order %s again: %v", m.orderID, err)
		}
	})

	// ...and reaches the instance waiting for it, wherever the two live.
	deadline := time.Now().Add(settleGuard)
	for len(waiting) > 0 && time.Now().Before(deadline) {
		var still []instance
		for _, in := range waiting {
			if at, ok := look(ctx, c, in, found); ok && at == atCatch {
				still = append(still, in)
			} else if ok {
				led.observed(in.key, at)
			}
		}
		waiting = still
		if len(waiting) > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, in := range waiting {
		found.add("acknowledged message never correlated", "process instance %d waits at %s for the message of order %s, which was acknowledged before the kill (guard: %v)",
			in.key, atCatch, in.orderID, settleGuard)
	}

	checkNoIncidents(ctx, c, found)
}

// look returns where a running instance stands, or ended if it is gone.
// ok is false when the answer says neither.
func look(ctx context.Context, c *rest.Client, in instance, found *findings) (at stage, ok bool) {
	got, err := c.Instance(ctx, in.key)
	var p *rest.Problem
	if errors.As(err, &p) && p.Status == http.StatusNotFound {
		// Gone is right only for an instance whose last job was completed
		// (or completed with the answer cut).
		if in.stage == ended || in.tried && next[in.stage] == ended {
			return ended, true
		}
		found.add("acknowledged instance lost", "process instance %d (%s, at %s) is not found: %v", in.key, in.process, in.stage, err)
		return "", false
	}
	if err != nil {
		found.add("request failed", "reading process instance %d: %v", in.key, err)
		return "", false
	}
	if len(got.Incidents) > 0 {
		found.add("incident", "process instance %d has incidents: %+v", in.key, got.Incidents)
	}
	var waits []stage
	for _, el := range got.ElementInstances {
		if _, known := next[stage(el.ElementID)]; known {
			waits = append(waits, stage(el.ElementID))
		}
	}
	if len(waits) != 1 {
		found.add("instance in a strange state", "process instance %d (%s) has active elements %+v", in.key, in.process, got.ElementInstances)
		return "", false
	}
	return waits[0], true
}

func checkNoIncidents(ctx context.Context, c *rest.Client, found *findings) {
	list, err := c.Incidents(ctx, 0, 0, 10)
	switch {
	case err != nil:
		found.add("request failed", "listing incidents: %v", err)
	case len(list.Items) > 0:
		found.add("incident", "open incidents: %+v", list.Items)
	}
}

// probeKeys creates an instance right after a restart: it must work and
// get a key above every key acknowledged before.
func probeKeys(ctx context.Context, c *rest.Client, led *ledger, found *findings) {
	res, err := c.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: taskProcess})
	if err != nil {
		found.add("request failed", "creating an instance after the restart: %v", err)
		return
	}
	led.created(res.ProcessInstanceKey, taskProcess, "", atWork)
}

// each calls fn for every item, from a few goroutines.
func each[T any](items []T, fn func(T)) {
	ch := make(chan T)
	var wg sync.WaitGroup
	for range checkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				fn(it)
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
}
