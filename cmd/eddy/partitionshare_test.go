package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"eddy/api/rest"
	"eddy/internal/pgtest"
	"eddy/record"
	"eddy/storage"
)

// TestPartitionsMoveToANodeThatJoins runs nodes on one PostgreSQL with four
// partitions. The first holds all four; a second that joins gets two of
// them, and the instances the first started on those partitions go on
// there; a node that stops hands its partitions back at once, and the
// partitions of one killed move to the survivor after the claim timeout.
func TestPartitionsMoveToANodeThatJoins(t *testing.T) {
	ctx := t.Context()
	store, args := sharedStore(t, 4)
	first := startEddy(t, args...)
	firstAddr := httpAddress(t, first.waitFor(t, "eddy is ready"))
	waitForShare(t, store, map[string]int{firstAddr: 4})

	client := rest.NewClient("http://"+firstAddr, nil)
	if _, err := client.Deploy(ctx, rest.File{Name: "two-tasks.bpmn", Content: readTestdata(t, "two-tasks.bpmn")}); err != nil {
		t.Fatal(err)
	}
	var instances []rest.Key
	for range 8 { // two on each partition: creations go round the partitions
		r, err := client.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: "two-tasks"})
		if err != nil {
			t.Fatal(err)
		}
		instances = append(instances, r.ProcessInstanceKey)
	}

	second := startEddy(t, args...)
	secondAddr := httpAddress(t, second.waitFor(t, "eddy is ready"))
	owners := waitForShare(t, store, map[string]int{firstAddr: 2, secondAddr: 2})
	// Each instance is read and cancelled through the node that does not
	// hold its partition: forwarded to the holder, which loaded its state.
	clients := map[string]*rest.Client{firstAddr: client, secondAddr: rest.NewClient("http://"+secondAddr, nil)}
	for _, key := range instances {
		p := record.PartitionOf(int64(key))
		other := clients[firstAddr]
		if owners[p] == firstAddr {
			other = clients[secondAddr]
		}
		inst, err := other.Instance(ctx, key)
		if err != nil || inst.State != "ACTIVE" {
			t.Fatalf("instance %d on partition %d after the move: %+v %v", key, p, inst, err)
		}
		if err := other.CancelInstance(ctx, key); err != nil {
			t.Fatalf("cancelling instance %d on partition %d after the move: %v", key, p, err)
		}
	}

	// A clean stop hands the partitions over without waiting for the
	// claims to time out: the wait below is shorter than the timeout.
	// Instances on the second node's partitions (a node creates on its
	// own), read through the first once the second stopped: the first
	// holds them then, with their state. (A read already waiting on the
	// first when it takes the partitions over is cut short by its
	// engine's restart, so the reads follow the share.)
	var onSecond []rest.Key
	for range 4 {
		r, err := clients[secondAddr].CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: "two-tasks"})
		if err != nil {
			t.Fatal(err)
		}
		if owners[record.PartitionOf(int64(r.ProcessInstanceKey))] != secondAddr {
			t.Fatalf("instance %d created through the second node is on a partition it does not hold", r.ProcessInstanceKey)
		}
		onSecond = append(onSecond, r.ProcessInstanceKey)
	}
	second.stop(t)
	waitForShareWithin(t, store, map[string]int{firstAddr: 4}, 1500*time.Millisecond)
	first.waitFor(t, `msg="engine restarted on the held partitions" partitions=4`)
	for _, key := range onSecond {
		if inst, err := client.Instance(ctx, key); err != nil || inst.State != "ACTIVE" {
			t.Fatalf("instance %d of a partition the stopped node held: %+v %v", key, inst, err)
		}
	}

	third := startEddy(t, args...)
	thirdAddr := httpAddress(t, third.waitFor(t, "eddy is ready"))
	waitForShare(t, store, map[string]int{firstAddr: 2, thirdAddr: 2})
	third.cmd.Process.Kill()
	third.cmd.Wait()
	waitForShare(t, store, map[string]int{firstAddr: 4})
	r, err := client.CreateInstance(ctx, rest.CreateInstanceRequest{BpmnProcessID: "two-tasks"})
	if err != nil {
		t.Fatalf("creating an instance once the survivor holds every partition: %v", err)
	}
	if inst, err := client.Instance(ctx, r.ProcessInstanceKey); err != nil || inst.State != "ACTIVE" {
		t.Fatalf("the instance created after the failover: %+v %v", inst, err)
	}
	first.stop(t)
}

// sharedStore makes a PostgreSQL store of partitions partitions for the
// test to read the claims from, and returns it with the arguments of a node
// on it whose claim rounds are quick.
func sharedStore(t *testing.T, partitions int) (*storage.Store, []string) {
	t.Helper()
	dsn := pgtest.Schema(t)
	store, err := storage.Open(t.Context(), "postgres", dsn, storage.WithPartitions(partitions))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	n := fmt.Sprint(partitions)
	return store, []string{"dev", "--storage", "postgres", "--dsn", dsn, "--partitions", n, "--claim-timeout", "2s", "--http", "127.0.0.1:0", "--grpc", ""}
}

// waitForShare waits until the partition claims are held as want says
// (node address: how many), a minute at most (a guard, not a measurement),
// and returns each partition's holder's address.
func waitForShare(t *testing.T, store *storage.Store, want map[string]int) map[int]string {
	t.Helper()
	return waitForShareWithin(t, store, want, time.Minute)
}

func waitForShareWithin(t *testing.T, store *storage.Store, want map[string]int, within time.Duration) map[int]string {
	t.Helper()
	deadline := time.Now().Add(within)
	var last []storage.PartitionClaim
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		claims, err := store.Ownership().PartitionClaims(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		last = claims
		owners, counts := map[int]string{}, map[string]int{}
		for _, c := range claims {
			for addr := range want {
				if c.Owner != "" && strings.HasSuffix(c.Owner, "@http://"+addr) {
					owners[c.Partition] = addr
					counts[addr]++
				}
			}
		}
		if fmt.Sprint(counts) == fmt.Sprint(want) && len(owners) == len(claims) {
			return owners
		}
		if time.Now().After(deadline) {
			t.Fatalf("the partitions are not held as %v after %v: %+v", want, within, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDifferentClaimTimeoutsAreTold: nodes with different claim timeouts
// take each other's partitions in turn; a node says so when it sees one.
func TestDifferentClaimTimeoutsAreTold(t *testing.T) {
	_, args := sharedStore(t, 2)
	first := startEddy(t, args...)
	first.waitFor(t, "eddy is ready")
	second := startEddy(t, append(args, "--claim-timeout", "3s")...)
	// Told as it starts, before it is ready: it looks before it claims.
	line := second.waitFor(t, "another node uses another --claim-timeout")
	second.waitFor(t, "eddy is ready")
	if !strings.Contains(line, "its_claim_timeout=2s") || !strings.Contains(line, "claim_timeout=3s") {
		t.Fatalf("the warning does not name both timeouts: %s", line)
	}
	second.stop(t)
	first.stop(t)
}
