package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"eddy/engine"
	"eddy/internal/pgtest"
	"eddy/record"
)

// startEndProcess is a process of one start and one end event: each id
// makes a new deployment.
func startEndProcess(id string) record.Resource {
	xml := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d-%[1]s" targetNamespace="http://eddy.test">
  <process id="%[1]s" isExecutable="true">
    <startEvent id="start"><outgoing>f1</outgoing></startEvent>
    <endEvent id="end"><incoming>f1</incoming></endEvent>
    <sequenceFlow id="f1" sourceRef="start" targetRef="end" />
  </process>
</definitions>`, id)
	return record.Resource{Name: id + ".bpmn", Content: []byte(xml)}
}

// TestDeployReachesEveryNodeBeforeAnswering: once a deploy answered on
// one node, an instance of it can be created at once on any node, whatever
// partition it lands on. Node a owns partitions 0 and 1, b owns 2, c none;
// each round deploys a new process through one of them and creates it
// right away through a and b (a alternates between its partitions, b
// always uses partition 2).
func TestDeployReachesEveryNodeBeforeAnswering(t *testing.T) {
	dsn := pgtest.Schema(t)
	a := startNode(t, dsn, "a", []int{0, 1}, "")
	b := startNode(t, dsn, "b", []int{2}, "")
	c := startNode(t, dsn, "c", nil, "")
	ctx := t.Context()
	deployers := []struct {
		name string
		node *node
	}{{"a", a}, {"b", b}, {"c", c}}
	for round := range 60 {
		d := deployers[round%len(deployers)]
		id := fmt.Sprintf("p%d", round)
		if _, err := d.node.engine.Deploy(ctx, startEndProcess(id)); err != nil {
			t.Fatalf("round %d: deploy through %s: %v", round, d.name, err)
		}
		for _, creator := range []struct {
			name string
			node *node
		}{{"b", b}, {"a", a}} {
			r, err := creator.node.engine.CreateInstance(ctx, engine.CreateRequest{BpmnProcessID: id})
			if err != nil {
				t.Fatalf("round %d: deployed through %s, created through %s right after: %v", round, d.name, creator.name, err)
			}
			if creator.node == b && record.PartitionOf(r.Key) != 2 {
				t.Fatalf("round %d: b created on partition %d, not its own", round, record.PartitionOf(r.Key))
			}
		}
	}
}

// TestDeployWithAPartitionWithoutLiveOwner: a partition nobody can serve
// (no owner, or an owner that is gone) does not hold a deploy past its
// request's deadline: the deploy answers success in time, with the
// distribution to that partition pending; the partition gets the
// deployment from its log once a node takes it.
func TestDeployWithAPartitionWithoutLiveOwner(t *testing.T) {
	cases := []struct {
		name string
		// orphan leaves partition 2 without a live owner and returns a
		// function that frees its claim.
		orphan func(t *testing.T, a *node) func()
	}{
		{"never claimed", func(*testing.T, *node) func() { return func() {} }},
		{"owner gone", func(t *testing.T, a *node) func() {
			gone := httptest.NewServer(http.NotFoundHandler())
			owner, _ := Owner("gone", gone.URL)
			gone.Close()
			claim, err := a.store.Ownership().ClaimPartition(t.Context(), 2, owner, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return func() {
				if err := a.store.Ownership().ReleasePartition(t.Context(), claim); err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dsn := pgtest.Schema(t)
			a := startNode(t, dsn, "a", []int{0, 1}, "")
			release := tc.orphan(t, a)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			dep, err := a.engine.Deploy(ctx, startEndProcess("orphaned"))
			if err != nil {
				t.Fatalf("deploy with partition 2 unserved: %v", err)
			}
			if ctx.Err() != nil {
				t.Fatal("the deploy answered after its request's deadline")
			}
			if len(dep.Value.Processes) != 1 {
				t.Fatalf("deployment: %+v", dep.Value)
			}
			for range 2 { // both of a's partitions have it
				if _, err := a.engine.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "orphaned"}); err != nil {
					t.Fatalf("create on a's partitions: %v", err)
				}
			}
			// A node taking partition 2 reads the deployment from
			// partition 0's log: it is complete, eventually.
			release()
			b := startNode(t, dsn, "b", []int{2}, "")
			deadline := time.Now().Add(20 * time.Second) // a guard, not a measurement
			for {
				_, err := b.engine.CreateInstance(t.Context(), engine.CreateRequest{BpmnProcessID: "orphaned"})
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("create on partition 2 once b owns it: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestOwnerWithoutTheEndpoint: a node of an older version answers the wait
// for definitions with a plain 404; the deploy must not wait on it.
func TestOwnerWithoutTheEndpoint(t *testing.T) {
	dsn := pgtest.Schema(t)
	a := startNode(t, dsn, "a", []int{0, 1}, "")
	old := httptest.NewServer(http.NotFoundHandler())
	defer old.Close()
	owner, _ := Owner("old", old.URL)
	if _, err := a.store.Ownership().ClaimPartition(t.Context(), 2, owner, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := NewPeers(a.store, nil, "").AwaitDefinitions(t.Context(), 2, []int64{record.Key(0, 1)}, time.Second)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("waiting at an owner without the endpoint: %v, want errors.ErrUnsupported", err)
	}
}
