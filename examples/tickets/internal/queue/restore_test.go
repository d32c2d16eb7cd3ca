package queue

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"eddy/cloudevents"
	"eddy/examples/tickets/internal/events"
)

// TestRestoreInAnyOrder: whichever order a replay reads the queue's events
// in, customers end in the furthest state their events say (abandoned over
// exited over waiting), and those still waiting are back in line in the
// order they joined.
func TestRestoreInAnyOrder(t *testing.T) {
	start := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var evs []*cloudevents.Event
	add := func(source, typ, session string, at time.Time) {
		e, err := events.Build(source, at, events.Out{Type: typ, ID: typ + "-" + session, SessionID: session, Data: events.Customer{SessionID: session}})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, &e)
	}
	const own = "/test/queue"
	add(own, events.QueueCustomerJoined, "late", start.Add(3*time.Second))
	add(own, events.QueueCustomerJoined, "exited", start.Add(time.Second))
	add(own, events.QueueCustomerExited, "exited", start.Add(4*time.Second))
	add(own, events.QueueCustomerJoined, "left", start.Add(2*time.Second))
	add(own, events.QueueCustomerAbandoned, "left", start.Add(5*time.Second))
	add(own, events.QueueCustomerExited, "left", start.Add(6*time.Second))
	add(own, events.QueueCustomerJoined, "closed", start.Add(2*time.Second))
	add("/test/engine", events.SessionCleanUp, "closed", start.Add(7*time.Second))
	add(own, events.QueueCustomerJoined, "exited-then-closed", start.Add(2*time.Second))
	add(own, events.QueueCustomerExited, "exited-then-closed", start.Add(4*time.Second))
	add("/test/engine", events.SessionCleanUp, "exited-then-closed", start.Add(8*time.Second))
	add(own, events.QueueCustomerJoined, "early", start)
	add("/test/elsewhere", events.QueueCustomerJoined, "stranger", start) // not the queue's own

	rng := rand.New(rand.NewPCG(7, 22)) // fixed: a failure shows again
	for i := range 32 {
		t.Run(fmt.Sprintf("order %d", i), func(t *testing.T) {
			s, _ := newQueue(t, Config{})
			replay := slices.Clone(evs)
			switch i {
			case 0:
			case 1:
				slices.Reverse(replay)
			default:
				rng.Shuffle(len(replay), func(i, j int) { replay[i], replay[j] = replay[j], replay[i] })
			}
			for _, e := range replay {
				if err := s.Restore(e); err != nil {
					t.Fatalf("%s %s: %v", e.Type, e.ID, err)
				}
			}
			s.Restored()
			if got, want := s.Stats(), (Stats{Waiting: 2, Exited: 2, Abandoned: 2}); got != want {
				t.Errorf("stats %+v, want %+v", got, want)
			}
			for session, want := range map[string]Status{
				"early":  {SessionID: "early", State: Waiting, Position: 0},
				"late":   {SessionID: "late", State: Waiting, Position: 1},
				"exited": {SessionID: "exited", State: Exited},
				// Session.CleanUp leaves a customer who exited as it is.
				"exited-then-closed": {SessionID: "exited-then-closed", State: Exited},
				"left":               {SessionID: "left", State: Abandoned},
				"closed":             {SessionID: "closed", State: Abandoned},
			} {
				if got, err := s.Status(session); err != nil || got != want {
					t.Errorf("%s: %+v, %v; want %+v", session, got, err, want)
				}
			}
			if _, err := s.Status("stranger"); err == nil {
				t.Error("another source's join was taken for the queue's own")
			}
			if batch := s.next(10); len(batch) != 2 || batch[0].session != "early" || batch[1].session != "late" {
				t.Errorf("the line lets out %v; want early, then late", batch)
			}
		})
	}
}

// Each join and exit says the model deployed when the customer joined,
// and a customer restored after another model was deployed leaves with
// the model it joined under: the tickets service runs its purchase so.
func TestCustomersKeepTheirModel(t *testing.T) {
	ctx := context.Background()
	s, sink := newQueue(t, Config{Model: "v1"})
	if _, err := s.Join(ctx, "early"); err != nil {
		t.Fatal(err)
	}
	again, sink2 := newQueue(t, Config{Model: "v3"})
	for _, e := range sink.Events() {
		if err := again.Restore(&e); err != nil {
			t.Fatal(err)
		}
	}
	again.Restored()
	if st, err := again.Join(ctx, "late"); err != nil || st.Model != "v3" {
		t.Fatalf("joining under v3: %+v, %v; want the model said", st, err)
	}
	run(t, again)
	models := map[string]string{}
	for _, e := range append(sink.OfType(events.QueueCustomerJoined), sink2.Await(t, events.QueueCustomerExited, 2)...) {
		var c events.Customer
		if err := events.DecodeData(&e, &c); err != nil {
			t.Fatal(err)
		}
		models[e.Type+" "+c.SessionID] = c.Model
	}
	want := map[string]string{
		events.QueueCustomerJoined + " early": "v1",
		events.QueueCustomerExited + " early": "v1",
		events.QueueCustomerExited + " late":  "v3",
	}
	if !maps.Equal(models, want) {
		t.Errorf("models said %v, want %v", models, want)
	}
}

// A customer whose events say no model (an earlier example's run) leaves
// with the model SetUnsaidModel gives.
func TestUnsaidModel(t *testing.T) {
	e, err := events.Build("/test/queue", time.Now(), events.Out{Type: events.QueueCustomerJoined, ID: "joined-old", SessionID: "old", Data: events.Customer{SessionID: "old"}})
	if err != nil {
		t.Fatal(err)
	}
	s, sink := newQueue(t, Config{Model: "v3"})
	if err := s.Restore(&e); err != nil {
		t.Fatal(err)
	}
	s.SetUnsaidModel("v4")
	s.Restored()
	run(t, s)
	var c events.Customer
	exited := sink.Await(t, events.QueueCustomerExited, 1)[0]
	if err := events.DecodeData(&exited, &c); err != nil || c.Model != "v4" {
		t.Errorf("the earlier run's customer left with model %q (%v), want v4", c.Model, err)
	}
}
